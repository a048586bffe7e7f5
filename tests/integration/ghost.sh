#!/bin/bash
# No ghost players: whatever is full, slow or dead on the way, a client
# that is gone leaves its room, and a client whose room forgot it is
# told.  After each of these the sim's rooms hold exactly the players
# the gateway has playing (the same connection ids, room by room):
#
#  1. flood + stall: the sim stops (SIGSTOP) while 200 clients keep
#     sending inputs, until the gateway's batch for it is at its cap;
#     then every client goes at once.  Their 200 LEAVEs must still be
#     queued (control records have room of their own past the cap:
#     gs_gateway_relay_control_dropped_total stays 0) and reach the
#     sim when it runs again.
#  2. the gateway stalls (SIGSTOP) past the sim's gateway timeout: the
#     sim drops its players; when the gateway runs again its clients'
#     inputs and acks reach a sim that does not know them, which
#     answers CLOSE, so the clients reconnect and the two agree again.
#     A spectator, which sends acks and no inputs, is told too; a mute
#     one, which sends nothing the sim could answer, is closed by the
#     gateway when its live sim has sent it nothing for the sim
#     timeout (-t 3s here).
#  3. the gateway is killed (SIGKILL): the sim drops its players once
#     the gateway timeout passes.
. "$(dirname "$0")/../lib.sh"

PORT=$(free_port)
# All clients come from one address: no limit on the rooms it holds
# (-g 0).  The sim forgets a silent gateway after 3 s; the gateway never takes
# the sim for dead here (-t 600s): in part 1 the LEAVEs must come from
# the clients going, not from the gateway giving up on the sim.
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -G 3s
start_gw() {
	start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
	    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl" -g 0 "$@"
}
start_gw -t 600s
URL="ws://127.0.0.1:$PORT/"
sim=ipc://$T/sim.ctl gw=ipc://$T/gw.ctl
trap 'for p in sim gw; do [ -n "${GS_PID[$p]:-}" ] &&
    kill -CONT "${GS_PID[$p]}"; done; gs_cleanup' EXIT

# agree: the sim's players, room by room, are the gateway's playing
# clients (and there are $1 of them); spectators are counted alike.
agree() {
	local want=$1
	"$B/gs-ctl" -c "$sim" -t 2000 -j rooms >"$T/rooms.json" 2>/dev/null ||
	    return 1
	"$B/gs-ctl" -c "$gw" -t 2000 -j clients >"$T/clients.json" \
	    2>/dev/null || return 1
	: >"$T/rooms.each"
	for r in $($PY -c 'import json,sys
for x in json.load(open(sys.argv[1])): print(x["room"])' "$T/rooms.json"); do
		"$B/gs-ctl" -c "$sim" -t 2000 -j room "$r" >>"$T/rooms.each" \
		    2>/dev/null || return 1
		echo >>"$T/rooms.each"
	done
	$PY - "$T/rooms.json" "$T/rooms.each" "$T/clients.json" "$want" <<'EOF'
import json, sys
rooms = json.load(open(sys.argv[1]))
text, each, at = open(sys.argv[2]).read(), [], 0
while text[at:].strip():
    at += len(text[at:]) - len(text[at:].lstrip())
    obj, at = json.JSONDecoder().raw_decode(text, at)
    each.append(obj)
clients = json.load(open(sys.argv[3]))
want = int(sys.argv[4])
sim = {(r["room"], str(p["conn"])) for r in each for p in r["players"]}
watchers = sum(r["watchers"] for r in rooms)
gw = {(c["room"], str(c["conn"])) for c in clients
      if c["state"] == "playing"}
# The gateway lists spectators as playing clients; the sim counts them.
if not sim <= gw or len(gw) != len(sim) + watchers or len(gw) != want:
    print("sim %d players + %d watchers, gateway %d playing, want %d; "
          "only in sim: %s; only at the gateway: %s" % (len(sim), watchers,
          len(gw), want, sorted(sim - gw)[:5], sorted(gw - sim)[:5]))
    sys.exit(1)
EOF
}

# ---- 1. flood + stall
"$B/gs-loadgen" -u "$URL" -n 200 -p 10 -d 10m -q >"$T/lg.out" 2>&1 &
LG=$!
"$B/gs-loadgen" -u "$URL" -n 10 -p 10 -R few -d 10m -q >"$T/lg2.out" 2>&1 &
LG2=$!
wait_for "210 players" 60 agree 210
drops0=$(metric "$gw" gs_gateway_relay_dropped_records_total)
kill -STOP "${GS_PID[sim]}"
# Once NNG takes no more (inputs are dropped), ten clients go: their
# LEAVEs make the batch one that is kept and retried, and the others'
# inputs pile up behind them to the cap.
refused() {
	[ "$(metric "$gw" gs_gateway_relay_dropped_records_total)" -gt "$drops0" ]
}
wait_for "NNG to take no more for the stopped sim" 120 refused
kill -KILL "$LG2"; wait "$LG2" 2>/dev/null
full() { [ "$(metric "$gw" gs_gateway_relay_full_total)" -gt 0 ]; }
wait_for "the gateway's batch for the stopped sim to fill" 120 full
kill -KILL "$LG"; wait "$LG" 2>/dev/null
gone() { [ "$(ctl_field "$gw" 'j["clients"]')" = 0 ]; }
wait_for "the gateway to see every client go" 60 gone
kill -CONT "${GS_PID[sim]}"
wait_for "the sim to drop all 210 players" 60 agree 0
n=$(metric "$gw" gs_gateway_relay_control_dropped_total)
[ "$n" = 0 ] || die "$n LEAVEs were dropped"
echo "part 1: 210 LEAVEs through a full batch"

# ---- 2. the gateway stalls past the sim's gateway timeout
"$B/gs-loadgen" -u "$URL" -n 20 -p 10 -d 10m -q >"$T/lg.out" 2>&1 &
LG=$!
wait_for "20 players" 60 agree 20
room=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["room"])' \
    "$T/rooms.json")
