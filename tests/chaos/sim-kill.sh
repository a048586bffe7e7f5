#!/bin/bash
# Chaos: SIGKILL the sim under load and start it again.  The clients lose
# their room; gs-loadgen reconnects them, they join the new sim's rooms
# and play again.  SLO: every loss recovered, every client served.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-20}
stack
SIM=(-i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl")

"$B/gs-loadgen" -u "$URL" -n "$N" -p 5 -d 10m -q -j \
    --slo 'reconnect>99%,served>=100%' >"$T/lg.json" 2>"$T/lg.log" &
lg=$!
wait_for "$N players on the sim" 60 players_are "ipc://$T/sim.ctl" "$N"

kill9 sim
start sim "$B/gs-sim" "${SIM[@]}"
# Back: the new sim has every client again, each playing.
wait_for "$N players on the new sim" 60 players_are "ipc://$T/sim.ctl" "$N"
wait_for "$N playing clients on the gateway" 30 players_are "ipc://$T/gw.ctl" "$N"

kill -INT $lg
wait $lg; rc=$?
[ "$rc" -eq 0 ] || { cat "$T/lg.json"; die "gs-loadgen: SLO missed (exit $rc)"; }
losses=$(json "$T/lg.json" 'j["reconnect"]["losses"]')
[ "$losses" -ge "$N" ] || die "only $losses losses recorded for $N clients"
echo "sim-kill: $losses losses, all recovered"
stop gw
stop sim
