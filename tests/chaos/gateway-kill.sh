#!/bin/bash
# Chaos: SIGKILL the gateway under load and start it again on the same
# port and inbox.  The sim drops the dead gateway's players; the clients
# reconnect to the new gateway and play again.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-20}
stack
chaos_load "$N"
wait_for "$N playing clients" 60 players_are "ipc://$T/gw.ctl" "$N"

kill9 gw
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
wait_for "$N playing clients on the new gateway" 60 players_are "ipc://$T/gw.ctl" "$N"
# The sim has exactly the new gateway's players: the old ones are gone.
wait_for "the sim to hold exactly $N players" 30 players_are "ipc://$T/sim.ctl" "$N"

chaos_verdict gateway-kill "$N"
stop gw
stop sim
