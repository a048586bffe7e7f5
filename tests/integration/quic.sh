#!/bin/bash
# QUIC end to end (gs-protocol(7), QUIC): the real gs-sim and gs-gateway
# with -Q, gs-loadgen clients over QUIC.
#  1. 30 clients in rooms of 10 play: every one welcomed, with
#     snapshots, moving as asked, with pongs; snapshots and pongs came as
#     DATAGRAM frames, and the gateway updated keys (every second here)
#     under them without a client noticing.
#  2. Clients that announce small datagrams (gs-loadgen
#     --quic-datagrams): with 0, the whole unreliable lane comes on the
#     stream; with 100 bytes, the snapshots that do not fit do.  Either
#     way every client gets snapshots and moves as asked.
#  3. GET /negotiate names the QUIC address first, then WebSocket.
#  4. Both daemons exit 0 on SIGTERM (ASan: no leak).
#  5. A gateway with -A 4: an address's QUIC connections count against
#     the same limit as its TCP ones; 6 clients from 127.0.0.1, 4 play,
#     and the others are refused (refused{reason="address_conns"}).
. "$(dirname "$0")/../lib.sh"
quic_certs "$T/q"
QP=$(free_udp_port)
stack -Q "127.0.0.1:$QP" --quic-cert "$T/q/server.pem" \
    --quic-key "$T/q/server.key" --quic-key-update 1s
QURL="quic://127.0.0.1:$QP"
GW="ipc://$T/gw.ctl"

# 1.
"$B/gs-loadgen" -u "$QURL" --tls-ca "$T/q/ca.pem" -n 30 -p 10 -d 4s -m -j \
    >"$T/lg.json" 2>"$T/lg.log" || die "gs-loadgen over QUIC exited $?"
for k in welcomed got_snapshots moved_as_asked; do
	[ "$(json "$T/lg.json" "j['$k']")" = 30 ] ||
	    die "$k: $(json "$T/lg.json" "j['$k']") of 30"
done
[ "$(json "$T/lg.json" 'min(c["snapshots"] for c in j["per_client"]) >= 2')" = True ] ||
    die "a client got fewer than 2 snapshots"
[ "$(json "$T/lg.json" 'j["rtt_ms"]["samples"] > 0')" = True ] || die "no RTT samples"
[ "$(json "$T/lg.json" 'j.get("errors_total", 0)')" = 0 ] ||
    die "errors: $(json "$T/lg.json" 'j.get("errors")')"
snaps=$(metric "$GW" 'gs_gateway_messages_out_total{kind="snapshot"}')
dgrams=$(metric "$GW" gs_gateway_quic_datagrams_out_total)
[ "$snaps" -gt 0 ] && [ "$dgrams" -ge "$snaps" ] ||
    die "snapshots $snaps, datagrams $dgrams: snapshots did not go as datagrams"
[ "$(metric "$GW" gs_gateway_quic_datagrams_in_total)" -gt 0 ] ||
    die "no input came as a datagram"
[ "$(metric "$GW" gs_gateway_quic_key_updates_total)" -gt 0 ] ||
    die "no key update in 4 s with --quic-key-update 1s"
[ "$(metric "$GW" gs_gateway_quic_retries_total)" -ge 30 ] ||
    die "fewer Retries than clients: addresses not validated"

# 2.
for d in 0 100; do
	f0=$(metric "$GW" gs_gateway_quic_stream_fallbacks_total)
	g0=$(metric "$GW" gs_gateway_quic_datagrams_out_total)
	"$B/gs-loadgen" -u "$QURL" --tls-ca "$T/q/ca.pem" -n 10 -p 10 \
	    -R "small-$d" --quic-datagrams "$d" -d 3s -m -j >"$T/lg-$d.json" \
	    2>"$T/lg-$d.log" || die "gs-loadgen --quic-datagrams $d exited $?"
	for k in welcomed got_snapshots moved_as_asked; do
		[ "$(json "$T/lg-$d.json" "j['$k']")" = 10 ] ||
		    die "datagrams of $d: $k: $(json "$T/lg-$d.json" "j['$k']") of 10"
	done
	f1=$(metric "$GW" gs_gateway_quic_stream_fallbacks_total)
	g1=$(metric "$GW" gs_gateway_quic_datagrams_out_total)
	[ "$f1" -gt "$f0" ] ||
	    die "datagrams of $d: nothing went on the stream instead"
	if [ "$d" = 0 ]; then
		[ "$g1" = "$g0" ] || die "datagrams of 0: $((g1 - g0)) sent all the same"
	else
		[ "$g1" -gt "$g0" ] || die "datagrams of $d: none sent, even small"
	fi
done

# 3.
$PY - "http://127.0.0.1:$PORT/negotiate" "$QURL" "ws://127.0.0.1:$PORT/" <<'PY' ||
import json, sys, urllib.request
j = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))
t = [(x["transport"], x["url"]) for x in j["transports"]]
assert t == [("quic", sys.argv[2]), ("websocket", sys.argv[3])], t
assert j["transports"][0]["alpn"] == "gs.v2", j
PY
    die "/negotiate did not list QUIC then WebSocket"

# 4.
stop gw
stop sim

# 5.
stack -A 4 -Q "127.0.0.1:$QP" --quic-cert "$T/q/server.pem" \
    --quic-key "$T/q/server.key"
"$B/gs-loadgen" -u "$QURL" --tls-ca "$T/q/ca.pem" -n 6 -p 6 -d 3s -j \
    >"$T/lg5.json" 2>"$T/lg5.log"
w=$(json "$T/lg5.json" 'j["welcomed"]')
[ "$w" = 4 ] || die "-A 4: $w of 6 clients welcomed over QUIC, want 4"
[ "$(metric "$GW" 'gs_gateway_quic_refused_total{reason="address_conns"}')" -gt 0 ] ||
    die "-A 4: no QUIC connection refused for its address"
stop gw
stop sim
echo "quic: 30 players, then clients of small datagrams, then -A, over QUIC"
