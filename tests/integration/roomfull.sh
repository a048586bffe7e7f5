#!/bin/bash
# gs-protocol(7), "Reconnecting": after roomfull the same hello would
# fail again, so a client must not retry it.  Rooms of 2 (gs-sim -P 2)
# and three gs-loadgen clients in one room: two play, the third gets
# roomfull once, gives up, and never connects again.
. "$(dirname "$0")/../lib.sh"
PORT=$(free_port)
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -P 2
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
URL="ws://127.0.0.1:$PORT/"

# A client that got no snapshot makes the exit status 1 (gs-loadgen(1)).
# Three seconds leave room for several retries at gs-loadgen's backoff
# (100 ms doubling), had it retried.
"$B/gs-loadgen" -u "$URL" -n 3 -p 3 -r 0 -d 3s -q -j >"$T/lg.json" \
    2>"$T/lg.log"
rc=$?
[ "$rc" -eq 1 ] || { cat "$T/lg.json"; die "gs-loadgen exited $rc, want 1"; }
[ "$(json "$T/lg.json" 'j["welcomed"]')" = 2 ] || die "want 2 welcomed"
[ "$(json "$T/lg.json" 'j["errors"].get("roomfull", 0)')" = 1 ] ||
    die "want exactly one roomfull: $(json "$T/lg.json" 'j["errors"]')"
[ "$(json "$T/lg.json" 'sum(1 for c in j["per_client"] if c["fail"] and "roomfull" in c["fail"])')" = 1 ] ||
    die "no client failed with roomfull: $(json "$T/lg.json" '[c["fail"] for c in j["per_client"]]')"

# One connection and one JOIN per client: the refused hello was not
# repeated.
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_connections_total)" = 3 ] ||
    die "gateway saw $(metric "ipc://$T/gw.ctl" gs_gateway_connections_total) connections, want 3"
[ "$(metric "ipc://$T/sim.ctl" gs_sim_rejects_total)" = 1 ] ||
    die "sim refused $(metric "ipc://$T/sim.ctl" gs_sim_rejects_total) joins, want 1"

stop gw
stop sim
echo "roomfull: ok"
