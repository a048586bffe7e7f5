#!/bin/bash
# gs-loadgen over QUIC (gs-protocol(7), QUIC) against a real gs-gateway
# -Q: every client is welcomed, gets its snapshots as datagrams, moves
# as asked and closes cleanly on SIGINT.  What must fail fails as a
# connect, with its reason in the report: an authority that did not
# sign the certificate, a certificate for another name, no server on
# the port.  On an impaired path the datagram lane loses messages for
# real while the stream repairs its own.
. "$(dirname "$0")/../lib.sh"
quic_certs "$T/quic"
QPORT=$(free_udp_port)
stack -Q "127.0.0.1:$QPORT" --quic-cert "$T/quic/server.pem" \
    --quic-key "$T/quic/server.key"
QURL="quic://127.0.0.1:$QPORT"
CA=(--tls-ca "$T/quic/ca.pem")

"$B/gs-loadgen" -u "$QURL" "${CA[@]}" -n 20 -p 10 -d 3s -m -j \
    >"$T/q.json" 2>"$T/q.log" || die "gs-loadgen over QUIC exited $?"
for want in 'j["transport"] == "quic"' 'j["welcomed"] == 20' \
    'j["got_snapshots"] == 20' 'j["moved_as_asked"] == 20' \
    'j["errors_total"] == 0' 'j["rtt_ms"]["samples"] > 0' \
    'j["quic"]["handshakes"] == 20' 'j["quic"]["datagrams_in"] > 0' \
    'j["quic"]["datagrams_out"] > 0' 'j["quic"]["to_stream"] == 0' \
    'j["quic"]["stream_msgs_out"] == 40' \
    'j["quic"]["stream_msgs_in"] >= 40'; do
	[ "$(json "$T/q.json" "$want")" = True ] ||
	    die "over QUIC, not $want: $(json "$T/q.json" '(j["quic"], j["errors"])')"
done
# Snapshots came as datagrams: more of them than stream messages.
[ "$(json "$T/q.json" 'j["quic"]["datagrams_in"] > j["quic"]["stream_msgs_in"]')" = True ] ||
    die "snapshots did not come as datagrams: $(json "$T/q.json" 'j["quic"]')"

# The variable names the authority as --tls-ca does, and a host name is
# checked as an address is.
GS_LOADGEN_TLS_CA="$T/quic/ca.pem" "$B/gs-loadgen" \
    -u "quic://localhost:$QPORT" -n 2 -d 2s -j >"$T/q2.json" 2>"$T/q2.log" ||
    die "quic://localhost with GS_LOADGEN_TLS_CA exited $?"

# refused WHAT REASON URL ARGS...: every connect fails, counted, with
# REASON in the client's failure; exit 1.
refused() {
	local what=$1 reason=$2 url=$3 rc; shift 3
	"$B/gs-loadgen" -u "$url" "$@" -n 2 -r 0 -d 2s -j >"$T/r.json" \
	    2>"$T/r.log"; rc=$?
	[ "$rc" = 1 ] || die "$what: exit $rc, want 1"
	[ "$(json "$T/r.json" 'j["welcomed"] == 0 and j["connect_failures"] >= 2')" = True ] ||
	    die "$what: not counted as failed connects: $(json "$T/r.json" '(j["welcomed"], j["connect_failures"])')"
	json "$T/r.json" 'j["per_client"][0]["fail"]' | grep -q "$reason" ||
	    die "$what: reason $(json "$T/r.json" 'j["per_client"][0]["fail"]'), want $reason"
}
refused "an authority that signed nothing" "issuer is unknown" "$QURL" \
    --tls-ca "$T/quic/other-ca.pem"
refused "no server" "nothing listens on UDP port" \
    "quic://127.0.0.1:$(free_udp_port)" "${CA[@]}"
Q2=$(free_udp_port)
start gw2 "$B/gs-gateway" -D -H "127.0.0.1:$(free_port)" -i "ipc://$T/gw2.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw2.ctl" -Q "127.0.0.1:$Q2" \
    --quic-cert "$T/quic/other.pem" --quic-key "$T/quic/other.key"
refused "a certificate for another name" "does not match" \
    "quic://127.0.0.1:$Q2" "${CA[@]}"
stop gw2

# Loss on the path: datagrams lost for real (missed snapshots), stream
# messages only late; every client still served.
"$B/gs-loadgen" -u "$QURL" "${CA[@]}" -n 10 -p 10 -d 4s -j \
    -I 'loss=10%,delay=10ms' >"$T/qi.json" 2>"$T/qi.log" ||
    die "impaired QUIC run exited $?"
for want in 'j["got_snapshots"] == 10' \
    'j["impairment"]["model"] == "per_lane"' \
    'j["impairment"]["lanes"]["datagram"]["down"]["lost"] > 0' \
    'j["impairment"]["lanes"]["datagram"]["up"]["lost"] > 0' \
    'j["impairment"]["lanes"]["stream"]["down"]["msgs"] > 0' \
    'j["drop"]["missed"] > 0'; do
	[ "$(json "$T/qi.json" "$want")" = True ] ||
	    die "impaired QUIC, not $want: $(json "$T/qi.json" 'j["impairment"]')"
done

# SIGINT: the report, exit 0, and the gateway left with no client.
"$B/gs-loadgen" -u "$QURL" "${CA[@]}" -n 4 -R sigint -d 10m -q -j \
    >"$T/qs.json" 2>"$T/qs.log" &
lg=$!
wait_for "4 playing" 60 players_are "ipc://$T/gw.ctl" 4
kill -INT $lg
wait $lg || die "gs-loadgen over QUIC after SIGINT exited $?"
[ "$(json "$T/qs.json" 'j["welcomed"] == 4 and j["reconnect"]["losses_all"] == 0')" = True ] ||
    die "SIGINT: $(json "$T/qs.json" '(j["welcomed"], j["reconnect"])')"
wait_for "the gateway to let them go" 20 players_are "ipc://$T/gw.ctl" 0

stop gw
stop sim
echo "quicplay: ok"
