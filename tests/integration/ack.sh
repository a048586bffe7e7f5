#!/bin/bash
# Input acknowledgement end to end: a client sends inputs 1..N, one
# message a tick, each repeating the inputs before it (gs-protocol(7)).
# Its snapshots' ack must reach N and never go back, nor pass what was
# sent (tests/integration/player.py checks each snapshot); the sim must
# have applied each input once: the gateway skips the repeats, so none
# reaches the sim.
. "$(dirname "$0")/../lib.sh"
N=90
stack

$PY "$(dirname "$0")/player.py" "$URL" acks ann "$N" >"$T/player.out" 2>&1 ||
    die "player.py: $(cat "$T/player.out")"
grep -qx "acked $N in [0-9]* snapshots" "$T/player.out" ||
    die "player.py: $(cat "$T/player.out")"

# Every input was taken once: applied, or skipped as a burst or a
# standing queue (acknowledged unapplied).  The repeats stopped at the
# gateway: the sim saw N inputs and no old one.
sim=ipc://$T/sim.ctl
applied=$(metric "$sim" gs_sim_inputs_applied_total)
behind=$(metric "$sim" 'gs_sim_inputs_dropped_total{reason="behind"}')
old=$(metric "$sim" 'gs_sim_inputs_dropped_total{reason="old"}')
received=$(metric "$sim" gs_sim_inputs_received_total)
skipped=$(metric "ipc://$T/gw.ctl" gs_gateway_inputs_skipped_total)
[ $((applied + behind)) -eq "$N" ] ||
    die "applied $applied + skipped $behind inputs, want $N"
[ "$received" -eq "$N" ] && [ "$old" -eq 0 ] ||
    die "the sim received $received inputs ($old old), want $N (0 old)"
[ "$skipped" -ge "$N" ] || die "the gateway skipped $skipped repeats"

stop gw
stop sim
echo "ack: ok"
