#!/bin/bash
# Input acknowledgement end to end: a client sends inputs 1..N, one
# message a tick, each repeating the inputs before it (gs-protocol(7)).
# Its snapshots' ack must reach N and never go back, nor pass what was
# sent (tests/integration/player.py checks each snapshot); the sim must
# have applied each input once and dropped the repeats as old.
. "$(dirname "$0")/../lib.sh"
N=90
stack

$PY "$(dirname "$0")/player.py" "$URL" acks ann "$N" >"$T/player.out" 2>&1 ||
    die "player.py: $(cat "$T/player.out")"
grep -qx "acked $N in [0-9]* snapshots" "$T/player.out" ||
    die "player.py: $(cat "$T/player.out")"

# Every input was taken once: applied, or skipped as a burst or a
# standing queue (acknowledged unapplied); the repeats were old.
sim=ipc://$T/sim.ctl
applied=$(metric "$sim" gs_sim_inputs_applied_total)
behind=$(metric "$sim" 'gs_sim_inputs_dropped_total{reason="behind"}')
old=$(metric "$sim" 'gs_sim_inputs_dropped_total{reason="old"}')
[ $((applied + behind)) -eq "$N" ] ||
    die "applied $applied + skipped $behind inputs, want $N"
[ "$old" -gt 0 ] || die "no repeated input was dropped as old"

stop gw
stop sim
echo "ack: ok"
