#!/bin/bash
# Rooms per address (gs-gateway(8), -g): one address tries to create
# more rooms than it may: the extra hellos are refused with roomlimit
# (and not repeated); the address may still join a room that exists,
# and another address still gets a room of its own.
. "$(dirname "$0")/../lib.sh"
stack -g 3
# Eight clients, each in a room of its own (-p 1), from 127.0.0.1.
"$B/gs-loadgen" -u "$URL" -n 8 -p 1 -d 10m -q -j >"$T/lg.json" 2>"$T/lg.log" &
LG=$!
wait_for "3 players" 30 players_are "ipc://$T/gw.ctl" 3
refused() { [ "$(metric "ipc://$T/gw.ctl" gs_gateway_room_limit_refusals_total)" = 5 ]; }
wait_for "5 refusals" 30 refused

hello() { $PY "$(dirname "$0")/abuser.py" hello "$URL" "$1" "$2" "$3"; }
[ "$(hello lg-0 joiner 127.0.0.1)" = welcome ] ||
    die "127.0.0.1 could not join a room that exists"
[ "$(hello fresh1 creator 127.0.0.1)" = "error roomlimit" ] ||
    die "127.0.0.1 created a fourth room"
[ "$(hello fresh2 other 127.0.0.2)" = welcome ] ||
    die "127.0.0.2 could not create a room"
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["playing"]')" = 3 ] || die "a player left"

kill -INT "$LG"
wait "$LG"
[ "$(json "$T/lg.json" 'j["welcomed"]')" = 3 ] || die "want 3 welcomed"
[ "$(json "$T/lg.json" 'j["errors"].get("roomlimit", 0)')" = 5 ] ||
    die "want 5 roomlimit errors: $(json "$T/lg.json" 'j["errors"]')"
# Refused once each: roomlimit is final, like roomfull.
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_connections_total)" = 11 ] ||
    die "gateway saw $(metric "ipc://$T/gw.ctl" gs_gateway_connections_total) connections, want 11"
stop gw
stop sim
echo "roomflood: ok"
