#!/bin/bash
# The first playable slice end to end: real gs-sim and gs-gateway, 50
# gs-loadgen clients for a few seconds.  Every client must be welcomed,
# get snapshots, and move the way its input asks; gs-ctl must show the
# rooms and the players; both daemons must exit 0 on SIGTERM (which,
# under ASan, also means no leak).
. "$(dirname "$0")/../lib.sh"
stack

"$B/gs-loadgen" -u "$URL" -n 50 -p 10 -d 3s -m -j >"$T/lg.json" \
    2>"$T/lg.log" || die "gs-loadgen exited $?"
[ "$(json "$T/lg.json" 'j["welcomed"]')" = 50 ] || die "not all welcomed"
[ "$(json "$T/lg.json" 'j["got_snapshots"]')" = 50 ] || die "not all got snapshots"
[ "$(json "$T/lg.json" 'j["moved_as_asked"]')" = 50 ] || die "not all moved as asked"
# More than one snapshot each: the stream flows.  How many arrive in
# 3 s depends on the machine (sanitizers, load); that is the bench's.
[ "$(json "$T/lg.json" 'min(c["snapshots"] for c in j["per_client"]) >= 2')" = True ] \
    || die "a client got fewer than 2 snapshots"
[ "$(json "$T/lg.json" 'j["rtt_ms"]["samples"] > 0')" = True ] || die "no RTT samples"

# The sim has the five rooms gs-loadgen made (10 players each), now empty.
"$B/gs-ctl" -c "ipc://$T/sim.ctl" -j rooms >"$T/rooms.json" || die "gs-ctl rooms"
[ "$(json "$T/rooms.json" 'sorted(r["room"] for r in j)')" = \
    "['lg-0', 'lg-1', 'lg-2', 'lg-3', 'lg-4']" ] || die "rooms: $(cat "$T/rooms.json")"

# A player in a room, seen from gs-ctl while gs-loadgen plays.
"$B/gs-loadgen" -u "$URL" -n 2 -R watched -d 4s -j >"$T/lg2.json" 2>&1 &
lg=$!
for i in $(seq 1 100); do
	"$B/gs-ctl" -c "ipc://$T/sim.ctl" -j room watched >"$T/room.json" 2>/dev/null &&
	    [ "$(json "$T/room.json" 'len(j["players"])')" = 2 ] && break
	sleep 0.1
done
[ "$(json "$T/room.json" 'len(j["players"])')" = 2 ] || die "room watched: $(cat "$T/room.json")"
"$B/gs-ctl" -c "ipc://$T/sim.ctl" snapshot watched >"$T/snap.json" || die "gs-ctl snapshot"
[ "$(json "$T/snap.json" 'sum(1 for e in j["entities"] if e["type"] == 1)')" = 2 ] \
    || die "snapshot: $(cat "$T/snap.json")"
# 64-bit identifiers reach JSON as strings, whatever their value.
[ "$(json "$T/snap.json" 'all(isinstance(e["id"], str) and int(e["id"]) > 0 for e in j["entities"])')" = True ] \
    || die "entity ids are not strings: $(cat "$T/snap.json")"
[ "$(json "$T/room.json" 'all(isinstance(p["id"], str) and isinstance(p["conn"], str) for p in j["players"])')" = True ] \
    || die "player ids are not strings: $(cat "$T/room.json")"
wait $lg || die "second gs-loadgen exited $?"

# SIGUSR1 restarts gs-loadgen's latency samples (a bench's window
# opens): signalled once pongs have flowed, it reports fewer RTT
# samples than its clients counted pongs.
pong='gs_gateway_messages_out_total{kind="pong"}'
p0=$(metric "ipc://$T/gw.ctl" "$pong")
"$B/gs-loadgen" -u "$URL" -n 4 -R window -d 120s -j >"$T/lg3.json" \
    2>"$T/lg3.log" &
lg=$!
pongs_past() { [ "$(metric "ipc://$T/gw.ctl" "$pong")" -ge $(($1)) ]; }
wait_for "8 pongs" 60 pongs_past "$p0 + 8"
kill -USR1 $lg
kill -INT $lg
wait $lg || die "gs-loadgen after SIGUSR1 exited $?"
[ "$(json "$T/lg3.json" 'j["rtt_ms"]["samples"] < sum(c["pongs"] for c in j["per_client"])')" = True ] \
    || die "SIGUSR1 did not restart the RTT samples: $(json "$T/lg3.json" '(j["rtt_ms"], [c["pongs"] for c in j["per_client"]])')"

# A client's queue leaves in one write: on loopback, whose socket
# buffers never fill here, a send not taken whole is the exception (lws
# cutting a send to its packet size, for one).
waits=$(metric "ipc://$T/gw.ctl" gs_gateway_write_waits_total)
batches=$(metric "ipc://$T/gw.ctl" gs_gateway_ws_messages_out_total)
[ "$batches" -gt 1000 ] && [ $((waits * 100)) -lt "$batches" ] ||
    die "$waits of $batches batches were not sent whole"

"$B/gs-ctl" -c "ipc://$T/gw.ctl" status >"$T/gw.status" || die "gs-ctl status gw"
grep -q '^prog: *gs-gateway' "$T/gw.status" || die "gateway status: $(cat "$T/gw.status")"

# HTTP endpoints of the gateway.
$PY - "$PORT" <<'PY' || die "http endpoints"
import sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
for path, want in (("/healthz", 200), ("/readyz", 200), ("/version", 200), ("/metrics", 200)):
    r = urllib.request.urlopen(base + path, timeout=5)
    assert r.status == want, (path, r.status)
    body = r.read().decode()
    if path == "/metrics":
        assert "gs_gateway_" in body, body[:200]
try:
    urllib.request.urlopen(base + "/nope", timeout=5)
    raise SystemExit("/nope answered 2xx")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
PY

stop gw
stop sim
echo "play: ok"
