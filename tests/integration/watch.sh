#!/bin/bash
# Spectators and the area of interest: a spectator sees what lies within
# the view radius of the point it looks at, the player's entity comes
# into its view when it looks at the player and leaves it when it looks
# far away, and its inputs are dropped (tests/integration/watcher.py).
. "$(dirname "$0")/../lib.sh"
PORT=$(free_port)
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl" -v 300 -z 256
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
URL="ws://127.0.0.1:$PORT/"
C="ipc://$T/sim.ctl"

$PY tests/integration/player.py "$URL" w ann stay >"$T/ann.out" 2>&1 &
ANN=$!
wait_for "ann plays" 30 grep -q playing "$T/ann.out"
"$B/gs-ctl" -c "$C" -j room w >"$T/room.json" || die "room w"
read -r id x y < <(json "$T/room.json" \
    '"%s %.1f %.1f" % (j["players"][0]["id"], j["players"][0]["x"], j["players"][0]["y"])')
# Far: 1000 units away on each axis, inside the world.
fx=$($PY -c "print($x + 1000 if $x < 1000 else $x - 1000)")
fy=$($PY -c "print($y + 1000 if $y < 1000 else $y - 1000)")
$PY tests/integration/watcher.py "$URL" w "$id" "$x" "$y" "$fx" "$fy" 300 \
    >"$T/eve.out" 2>&1 || die "watcher: $(cat "$T/eve.out")"
cat "$T/eve.out"
[ "$(metric "$C" 'gs_sim_inputs_dropped_total{reason="spectator"}')" -ge 1 ] ||
    die "the spectator's input was not dropped as a spectator's"
[ "$(metric "$C" gs_sim_looks_total)" -ge 2 ] || die "looks not counted"
[ "$(metric "$C" 'gs_sim_snapshot_records_total{kind="removed"}')" -ge 1 ] ||
    die "no removal counted"
kill -INT "$ANN"; wait "$ANN" || die "ann: $(cat "$T/ann.out")"
stop gw
stop sim
echo "ok"
