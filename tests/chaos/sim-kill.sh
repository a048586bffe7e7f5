#!/bin/bash
# Chaos: SIGKILL the sim under load and start it again.  The clients lose
# their room; gs-loadgen reconnects them, they join the new sim's rooms
# and play again.  SLO: every loss recovered, every client served.
. "$(dirname "$0")/../lib.sh"
N=${GS_CHAOS_CLIENTS:-20}
stack
chaos_load "$N"
wait_for "$N players on the sim" 60 players_are "ipc://$T/sim.ctl" "$N"

kill9 sim
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
# Back: the new sim has every client again, each playing.
wait_for "$N players on the new sim" 60 players_are "ipc://$T/sim.ctl" "$N"
wait_for "$N playing clients on the gateway" 30 players_are "ipc://$T/gw.ctl" "$N"

chaos_verdict sim-kill "$N"
stop gw
stop sim
