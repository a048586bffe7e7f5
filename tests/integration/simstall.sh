#!/bin/bash
# A sim that stops answering (SIGSTOP): with a short sim timeout the
# gateway takes it for dead and closes its clients with error
# unavailable (7), which tells them to reconnect.  After SIGCONT the
# gateway hears the sim again, and a new client joins and plays.
# The timeout is 2 s, twice the sim's heartbeat period: at 1 s a sim
# with no players, or a loaded test host, can miss it while alive.
. "$(dirname "$0")/../lib.sh"
NCLIENTS=3
stack -t 2s
# A stopped sim would not hear the SIGTERM of the cleanup.
trap '[ -n "${GS_PID[sim]:-}" ] && kill -CONT "${GS_PID[sim]}"; gs_cleanup' EXIT
gw=ipc://$T/gw.ctl

# sim_down BOOL: the gateway's view of its sim (gs-ctl sims).
sim_down() {
	"$B/gs-ctl" -c "$gw" -j sims >"$T/sims.json" 2>/dev/null &&
	    [ "$(json "$T/sims.json" 'j[0]["down"]')" = "$1" ]
}
# all_say ERE: each client's output has a line starting with ERE.
all_say() {
	local i
	for ((i = 1; i <= NCLIENTS; i++)); do
		grep -qE "^($1)" "$T/c$i.out" || return 1
	done
}

for ((i = 1; i <= NCLIENTS; i++)); do
	$PY "$(dirname "$0")/player.py" "$URL" stall "p$i" stay \
	    >"$T/c$i.out" 2>&1 &
	GS_PID[c$i]=$!
done
wait_for "$NCLIENTS clients playing" 30 all_say playing

kill -STOP "${GS_PID[sim]}"
wait_for "the clients to be closed" 30 all_say 'error|closed|FAIL'
for ((i = 1; i <= NCLIENTS; i++)); do
	wait "${GS_PID[c$i]}" || die "client $i: $(cat "$T/c$i.out")"
	unset "GS_PID[c$i]"
	grep -qx "error 7 .*" "$T/c$i.out" ||
	    die "client $i, want error 7 (unavailable): $(cat "$T/c$i.out")"
done
[ "$(metric "$gw" gs_gateway_sim_silent_total)" -ge 1 ] ||
    die "gs_gateway_sim_silent_total did not count the silence"
sim_down True || die "the gateway does not show the sim down"

kill -CONT "${GS_PID[sim]}"
wait_for "the gateway to hear the sim again" 30 sim_down False
$PY "$(dirname "$0")/player.py" "$URL" stall again 30 >"$T/again.out" 2>&1 ||
    die "after SIGCONT: $(cat "$T/again.out")"

stop gw
stop sim
echo "simstall: ok"
