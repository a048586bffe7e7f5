# Readiness without sleeping (bash; sourced by scripts/run and tests).
#
# ready_start FIFO PROG ARGS...: start PROG ARGS -n 3 in the background
# with fd 3 on the fifo FIFO, and wait until the daemon writes its
# readiness line (gs(7)).  Sets READY_PID.  Returns non-zero if the
# daemon exited, or said nothing within 20 s, first.  Redirections on
# the call (2>log) apply to the daemon.
ready_start() {
	local fifo=$1 line fd rc; shift
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	"$@" -n 3 3>"$fifo" &
	READY_PID=$!
	exec {fd}<"$fifo"
	read -r -t 20 -u "$fd" line; rc=$?
	exec {fd}<&-
	rm -f "$fifo"
	return $rc
}