$PY "$(dirname "$0")/spectator.py" "$URL" "$room" >"$T/w.out" 2>&1 &
W=$!
wait_for "20 players and a spectator" 60 agree 21
lost0=$(metric "$sim" gs_sim_gateways_lost_total)
closes0=$(metric "$gw" gs_gateway_sim_closes_total)
kill -STOP "${GS_PID[gw]}"
lost() { [ "$(metric "$sim" gs_sim_gateways_lost_total)" -gt "$lost0" ]; }
wait_for "the sim to give the gateway up" 60 lost
players_are "$sim" 0 || die "the sim kept players of a lost gateway"
kill -CONT "${GS_PID[gw]}"
told() {
	[ "$(metric "$gw" gs_gateway_sim_closes_total)" -ge $((closes0 + 21)) ]
}
wait_for "the sim to tell all 21 clients" 60 told
wait_for "the spectator's end" 60 grep -q '^closed' "$T/w.out"
wait "$W" || die "spectator: $(cat "$T/w.out")"
grep -q '^error 7 ' "$T/w.out" || die "spectator not told: $(cat "$T/w.out")"
wait_for "the players to be back and agree" 60 agree 20
echo "part 2: a stalled gateway's clients told and back"

[ "$(metric "$gw" gs_gateway_forgotten_clients_total)" = 0 ] ||
    die "clients closed as forgotten with a sim timeout of 600 s"
kill -KILL "$LG"; wait "$LG" 2>/dev/null
wait_for "the players to go" 60 agree 0

# ---- 2b. the same with a mute spectator, which sends nothing the sim
# could answer: the gateway closes it once its live sim has sent it
# nothing for the sim timeout.
stop gw
start_gw -t 3s
$PY "$(dirname "$0")/spectator.py" "$URL" mute mute >"$T/m.out" 2>&1 &
M=$!
wait_for "a mute spectator" 60 agree 1
lost0=$(metric "$sim" gs_sim_gateways_lost_total)
kill -STOP "${GS_PID[gw]}"
wait_for "the sim to give the gateway up" 60 lost
kill -CONT "${GS_PID[gw]}"
wait_for "the mute spectator's end" 60 grep -q '^closed' "$T/m.out"
wait "$M" || die "mute spectator: $(cat "$T/m.out")"
grep -q '^error 7 ' "$T/m.out" ||
    die "mute spectator not told: $(cat "$T/m.out")"
[ "$(metric "$gw" gs_gateway_forgotten_clients_total)" = 1 ] ||
    die "want 1 forgotten client (the mute spectator)"
wait_for "agreement after the mute spectator" 60 agree 0
echo "part 2b: a mute spectator forgotten by the sim is closed"

# ---- 3. the gateway dies
"$B/gs-loadgen" -u "$URL" -n 10 -p 10 -d 10m -q >"$T/lg.out" 2>&1 &
LG=$!
wait_for "10 players" 60 agree 10
kill9 gw
kill -KILL "$LG"; wait "$LG" 2>/dev/null
wait_for "the sim to drop a dead gateway's players" 60 players_are "$sim" 0
start_gw
wait_for "agreement after the gateway's restart" 60 agree 0

stop gw
stop sim
echo "ghost: ok"
