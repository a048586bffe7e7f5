#!/bin/bash
# Garbage, truncated, oversized and text frames get the documented errors
# while other clients keep playing, and the gateway counts them.
. "$(dirname "$0")/../lib.sh"
stack

"$B/gs-loadgen" -u "$URL" -n 10 -d 4s -m -j >"$T/lg.json" 2>"$T/lg.log" &
lg=$!
$PY "$(dirname "$0")/badclient.py" "$URL" >"$T/bad.log" 2>&1 \
    || { cat "$T/bad.log"; die "badclient"; }
wait $lg || { cat "$T/lg.json"; die "players were disturbed: gs-loadgen exited $?"; }
[ "$(json "$T/lg.json" 'j["moved_as_asked"]')" = 10 ] || die "players did not all play"

"$B/gs-ctl" -c "ipc://$T/gw.ctl" metrics >"$T/metrics" || die "gs-ctl metrics"
grep -E '^gs_gateway_bad_[a-z_]+(\{[^}]*\})? [1-9]' "$T/metrics" >/dev/null ||
    die "no bad frames counted: $(grep -i bad "$T/metrics")"

stop gw
stop sim
echo "badframes: ok"
