#!/bin/bash
# Metrics agree with what the clients measured.  With no impairment,
# gs-loadgen's count of snapshots received must match the snapshots
# gs-sim says it sent and gs-gateway says it forwarded:
#   received <= forwarded <= sent, and
#   sent - received <= 2 % of sent + 3 per client
# (the slack is what is still in flight when the clients hang up: the
# sim keeps sending until it has processed each client's leave).
. "$(dirname "$0")/../lib.sh"
stack
N=20

"$B/gs-loadgen" -u "$URL" -n $N -p 5 -d 3s -q -j >"$T/lg.json" 2>"$T/lg.log" \
    || die "gs-loadgen exited $?"
# The clients are gone once the sim has no players left.
wait_for "the sim to see every client leave" 30 players_are "ipc://$T/sim.ctl" 0

got=$(json "$T/lg.json" 'sum(c["snapshots"] for c in j["per_client"])')
sent=$(metric "ipc://$T/sim.ctl" gs_sim_snapshots_sent_total)
fwd=$(metric "ipc://$T/gw.ctl" 'gs_gateway_messages_out_total{kind="snapshot"}')
dropped=$(metric "ipc://$T/gw.ctl" gs_gateway_state_drops_total)
echo "snapshots: sim sent $sent, gateway forwarded $fwd (dropped $dropped), clients received $got"
[ -n "$sent" ] && [ -n "$fwd" ] && [ -n "$got" ] || die "a figure is missing"
[ "$got" -le "$fwd" ] || die "clients received more than the gateway forwarded"
[ "$fwd" -le "$sent" ] || die "the gateway forwarded more than the sim sent"
[ "$got" -gt 0 ] || die "no snapshots"
slack=$((sent / 50 + 3 * N))
[ $((sent - got)) -le "$slack" ] || die "sent $sent vs received $got: more than $slack apart"
[ "$dropped" = 0 ] || die "the gateway dropped $dropped state frames with no impairment"

stop gw
stop sim
echo "agreement: ok"
