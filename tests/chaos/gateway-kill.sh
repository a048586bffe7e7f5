#!/bin/bash
# Chaos: SIGKILL the gateway under load and start it again on the same
# port and inbox.  The sim drops the dead gateway's players; the clients
# reconnect to the new gateway and play again.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-20}
stack
GW=(-D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" -s "ipc://$T/sim.in"
    -c "ipc://$T/gw.ctl")

"$B/gs-loadgen" -u "$URL" -n "$N" -p 5 -d 10m -q -j \
    --slo 'reconnect>99%,served>=100%' >"$T/lg.json" 2>"$T/lg.log" &
lg=$!
wait_for "$N playing clients" 60 players_are "ipc://$T/gw.ctl" "$N"

kill9 gw
start gw "$B/gs-gateway" "${GW[@]}"
wait_for "$N playing clients on the new gateway" 60 players_are "ipc://$T/gw.ctl" "$N"
# The sim has exactly the new gateway's players: the old ones are gone.
wait_for "the sim to hold exactly $N players" 30 players_are "ipc://$T/sim.ctl" "$N"

kill -INT $lg
wait $lg; rc=$?
[ "$rc" -eq 0 ] || { cat "$T/lg.json"; die "gs-loadgen: SLO missed (exit $rc)"; }
losses=$(json "$T/lg.json" 'j["reconnect"]["losses"]')
[ "$losses" -ge "$N" ] || die "only $losses losses recorded for $N clients"
echo "gateway-kill: $losses losses, all recovered"
stop gw
stop sim
