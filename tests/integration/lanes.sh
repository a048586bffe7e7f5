#!/bin/bash
# The lanes (gs-protocol(7)): a client that stops reading loses
# snapshots, never events.  Its gateway queue (-q 8) fills and drops
# the oldest snapshots; meanwhile other players join and leave its room,
# so the sim sends it reliable joined and left events.  Each of those
# must either be queued or close the client with "slow": none may be
# dropped for a full queue.  Guards the sim's lane for events and the
# gateway queue's rule together.
. "$(dirname "$0")/../lib.sh"
# A small kernel send buffer (-B): the gateway's socket fills in a
# second, not in minutes of autotuned megabytes.
stack -q 8 -B 4096

$PY "$(dirname "$0")/slowreader.py" 127.0.0.1 "$PORT" lanes \
    "$T/slow.ready" "$T/slow.go" >"$T/slow.out" 2>&1 &
slow=$!
GS_PID[slowreader]=$slow	# killed by the cleanup if the test fails
wait_for "the slow reader's hello" 30 test -e "$T/slow.ready"
wait_for "the slow reader to play" 30 players_are "ipc://$T/gw.ctl" 1

# The queue is under pressure: snapshots for the slow reader dropped.
drops() { [ "$(metric "ipc://$T/gw.ctl" gs_gateway_state_drops_total)" -ge "$1" ]; }
wait_for "snapshots dropped for the slow reader" 60 drops 1

# Players come and go in its room while it does not read: each join
# and leave is an event for it.  Wait until the sim has sent them.
ev0=$(metric "ipc://$T/sim.ctl" gs_sim_events_sent_total)
"$B/gs-loadgen" -u "$URL" -n 3 -R lanes -d 2s -q -j >"$T/lg1.json" 2>"$T/lg.log" ||
    die "gs-loadgen exited $?"
"$B/gs-loadgen" -u "$URL" -n 3 -R lanes -d 1s -q -j >"$T/lg2.json" 2>>"$T/lg.log" ||
    die "gs-loadgen exited $?"
ev1=$(metric "ipc://$T/sim.ctl" gs_sim_events_sent_total)
[ $((ev1 - ev0)) -ge 12 ] || die "only $((ev1 - ev0)) events sent"
# Either the events overflowed the queue and closed it with "slow",
# or snapshots keep coming behind them, so that an event taken for
# state would be pushed out of the full queue by them.
d0=$(metric "ipc://$T/gw.ctl" gs_gateway_state_drops_total)
settled() {
	[ "$(metric "ipc://$T/gw.ctl" gs_gateway_slow_closes_total)" -ge 1 ] ||
	    drops $((d0 + 20))
}
wait_for "a slow close or more snapshots dropped" 60 settled

full=$(metric "ipc://$T/gw.ctl" \
    'gs_gateway_messages_dropped_total{kind="event",reason="full"}')
[ "${full:-0}" = 0 ] || die "$full events dropped from a full queue"

touch "$T/slow.go"
wait $slow || die "slow reader: $(cat "$T/slow.out")"
unset "GS_PID[slowreader]"
# What it read: the welcome, then either every event or "slow".
grep -q '^kind 2 1$' "$T/slow.out" || die "no welcome: $(cat "$T/slow.out")"
if ! grep -q '^error 8$' "$T/slow.out"; then
	n=$(awk '$1 == "kind" && $2 == 7 { print $3 }' "$T/slow.out")
	# Its own joined event, then 6 joins and 6 leaves.
	[ "${n:-0}" -ge 13 ] || die "events lost: $(cat "$T/slow.out")"
fi

stop gw
stop sim
echo "lanes: ok"
