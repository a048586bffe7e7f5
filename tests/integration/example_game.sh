#!/bin/bash
# The game in the EXAMPLES of gs-game(3), taken from the page as a
# reader sees it (mandoc), builds as the page says, runs in gs-sim, moves
# its player's dot by the stick, and takes a live reload into a second
# build named by a relative path (gs-ctl makes it absolute).  So the
# page's example cannot rot.
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

man_example "$top/man/gs-game.3" "A game in which each player" "$T/dots.c"
cc -std=c11 -Wall -Werror -O2 -fPIC -shared -I"$top/include" \
    -o "$T/dots.so" "$T/dots.c" -lm 2>"$T/cc.log" || die "cc: $(cat "$T/cc.log")"

start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -g "$T/dots.so"
PORT=$(free_port)
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
C="ipc://$T/sim.ctl"
[ "$(ctl_field "$C" 'j["game"]')" = dots ] || die "status: game"

# The stick is (100, -50): the dot runs right and up from (50, 50).
$PY tests/integration/player.py "ws://127.0.0.1:$PORT/" field ann stay \
    >"$T/ann.out" 2>&1 &
ANN=$!
wait_for "ann plays" 30 grep -q playing "$T/ann.out"
pos() {
	"$B/gs-ctl" -c "$C" -j snapshot field >"$T/snap.json" &&
	    json "$T/snap.json" 'int(j["entities"][0]["x"])'
}
x_above() { [ "$(pos)" -gt "$1" ]; }
wait_for "the dot moves right" 20 x_above 55
x0=$(pos)
(cd "$T" && install -m 644 dots.so dots-2.so &&
    "$B/gs-ctl" -c "$C" reload ./dots-2.so) >"$T/reload.out" 2>&1 ||
    die "reload: $(cat "$T/reload.out")"
[ "$(ctl_field "$C" 'j["game_path"]')" = "$T/dots-2.so" ] ||
    die "reload did not take: $(cat "$T/reload.out")"
wait_for "the dot moves on from x=$x0" 20 x_above "$x0"
kill -0 "$ANN" || die "ann: $(cat "$T/ann.out")"
kill -INT "$ANN"; wait "$ANN" || die "ann: $(cat "$T/ann.out")"
stop gw
stop sim
echo "ok"
