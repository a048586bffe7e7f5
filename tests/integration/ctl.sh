#!/bin/bash
# gs-ctl's errors: no daemon, unknown room, unknown command, bad usage.
. "$(dirname "$0")/../lib.sh"

out=$("$B/gs-ctl" -c "ipc://$T/nobody.ctl" -t 500 status 2>&1); rc=$?
[ "$rc" -eq 1 ] || die "no daemon: exit $rc, want 1 ($out)"
case "$out" in *"ipc://$T/nobody.ctl"*) ;; *) die "no daemon: message lacks the address: $out" ;; esac

start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
out=$("$B/gs-ctl" -c "ipc://$T/sim.ctl" room no-such-room 2>&1); rc=$?
[ "$rc" -eq 1 ] || die "unknown room: exit $rc ($out)"
case "$out" in *no-such-room*) ;; *) die "unknown room: unclear message: $out" ;; esac
out=$("$B/gs-ctl" -c "ipc://$T/sim.ctl" frobnicate 2>&1); rc=$?
[ "$rc" -eq 1 ] || die "unknown command: exit $rc ($out)"
"$B/gs-ctl" -c "ipc://$T/sim.ctl" room >/dev/null 2>&1; rc=$?
[ "$rc" -eq 100 ] || die "room without an id: exit $rc, want 100"
"$B/gs-ctl" -c "ipc://$T/sim.ctl" -j status >"$T/st.json" || die "status"
[ "$(json "$T/st.json" 'j["prog"]')" = gs-sim ] || die "status: $(cat "$T/st.json")"
"$B/gs-ctl" -c "ipc://$T/sim.ctl" metrics | grep -q '^# TYPE gs_sim_' || die "metrics"

# Garbage on the control socket: the daemon answers with an error and
# keeps serving.
printf '\xc1\xc1garbage' | nngcat --req --dial "ipc://$T/sim.ctl" --file - \
    --recv-timeout 5 >"$T/garbage.out" 2>&1
"$B/gs-ctl" -c "ipc://$T/sim.ctl" status >/dev/null || die "sim stopped serving after garbage"
stop sim
echo "ctl: ok"
