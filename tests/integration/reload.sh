#!/bin/bash
# Live reload (gs-ctl reload): under gs-loadgen's load, the arena game
# is replaced three times while a judge checks, snapshot by snapshot,
# that its player moves exactly as the rules say (PLAYER_ARENA: a lost
# position or velocity fails it); no client is dropped.  Reloads that
# must be refused leave the running game in place.
. "$(dirname "$0")/../lib.sh"
G=$GS_BUILD/test/games
stack
C="ipc://$T/sim.ctl"

"$B/gs-loadgen" -u "$URL" -n 20 -p 5 -d 10m -q -j \
    --slo 'served>=100%' >"$T/lg.json" 2>"$T/lg.log" &
LG=$!
wait_for "20 loadgen players" 60 players_are "$C" 20
PLAYER_ARENA=1 $PY tests/integration/player.py "$URL" watched judge stay \
    >"$T/judge.out" 2>&1 &
JUDGE=$!
wait_for "the judge plays" 30 grep -q playing "$T/judge.out"

version() { ctl_field "$C" 'j["game_version"]'; }
# moves_past N: the judge's entity has moved on from tick N (so that
# each reload is followed by snapshots the judge checks).
tick_of() { "$B/gs-ctl" -c "$C" -j room watched >"$T/room.json" &&
    json "$T/room.json" 'j["tick"]'; }
ticks_past() { [ "$(tick_of)" -gt "$1" ]; }

reload_ok() {
	local t
	"$B/gs-ctl" -c "$C" reload "$1" >"$T/reload.out" 2>&1 ||
	    die "reload $1: $(cat "$T/reload.out")"
	[ "$(version)" = "$2" ] || die "reload $1: version $(version), want $2"
	t=$(tick_of) || die "room watched: $(cat "$T/room.json")"
	wait_for "ticks after the reload" 20 ticks_past $((t + 15))
	kill -0 "$JUDGE" 2>/dev/null || die "judge: $(cat "$T/judge.out")"
}
reload_refused() {
	local before
	before=$(version)
	"$B/gs-ctl" -c "$C" reload "$1" >"$T/reload.out" 2>&1 &&
	    die "reload $1 succeeded: $(cat "$T/reload.out")"
	grep -qF "$2" "$T/reload.out" ||
	    die "reload $1: want '$2' in: $(cat "$T/reload.out")"
	[ "$(version)" = "$before" ] || die "reload $1 changed the version"
}

reload_ok "$G/arena_v2.so" 2-test
cp "$GS_BUILD/lib/gs/games/arena.so" "$T/arena-copy.so"
reload_ok "$T/arena-copy.so" 1
reload_ok "$G/arena_v2.so" 2-test
echo "three reloads under load"

reload_refused "$G/arena_noload.so" "cannot load its state: load returned NULL"
reload_refused "$G/arena_v2.so" "is the game running now"
reload_refused "$G/faulty.so" "declares other entities or inputs"
reload_refused "$G/badabi.so" "ABI 99"
reload_refused "$T/nothing.so" "cannot load $T/nothing.so"
reload_refused nosuchgame "nosuchgame.so"
[ "$(metric "$C" gs_sim_game_reloads_total)" -eq 3 ] || die "reloads"
[ "$(metric "$C" gs_sim_game_reloads_failed_total)" -eq 6 ] ||
    die "failed reloads: $(metric "$C" gs_sim_game_reloads_failed_total)"
echo "six reloads refused, the game kept"

kill -INT "$JUDGE"
wait "$JUDGE" || die "judge: $(cat "$T/judge.out")"
moves=$(awk '/^stopped after/ { print $3 }' "$T/judge.out")
[ "${moves:-0}" -ge 45 ] || die "judge: $(cat "$T/judge.out")"
echo "judge: $moves moves as the rules say"

kill -INT "$LG"
wait "$LG" || { cat "$T/lg.json"; die "gs-loadgen: SLO missed"; }
[ "$(json "$T/lg.json" 'j["reconnect"]["losses_all"]')" -eq 0 ] ||
    die "gs-loadgen lost connections: $(cat "$T/lg.json")"
[ "$(metric "$C" gs_sim_rooms_faulted_total)" -eq 0 ] || die "a room faulted"
stop gw
stop sim
echo "ok"
