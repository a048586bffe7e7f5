#!/bin/bash
# gs-persist stops: the gateway answers API calls 503 with Retry-After
# at once (it knows the connection is down), games keep playing, a
# player with a valid access token still joins; when gs-persist comes
# back the API serves again.
. "$(dirname "$0")/../lib.sh"

make_keys
start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
start_accounts_gw
export PYTHONPATH="$(dirname "$0")"

api() {	# api WANT-STATUS: one guest login, its status must be WANT
	$PY - "$PORT" "$1" "$T" <<'PY'
import sys, json
from api import Api, fail
st, j, h = Api(int(sys.argv[1])).call("POST", "/v1/auth/guest",
                                      {"device": "down-test"})
if st != int(sys.argv[2]):
    sys.exit(1)
if st == 503 and ("retry-after" not in h or
                  j["error"]["code"] != "unavailable"):
    fail("503 without Retry-After or code: %s %s" % (h, j))
if st == 200:
    json.dump(j, open(sys.argv[3] + "/login.json", "w"))
PY
}
api 200 || die "API before the stop"
token=$(json "$T/login.json" 'j["access"]')
PLAYER_TOKEN=$token $PY tests/integration/player.py "ws://127.0.0.1:$PORT/" \
    r1 x stay >"$T/p1.out" 2>&1 &
p1=$!
wait_for "player 1 to play" 20 grep -q playing "$T/p1.out"

stop persist
# The connection's end reaches the gateway through NNG; then every
# call is answered 503 without waiting for a timeout.
wait_for "503" 20 api 503
for i in 1 2 3; do api 503 || die "call $i while down was not 503"; done
# Answered at once: without a call that could only time out.
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_api_persist_down_total)" -ge 4 ] ||
    die "503s not answered at once for a missing connection"

# Games go on: player 1 still plays, player 2 joins with its token.
PLAYER_TOKEN=$token $PY tests/integration/player.py "ws://127.0.0.1:$PORT/" \
    r1 x 30 >"$T/p2.out" 2>&1 || die "player 2 while persist is down: $(cat "$T/p2.out")"
grep -q "acked 30" "$T/p2.out" || die "player 2: $(cat "$T/p2.out")"
kill -0 "$p1" 2>/dev/null || die "player 1 ended while persist was down: $(cat "$T/p1.out")"
wait_for "player 2 to leave" 20 players_are "ipc://$T/sim.ctl" 1

start_persist
wait_for "the API to recover" 20 api 200
stop gw
stop sim
stop persist
