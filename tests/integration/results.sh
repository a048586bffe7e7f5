#!/bin/bash
# Match results: when a room ends, gs-sim -p sends the game's result and
# the accounts that played to gs-persist, which keeps each match once;
# a result that finds gs-persist down is sent again until it is stored.
. "$(dirname "$0")/../lib.sh"

make_keys
start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -e 200ms \
    -p "$PST"
start_accounts_gw
export PYTHONPATH="$(dirname "$0")"
U="$PST"

login() {	# login DEVICE: an access token and account id in $T/DEVICE.json
	$PY - "$PORT" "$1" "$T" <<'PY' || die "guest login $1"
import json, sys
from api import Api
j = Api(int(sys.argv[1])).ok("POST", "/v1/auth/guest", {"device": sys.argv[2]})
json.dump(j, open(sys.argv[3] + "/" + sys.argv[2] + ".json", "w"))
PY
}
play() {	# play DEVICE ROOM: 10 inputs acknowledged, then leave
	PLAYER_TOKEN=$(json "$T/$1.json" 'j["access"]') $PY \
	    tests/integration/player.py "ws://127.0.0.1:$PORT/" "$2" x 10 \
	    >"$T/$1.out" 2>&1 || die "player $1: $(cat "$T/$1.out")"
}
# has_match DEVICE ROOM: gs-persist lists a match of ROOM for DEVICE's
# account, with the arena's result.
has_match() {
	$PY - "$U" "$(json "$T/$1.json" 'j["account"]')" "$2" <<'PY'
import sys
from api import pst
st, body = pst(sys.argv[1], "matches", int(sys.argv[2]), 10, 0)
ok = st == 0 and any(m["room"] == sys.argv[3] and
                     m["result"].get("game") == "arena" for m in body["matches"])
sys.exit(0 if ok else 1)
PY
}

login ann
login bob
play ann r1 &
ann=$!
play bob r1
wait "$ann" || die "player ann in r1"
wait_for "r1's result for ann" 20 has_match ann r1
has_match bob r1 || die "r1's result lacks bob"

# gs-persist down when the room ends: the sim keeps the result and
# sends it again once gs-persist is back.
stop persist
# A player with a valid token joins while gs-persist is down.
play ann r2
ended() { [ "$(metric "ipc://$T/sim.ctl" gs_sim_match_results_total)" -ge 2 ]; }
wait_for "r2 to end" 20 ended
start_persist
wait_for "r2's result after gs-persist's return" 30 has_match ann r2
[ "$(metric "ipc://$T/sim.ctl" gs_sim_match_results_stored_total)" -ge 2 ] ||
    die "stored results not counted"
stop gw
stop sim
stop persist
