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

# JSON for values JSON cannot hold as they are (gs-ctl(1), JSON): a
# canned answer from nngcat as the daemon, read back by Python's parser.
$PY - "$T/reply.mp" <<'PY'
import msgpack, sys
p = msgpack.Packer(use_bin_type=True)
items = [
    ("big", 2**64 - 1), ("safe", 2**53 - 1), ("neg", -2**63),
    ("bin", b"\x00\x01\xfe"), ("nan", float("nan")), ("inf", float("-inf")),
    (1, "int key"), (None, "nil key"), ((1, 2), "array key"),
    ("ext", msgpack.ExtType(5, b"xy")),
]
out = p.pack_array_header(2) + p.pack(0) + p.pack_map_header(len(items) + 1)
for k, v in items:
    out += p.pack(k) + p.pack(v)
out += p.pack("bad_utf8") + b"\xa4\xff\xfeok"    # not UTF-8
open(sys.argv[1], "wb").write(out)
PY
nngcat --rep --listen "ipc://$T/fake.ctl" --file "$T/reply.mp" 2>"$T/fake.log" &
GS_PID[fake]=$!
wait_for "the fake daemon" 10 "$B/gs-ctl" -c "ipc://$T/fake.ctl" status
"$B/gs-ctl" -c "ipc://$T/fake.ctl" -j status >"$T/tricky.json" || die "tricky: gs-ctl failed"
[ "$(json "$T/tricky.json" 'ascii([j["big"], j["safe"], j["neg"], j["bin"],
    j["nan"], j["inf"], j["1"], j["null"], j["[1,2]"], j["ext"], j["bad_utf8"]])')" = \
    "['18446744073709551615', 9007199254740991, '-9223372036854775808', 'AAH+', None, None, 'int key', 'nil key', 'array key', None, '\ufffd\ufffdok']" ] ||
    die "tricky values: $(cat "$T/tricky.json")"
# Several daemons, one not running: one object, null for the failure.
"$B/gs-ctl" -j -c "ipc://$T/fake.ctl" -c "ipc://$T/nobody.ctl" status \
    >"$T/two.json" 2>/dev/null; rc=$?
[ "$rc" -eq 1 ] || die "two daemons, one down: exit $rc, want 1"
[ "$(json "$T/two.json" "[j['ipc://$T/fake.ctl']['big'], j['ipc://$T/nobody.ctl']]")" = \
    "['18446744073709551615', None]" ] || die "two daemons: $(cat "$T/two.json")"
# GS_CTL may name several daemons; GS_CTL_TIMEOUT is checked like -t.
GS_CTL="ipc://$T/fake.ctl, ipc://$T/nobody.ctl" "$B/gs-ctl" -j status \
    >"$T/env.json" 2>/dev/null
[ "$(json "$T/env.json" "len(j)")" = 2 ] || die "GS_CTL list: $(cat "$T/env.json")"
GS_CTL_TIMEOUT=0 "$B/gs-ctl" -c "ipc://$T/fake.ctl" status >/dev/null 2>&1; rc=$?
[ "$rc" -eq 100 ] || die "GS_CTL_TIMEOUT=0: exit $rc, want 100"
echo "ctl: ok"
