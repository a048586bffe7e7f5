#!/bin/bash
# GET /negotiate and a client's choice of transport (gs-protocol(7),
# QUIC; gs-loadgen -u http://): gs-loadgen asks the gateway's HTTP port
# and each client tries QUIC first, falling back to WebSocket.
#  a. A gateway with -Q: every client plays over QUIC (the gateway's
#     QUIC counters move), none falls back.
#  b. A gateway whose QUIC port is on another address than the one it is
#     reached at (127.0.0.2; /negotiate names 127.0.0.1, where nothing
#     listens on UDP): every client falls back to WebSocket at once and
#     plays, with no loss counted.
#  c. A gateway without -Q: /negotiate offers WebSocket alone.
. "$(dirname "$0")/../lib.sh"
quic_certs "$T/q"

# negotiated ADDR [FLAGS...]: the stack with -Q ADDR (none: no -Q) and
# 10 gs-loadgen clients by http://; the report in $T/lg.json.
negotiated() {
	local addr=$1; shift
	local quic=()
	[ -n "$addr" ] && quic=(-Q "$addr" --quic-cert "$T/q/server.pem"
	    --quic-key "$T/q/server.key")
	stack "${quic[@]}"
	"$B/gs-loadgen" -u "http://127.0.0.1:$PORT/" --tls-ca "$T/q/ca.pem" \
	    -n 10 -d 3s -m -j "$@" >"$T/lg.json" 2>"$T/lg.log" ||
	    die "gs-loadgen -u http:// exited $? ($(tail -n 1 "$T/lg.log"))"
	for k in welcomed got_snapshots moved_as_asked; do
		[ "$(json "$T/lg.json" "j['$k']")" = 10 ] ||
		    die "$k: $(json "$T/lg.json" "j['$k']") of 10"
	done
	[ "$(json "$T/lg.json" 'j["reconnect"]["losses_all"]')" = 0 ] ||
	    die "losses counted: $(json "$T/lg.json" 'j["reconnect"]')"
}
neg() { json "$T/lg.json" "j['negotiated']['$1']"; }

# a.
QP=$(free_udp_port)
negotiated "127.0.0.1:$QP"
[ "$(neg quic_url)" = "quic://127.0.0.1:$QP" ] || die "a: quic_url $(neg quic_url)"
[ "$(neg quic)" = 10 ] && [ "$(neg fallbacks)" = 0 ] ||
    die "a: $(json "$T/lg.json" 'j["negotiated"]')"
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_quic_datagrams_in_total)" -gt 0 ] ||
    die "a: the gateway received no datagram"
stop gw
stop sim

# b.
QP=$(free_udp_port)
negotiated "127.0.0.2:$QP"
[ "$(neg websocket)" = 10 ] && [ "$(neg fallbacks)" = 10 ] ||
    die "b: $(json "$T/lg.json" 'j["negotiated"]')"
[ "$(json "$T/lg.json" 'j["connect_failures"]')" = 0 ] ||
    die "b: a fallback counted as a connect failure"
stop gw
stop sim

# c.
negotiated ""
[ "$(neg quic_url)" = None ] && [ "$(neg websocket)" = 10 ] &&
    [ "$(neg fallbacks)" = 0 ] || die "c: $(json "$T/lg.json" 'j["negotiated"]')"
stop gw
stop sim
echo "negotiate: QUIC first, WebSocket when QUIC is not there or not offered"
