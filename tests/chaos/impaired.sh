#!/bin/bash
# Chaos: clients on a bad network (1-3 % loss, 40-120 ms RTT) while the
# sim is killed and restarted.  Small scale for make test; the SLO only
# asks that every client is served and every loss recovered: latency
# figures belong to benchmarks, not to pass/fail tests.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-10}
stack
chaos_load "$N" -I 'loss=1%..3%,delay=20ms..60ms,jitter=5ms'
wait_for "$N players" 60 players_are "ipc://$T/sim.ctl" "$N"

kill9 sim
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
wait_for "$N players on the new sim" 60 players_are "ipc://$T/sim.ctl" "$N"

chaos_verdict impaired "$N"
stop gw
stop sim
