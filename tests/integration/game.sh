#!/bin/bash
# Game plugins (gs-game(3)): gs-sim refuses a plugin it cannot run with
# a clear reason, and a game that breaks its interface has its room
# ended and reported while the other rooms play on.  The plugins are
# tests/games/*.c; faulty.c picks its misdeed by the room's name.
. "$(dirname "$0")/../lib.sh"
G=$GS_BUILD/test/games

# refused SPEC WANT: gs-sim -g SPEC exits 1 at start, saying WANT.
refused() {
	local rc
	"$B/gs-sim" -i "ipc://$T/refused.in" -g "$1" 2>"$T/refused.err"
	rc=$?
	[ "$rc" -eq 1 ] || die "-g $1: exit $rc, want 1: $(cat "$T/refused.err")"
	grep -q "cannot load game" "$T/refused.err" &&
	    grep -qF "$2" "$T/refused.err" ||
	    die "-g $1: want '$2' in: $(cat "$T/refused.err")"
}
refused "$T/nothing.so" "nothing.so: cannot open shared object file"
refused nosuchgame "lib/gs/games/nosuchgame.so"
refused "$G/badabi.so" "ABI $((1 + 98)), this gs-sim runs ABI 1"
refused "$G/badsize.so" "bytes, ABI 1's is"
refused "$G/nosym.so" "no symbol gs_game"
echo "bad plugins refused"

start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -e 0 \
    -g "$G/faulty.so"
PORT=$(free_port)
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
URL="ws://127.0.0.1:$PORT/"
C="ipc://$T/sim.ctl"
# metric_ge NAME MIN: the sim's metric NAME is at least MIN.
metric_ge() { local v; v=$(metric "$C" "$1"); [ "${v:-0}" -ge "$2" ]; }
[ "$(ctl_field "$C" 'j["game"]')" = faulty ] || die "status: game"

# A room that plays by the rules, throughout.
$PY tests/integration/player.py "$URL" ok-1 calm stay >"$T/calm.out" 2>&1 &
CALM=$!
wait_for "calm plays" 30 grep -q playing "$T/calm.out"

# fault ROOM WANT: a player of ROOM is closed with roomclosed and a
# text that says WANT; the calm room plays on.
fault() {
	$PY tests/integration/player.py "$URL" "$1" victim stay \
	    >"$T/$1.out" 2>&1 || die "$1: $(cat "$T/$1.out")"
	grep -q "^error 15 the game failed: .*$2" "$T/$1.out" ||
	    die "$1: want error 15 with '$2': $(cat "$T/$1.out")"
	grep -q "game fault room=$1 game=faulty" "$T/sim.log" ||
	    die "$1: no fault logged"
	kill -0 "$CALM" 2>/dev/null || die "$1: the calm player was closed"
}
fault set-1 "set: handle .* field 3 = 1: field not declared for the type"
fault range-1 "set: .* field 0 = 11: value outside the field's range"
fault move-1 "move: .* to (-1, 0): position outside the world"
fault stale-1 "despawn: handle .*: not a live entity"
echo "tick faults end their rooms"

# leave: the second player leaves with its entity kept; the first is
# closed for it.
$PY tests/integration/player.py "$URL" leave-1 stays stay >"$T/stays.out" 2>&1 &
STAYS=$!
wait_for "leave-1 plays" 30 grep -q playing "$T/stays.out"
$PY tests/integration/player.py "$URL" leave-1 goes 3 >"$T/goes.out" 2>&1 ||
    die "goes: $(cat "$T/goes.out")"
wait "$STAYS" || die "stays: $(cat "$T/stays.out")"
grep -q "^error 15 the game failed: leave: slot 1 still has its entity" \
    "$T/stays.out" || die "leave: $(cat "$T/stays.out")"

# join_attempt's reason reaches the client.
$PY tests/integration/player.py "$URL" refuse-1 eve stay >"$T/eve.out" 2>&1 ||
    die "refuse: $(cat "$T/eve.out")"
