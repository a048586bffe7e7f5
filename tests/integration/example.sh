#!/bin/bash
# The Python client in the EXAMPLES of gs-protocol(7), taken from the
# page as a reader sees it (mandoc), plays against a real stack and
# follows the page's rules: one input message per tick at the tick rate
# from welcome (not one per snapshot: snapshots come at a sixth of the
# tick rate here), each repeating the inputs before it, every input taken
# by the sim, bye at the end, exit 0.  Against a gateway that wants a
# token it reports the fatal error and exits 1.  So the page's example
# cannot rot.
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

man_example "$top/man/gs-protocol.7" "A complete client in Python" \
    "$T/client.py"
$PY -c 'import sys; compile(open(sys.argv[1]).read(), "client.py", "exec")' \
    "$T/client.py" || die "the example client does not compile"

PORT=$(free_port)
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -t 30 -s 5
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
URL="ws://127.0.0.1:$PORT/"

timeout 60 $PY "$T/client.py" "$URL" ann example 3 >"$T/client.out" 2>&1
rc=$?
cat "$T/client.out"
[ "$rc" -eq 0 ] || die "the example client exited $rc, want 0"
grep -q '^joined: [0-9]* ann$' "$T/client.out" || die "no joined event for itself"
grep -q '^tick [0-9]* ack [1-9][0-9]* at ' "$T/client.out" || die "no snapshot with an ack"

# need CTL NAME: a metric's value, which must exist.
need() {
	local v
	v=$(metric "$1" "$2")
	[ -n "$v" ] || { echo "no metric $2" >&2; return 1; }
	echo "$v"
}
gw() { need "ipc://$T/gw.ctl" "gs_gateway_messages_in_total{kind=\"$1\"}"; }
sim() { need "ipc://$T/sim.ctl" "$1"; }
gw_skipped() { need "ipc://$T/gw.ctl" gs_gateway_inputs_skipped_total; }
msgs=$(gw input) &&
inputs=$(sim gs_sim_inputs_received_total) &&
applied=$(sim gs_sim_inputs_applied_total) &&
behind=$(sim 'gs_sim_inputs_dropped_total{reason="behind"}') &&
snaps=$(sim gs_sim_snapshots_sent_total) || die "a metric is missing"
echo "input messages $msgs, inputs $inputs, applied $applied," \
    "skipped $behind, snapshots $snaps"
[ "$(gw hello)" = 1 ] && [ "$(gw bye)" = 1 ] || die "want one hello and one bye"
[ "$msgs" -ge 10 ] || die "only $msgs input messages"
# At the tick rate, not at the snapshot rate (6 times lower).
[ "$msgs" -ge $((3 * snaps)) ] ||
    die "$msgs input messages for $snaps snapshots: not one per tick"
# Each message repeats the inputs before it: 1, 2, then 3 each; the
# gateway forwards each input once and skips the repeats.
skipped=$(gw_skipped) || die "a metric is missing"
[ "$inputs" -le "$msgs" ] && [ "$skipped" -ge $((2 * msgs - 3)) ] ||
    die "$inputs inputs reached the sim from $msgs messages, $skipped skipped: repeats not carried or not skipped"
# Every input but the last few was taken, applied or skipped.
[ $((applied + behind)) -ge $((msgs - 3)) ] ||
    die "only $((applied + behind)) of $msgs inputs taken"

# A fatal error: reported, exit 1.
PORT2=$(free_port)
start gw2 "$B/gs-gateway" -H "127.0.0.1:$PORT2" -i "ipc://$T/gw2.in" \
    -s "ipc://$T/sim.in"
timeout 60 $PY "$T/client.py" "ws://127.0.0.1:$PORT2/" bob example 3 \
    >"$T/client2.out" 2>&1
rc=$?
cat "$T/client2.out"
[ "$rc" -eq 1 ] || die "after noauth the example exited $rc, want 1"
grep -q '^error 4 ' "$T/client2.out" || die "the example did not show error 4 (noauth)"

stop gw2
stop gw
stop sim
echo "example: ok"
