#!/bin/bash
# A client over its rate limits (gs-gateway(8), Limits): one client
# floods inputs and pings; it gets ratelimit, then is closed with it,
# while ten others keep playing: none of them is closed or gets an
# error, each keeps getting snapshots, and none of theirs is dropped.
. "$(dirname "$0")/../lib.sh"
stack
LG_ARGS=(-u "$URL" -n 10 -p 5 -d 10m -q -j --slo 'served>=100%,errors<=0')
"$B/gs-loadgen" "${LG_ARGS[@]}" >"$T/lg.json" 2>"$T/lg.log" &
LG=$!
wait_for "10 players" 30 players_are "ipc://$T/gw.ctl" 10

snaps() { metric "ipc://$T/gw.ctl" 'gs_gateway_messages_out_total{kind="snapshot"}'; }
s0=$(snaps)
$PY "$(dirname "$0")/abuser.py" flood "$URL" flooded flooder >"$T/flood.out" 2>&1 ||
    { cat "$T/flood.out"; die "the flooder was not told ratelimit and closed"; }
cat "$T/flood.out"
grep -qx ratelimit "$T/flood.out" || die "no ratelimit error before the close"

# The gateway counted it; the players went on (more snapshots went out
# after the flood ended than during a second of play).
limited=$(metric "ipc://$T/gw.ctl" 'gs_gateway_ratelimited_total{limit="messages"}')
[ "${limited:-0}" -ge 20 ] || die "ratelimited messages: ${limited:-none}, want 20 or more"
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_ratelimit_closes_total)" = 1 ] ||
    die "want one client closed for its rate"
s1=$(snaps)
more_snaps() { [ "$(snaps)" -gt $((s1 + 300)) ]; }
wait_for "snapshots after the flood" 30 more_snaps
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["playing"]')" = 10 ] || die "a player left"

players_end
gw_unharmed
s2=$(snaps)
stop gw
stop sim
echo "flood: ok (flooder limited $limited times; $s0 -> $s2 snapshots)"
