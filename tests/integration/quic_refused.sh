#!/bin/bash
# Who the QUIC port turns away (gs-protocol(7), QUIC), while a QUIC
# player plays on:
#  a. Debian's QUIC client, gtlsclient (ngtcp2-client), which offers
#     the ALPN h3 only: its handshake fails with CONNECTION_CLOSE
#     CRYPTO_ERROR 0x178 (no_application_protocol) and it ends.  Sixty
#     of them at once are counted (refused, reason tls) and cost the
#     gateway's log no more than its rate limit (10 lines a second);
#  b. gs-loadgen trusting another authority (--tls-ca) does not
#     connect: exit 1, connects failed, nobody welcomed, the reason
#     names the certificate; the gateway keeps nothing of it;
#  c. gs-loadgen to a gateway whose certificate, signed by the
#     authority it trusts, names other.test and not 127.0.0.1 does not
#     connect either, for that reason;
#  d. the same gs-loadgen with the right authority, to the name or
#     address in the certificate, plays.
. "$(dirname "$0")/../lib.sh"
command -v gtlsclient >/dev/null || die "no gtlsclient (apt-get install ngtcp2-client)"
quic_stack
GW="ipc://$T/gw.ctl"
players_start -u "$QURL" --tls-ca "$QCA" -n 2 -p 2 -d 10m -q -j \
    --slo 'served>=100%,errors<=0'
wait_for "2 QUIC players" 60 players_are "$GW" 2
tls_refused() { metric "$GW" 'gs_gateway_quic_refused_total{reason="tls"}'; }
# refused WHAT JSON WHY: gs-loadgen's report JSON says its one client
# was not welcomed because it refused the server's certificate, for a
# reason that matches WHY (GnuTLS's words).
refused() {
	[ "$(json "$2" 'j["welcomed"]')" = 0 ] || die "$1: welcomed"
	[ "$(json "$2" 'j["connect_failures"] >= 1')" = True ] ||
	    die "$1: no connect failure reported: $(cat "$2")"
	json "$2" 'j["per_client"][0]["fail"]' >"$T/why"
	grep -qi 'certificate.*refused.*'"$3" "$T/why" ||
	    die "$1: the reason is not the certificate's $3: $(cat "$T/why")"
}
# only_players: the gateway holds the players' QUIC connections and no
# handshake: a refused client leaves nothing behind.
only_players() {
	[ "$(metric "$GW" gs_gateway_quic_connections)" = 2 ] &&
	    [ "$(metric "$GW" gs_gateway_quic_handshakes)" = 0 ]
}

# --- a. ALPN h3 ---------------------------------------------------------
r0=$(tls_refused)
log0=$(wc -l <"$T/gw.log")
t0=$(date +%s.%N)
pids=()
for ((i = 0; i < 60; i++)); do
	timeout 60 gtlsclient --handshake-timeout=10s 127.0.0.1 "$QPORT" \
	    "https://127.0.0.1:$QPORT/" >"$T/gtls.$i.out" 2>&1 &
	pids+=($!)
done
for ((i = 0; i < 60; i++)); do
	wait "${pids[$i]}"; rc=$?
	# gtlsclient exits 0 after a close it was sent; 124 is timeout's.
	[ "$rc" != 124 ] || die "gtlsclient $i did not end: $(tail -n 3 "$T/gtls.$i.out")"
	grep -q 'CONNECTION_CLOSE.*CRYPTO_ERROR(0x178)' "$T/gtls.$i.out" ||
	    die "gtlsclient $i was not refused with no_application_protocol: $(tail -n 5 "$T/gtls.$i.out")"
done
t1=$(date +%s.%N)
r=$(( $(tls_refused) - r0 ))
[ "$r" -ge 60 ] || die "a: $r handshakes refused for tls, want 60"
# Lines the refusals may have cost: 10 a second and a "suppressed"
# line, for each second begun.
secs=$($PY -c "import math,sys; print(math.ceil(float(sys.argv[2]) - float(sys.argv[1])) + 1)" "$t0" "$t1")
lines=$(( $(wc -l <"$T/gw.log") - log0 ))
[ "$lines" -le $((11 * secs)) ] ||
    die "a: $lines log lines for 60 refusals in $secs s: not rate-limited"
[ "$lines" -lt 60 ] || die "a: a log line for every refusal ($lines)"
"$B/gs-ctl" -c "$GW" -t 2000 status >/dev/null || die "a: gs-ctl got no answer"
echo "a: 60 gtlsclients refused (no_application_protocol), $lines log lines"

# --- b. another authority ------------------------------------------------
"$B/gs-loadgen" -u "$QURL" --tls-ca "$T/certs/other-ca.pem" -n 1 -d 3s -q -j \
    >"$T/ca.json" 2>"$T/ca.log"
rc=$?
[ "$rc" = 1 ] || { cat "$T/ca.json"; die "b: gs-loadgen trusting another authority exited $rc, want 1"; }
refused b "$T/ca.json" "issuer is unknown"
wait_for "the gateway to forget the refused client" 30 only_players
echo "b: another authority: $(json "$T/ca.json" 'j["connect_failures"]') connects failed: $(cat "$T/why")"

# --- c. a certificate for another name ------------------------------------
Q2=$(free_udp_port)
start gw2 "$B/gs-gateway" -D -H "127.0.0.1:$(free_port)" -i "ipc://$T/gw2.in" \
    -s "ipc://$T/sim.in" -c "ipc://$T/gw2.ctl" -Q "127.0.0.1:$Q2" \
    --quic-cert "$T/certs/other.pem" --quic-key "$T/certs/other.key"
"$B/gs-loadgen" -u "quic://127.0.0.1:$Q2" --tls-ca "$QCA" -n 1 -d 3s -q -j \
    >"$T/name.json" 2>"$T/name.log"
rc=$?
[ "$rc" = 1 ] || { cat "$T/name.json"; die "c: gs-loadgen to a certificate for other.test exited $rc, want 1"; }
refused c "$T/name.json" "name .*does not match"
stop gw2
echo "c: a certificate for other.test: $(json "$T/name.json" 'j["connect_failures"]') connects failed: $(cat "$T/why")"

# --- d. the right authority and name ---------------------------------------
"$B/gs-loadgen" -u "$QURL" --tls-ca "$QCA" -n 2 -p 2 -R right -d 2s -q -j \
    >"$T/ok.json" 2>"$T/ok.log" ||
    { cat "$T/ok.json"; die "d: gs-loadgen to 127.0.0.1 with the right authority failed"; }
[ "$(json "$T/ok.json" 'j["got_snapshots"]')" = 2 ] || die "d: 127.0.0.1: no snapshots"
# localhost, when it is 127.0.0.1 here (the gateway listens there only).
if [ "$(getent ahosts localhost | awk 'NR == 1 { print $1 }')" = 127.0.0.1 ]; then
	"$B/gs-loadgen" -u "quic://localhost:$QPORT" --tls-ca "$QCA" -n 1 \
	    -R right -d 2s -q -j >"$T/ok.json" 2>"$T/ok.log" ||
	    { cat "$T/ok.json"; die "d: gs-loadgen to localhost failed"; }
	[ "$(json "$T/ok.json" 'j["got_snapshots"]')" = 1 ] || die "d: localhost: no snapshots"
	echo "d: the right authority and name play (127.0.0.1, localhost)"
else
	echo "d: the right authority and name play (127.0.0.1; localhost is not 127.0.0.1 here)"
fi

players_end
gw_unharmed
stop gw
stop sim
echo "quic_refused: ok"
