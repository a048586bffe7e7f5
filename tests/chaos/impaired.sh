#!/bin/bash
# Chaos: clients on a bad network (1-3 % loss, 40-120 ms RTT) while the
# sim is killed and restarted.  Small scale for make test; the SLO here
# only asks that every client is served and every loss recovered, since
# latency figures belong to benchmarks, not to pass/fail tests.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-10}
stack
SIM=(-i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl")

"$B/gs-loadgen" -u "$URL" -n "$N" -p 5 -d 10m -q -j \
    -I 'loss=1%..3%,delay=20ms..60ms,jitter=5ms' \
    --slo 'reconnect>99%,served>=100%' >"$T/lg.json" 2>"$T/lg.log" &
lg=$!
wait_for "$N players" 60 players_are "ipc://$T/sim.ctl" "$N"
kill9 sim
start sim "$B/gs-sim" "${SIM[@]}"
wait_for "$N players on the new sim" 60 players_are "ipc://$T/sim.ctl" "$N"

kill -INT $lg
wait $lg; rc=$?
[ "$rc" -eq 0 ] || { cat "$T/lg.json"; die "gs-loadgen: SLO missed (exit $rc)"; }
echo "impaired: ok"
stop gw
stop sim