grep -q "^error 16 no entry today, eve" "$T/eve.out" ||
    die "refuse: $(cat "$T/eve.out")"
echo "leave fault and join refusal seen"

# Match results: a JSON object is logged; anything else is a fault.
$PY tests/integration/player.py "$URL" ok-2 one 3 >/dev/null 2>&1 || die ok-2
wait_for "ok-2's result" 10 grep -q \
    'room result room=ok-2 game=faulty result={"ticks":[0-9]*}' "$T/sim.log"
$PY tests/integration/player.py "$URL" result-1 one 3 >/dev/null 2>&1 ||
    die result-1
wait_for "result-1's fault" 10 grep -q \
    'game fault room=result-1 .*end: the result is not a JSON object' \
    "$T/sim.log"

# Inputs are checked against the declaration: fire is 0..1 with a
# cooldown of 5 ticks.  A fire of 2 is out of range and never applied.
PLAYER_BUTTONS=2 $PY tests/integration/player.py "$URL" ok-3 wild stay \
    >"$T/wild.out" 2>&1 &
WILD=$!
wait_for "inputs out of range counted" 20 metric_ge \
    'gs_sim_inputs_dropped_total{reason="range"}' 5
grep -q playing "$T/wild.out" && die "an out-of-range input was applied"
kill "$WILD"; wait "$WILD" 2>/dev/null
# Holding fire: the game sees it at most once per 5 ticks.
PLAYER_BUTTONS=1 $PY tests/integration/player.py "$URL" ok-4 trigger stay \
    >"$T/trigger.out" 2>&1 &
TRIGGER=$!
wait_for "cooldowns counted" 20 metric_ge gs_sim_inputs_cooldown_total 8
"$B/gs-ctl" -c "$C" -j snapshot ok-4 >"$T/ok4.json" || die "snapshot ok-4"
fired=$(json "$T/ok4.json" 'j["entities"][0]["fields"]["fired"]')
tick=$(json "$T/ok4.json" 'j["tick"]')
[ "$fired" -ge 2 ] && [ $((fired * 5)) -le $((tick + 5)) ] ||
    die "fired $fired times in $tick ticks with a cooldown of 5"
kill "$TRIGGER"; wait "$TRIGGER" 2>/dev/null
echo "inputs checked: out of range dropped, cooldown held"

# A reload whose running code cannot save a room ends that room only.
$PY tests/integration/player.py "$URL" save-1 saver stay >"$T/saver.out" 2>&1 &
SAVER=$!
wait_for "save-1 plays" 30 grep -q playing "$T/saver.out"
cp "$G/faulty.so" "$T/faulty-again.so"
"$B/gs-ctl" -c "$C" reload "$T/faulty-again.so" >"$T/reload.out" 2>&1 ||
    die "reload: $(cat "$T/reload.out")"
wait "$SAVER" || die "saver: $(cat "$T/saver.out")"
grep -q "^error 15 the game failed: save bytes change through load" \
    "$T/saver.out" || die "save: $(cat "$T/saver.out")"
[ "$(ctl_field "$C" 'j["game_path"]')" = "$T/faulty-again.so" ] ||
    die "the reload did not take"
kill -0 "$CALM" 2>/dev/null || die "the calm player was closed by the reload"
echo "a room that cannot be saved ends; the reload goes on"

# set, range, move, stale, leave, save; result-1 ended as rooms do and
# only its result was a fault.
[ "$(metric "$C" gs_sim_rooms_faulted_total)" -eq 6 ] ||
    die "rooms faulted: $(metric "$C" gs_sim_rooms_faulted_total), want 6"
[ "$(metric "$C" gs_sim_game_faults_total)" -eq 7 ] ||
    die "faults: $(metric "$C" gs_sim_game_faults_total), want 7"
kill "$CALM"; wait "$CALM" 2>/dev/null
stop gw
stop sim
echo "ok"
