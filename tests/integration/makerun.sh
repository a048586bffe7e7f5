#!/bin/bash
# make run stops cleanly on Ctrl-C.  A terminal's Ctrl-C sends SIGINT to
# its whole foreground process group.  Twice: scripts/run in a process
# group of its own that gets SIGINT, and `make run` itself on a
# pseudo-terminal where Ctrl-C is typed, as a user would.  Each time
# the exit status must be 0 with "gs: stopped", no daemon reported as
# failed, each daemon's graceful end logged, no second signal cutting
# it short and no sanitizer report.
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

# check WHAT RC LOG: the verdict on one stop.
check() {
	local what=$1 rc=$2 log=$3
	echo "--- $what said:"
	cat "$log"
	echo "---"
	[ "$rc" -eq 0 ] || die "$what exited $rc after SIGINT, want 0"
	grep -q '^gs: stopped$' "$log" || die "$what: no 'gs: stopped'"
	! grep -qE 'exited with status|ended on its own' "$log" ||
	    die "$what: a daemon was reported as failed"
	! grep -qE 'Sanitizer|runtime error' "$log" || die "$what: sanitizer report"
	# One signal each: a second one makes a daemon cut its exit short.
	! grep -qE 'again|exiting now|finishing now' "$log" ||
	    die "$what: a daemon got a second signal"
	grep -qE '^gs-gateway\[[0-9]+\]: info: stopped' "$log" ||
	    die "$what: gs-gateway did not log its graceful end"
	grep -qE '^gs-sim\[[0-9]+\]: info: (stopped|exit)( |$)' "$log" ||
	    die "$what: gs-sim did not log its graceful end"
	grep -qE '^gs-persist\[[0-9]+\]: info: exit$' "$log" ||
	    die "$what: gs-persist did not log its graceful end"
	[ "$(grep -c 'signal=INT\|signal=2' "$log")" -ge 3 ] ||
	    die "$what: the daemons did not all see the SIGINT"
}

GS_PORT=$(free_port_run)
export GS_RUN="$T/run" GS_PORT

# setsid(1) cannot undo an ignored SIGINT, which a shell without job
# control gives its background commands, and bash cannot trap a signal
# ignored at entry: start scripts/run as a terminal would, with SIGINT
# at its default, as the leader of a new process group.
$PY -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execv(sys.argv[1], sys.argv[1:])' "$top/scripts/run" "$GS_BUILD" \
    </dev/null >"$T/run.log" 2>&1 &
run=$!
GS_PID[run]=$run	# lib.sh's cleanup stops it if we die early

wait_for "scripts/run to start the daemons" 60 grep -q '^gs is running' "$T/run.log"
# The guest login it prints works, and its token plays.
grep -q "curl -s -d '{\"device\":\"my-laptop\"}' http://127.0.0.1:$GS_PORT/v1/auth/guest" \
    "$T/run.log" || die "make run does not print the guest login"
PYTHONPATH="$(dirname "$0")" $PY - "$GS_PORT" >"$T/guest.json" <<'PY' || die "guest login on make run's stack"
import json, sys
from api import Api
print(json.dumps(Api(int(sys.argv[1])).ok("POST", "/v1/auth/guest",
                                          {"device": "my-laptop"})))
PY
PLAYER_TOKEN=$(json "$T/guest.json" 'j["access"]') $PY "$(dirname "$0")/player.py" \
    "ws://127.0.0.1:$GS_PORT/" r1 x 10 >"$T/player.out" 2>&1 ||
    die "a player with make run's token: $(cat "$T/player.out")"
kill -INT -- "-$run" || die "kill -INT -$run"
# Bounded, so that a script that hangs fails the test instead.
gone() { ! kill -0 "$run" 2>/dev/null; }
wait_for "scripts/run to exit after SIGINT" 60 gone
wait "$run"; rc=$?
unset "GS_PID[run]"

check scripts/run "$rc" "$T/run.log"

# make run on a terminal: make must not be interrupted itself.  It
# builds nothing here (the tests' build is up to date; SAN=1 keeps its
# flags) and installs nothing (deps-run finds every package).
GS_PORT=$(free_port_run)
case $GS_BUILD in
"$top"/*) build=${GS_BUILD#"$top"/} ;;
*) build=$GS_BUILD ;;
esac
$PY "$(dirname "$0")/ctrlc.py" "$T/make.log" "Ctrl-C stops it" \
    make -s -C "$top" run BUILD="$build" SAN=1 >"$T/ctrlc.out" 2>&1
rc=$?
cat "$T/ctrlc.out"
check "make run" "$rc" "$T/make.log"
echo "makerun: ok"
