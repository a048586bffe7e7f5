#!/bin/bash
# Abuse of the QUIC port (gs-gateway(8) -Q; gs-protocol(7), QUIC).  Ten
# players play over QUIC while quicflood (tests/tools) throws at the
# gateway's UDP port, in turn:
#  a. garbage: random datagrams, Initial lookalikes that do not open,
#     short headers of unknown connection IDs, unknown versions.  It is
#     dropped and counted, or answered by Retry, Version Negotiation, or
#     stateless resets at most GWQ_RESETS (1000) a second; never with as
#     much as a third of the bytes that came; and leaves no state;
#  b. genuine client Initials, each abandoned: every one gets a Retry,
#     and the gateway keeps nothing (no connection, no handshake);
#  c. genuine client Initials that answer the Retry, then say nothing:
#     at most --quic-handshakes of them get a handshake at a time, the
#     others a CONNECTION_CLOSE, counted as refused.
# Meanwhile gs-ctl answers.  Afterwards the abandoned handshakes expire,
# a new QUIC player joins and plays, the ten players met their SLO
# (every one served, drop under 5%, no connection lost), the gateway's
# log stayed short and it exits cleanly.
. "$(dirname "$0")/../lib.sh"
QF=$GS_BUILD/test/tools/quicflood
[ -x "$QF" ] || die "no $QF (make units)"
HS=16
quic_stack --quic-handshakes "$HS"
GW="ipc://$T/gw.ctl"

players_start -u "$QURL" --tls-ca "$QCA" -n 10 -p 5 -d 10m -q -j \
    --slo 'served>=100%,drop<5%'
wait_for "10 QUIC players" 60 players_are "$GW" 10
[ "$(metric "$GW" gs_gateway_quic_connections)" = 10 ] ||
    die "the players are not on QUIC: $(metric "$GW" gs_gateway_quic_connections) connections"

# qf NAME: the value of NAME in quicflood's line ($T/qf.out).
qf() {
	tr ' ' '\n' <"$T/qf.out" | awk -F= -v k="$1" '$1 == k { print $2 }'
}
# flood ARGS...: run quicflood ARGS against the gateway; gs-ctl must be
# answered while it runs.
flood() {
	local pid rc
	"$QF" "$@" "127.0.0.1:$QPORT" >"$T/qf.out" 2>"$T/qf.log" &
	pid=$!
	"$B/gs-ctl" -c "$GW" -t 2000 status >/dev/null ||
	    die "gs-ctl got no answer during quicflood $*"
	kill -0 "$pid" 2>/dev/null ||
	    echo "note: quicflood $* ended before gs-ctl was answered"
	wait "$pid"; rc=$?
	[ "$rc" = 0 ] || die "quicflood $* exited $rc: $(cat "$T/qf.log")"
	echo "quicflood $*: $(cat "$T/qf.out")"
}
# no_state: the gateway holds the ten players' connections and nothing
# else, no handshake in progress.
no_state() {
	local c h
	c=$(metric "$GW" gs_gateway_quic_connections)
	h=$(metric "$GW" gs_gateway_quic_handshakes)
	[ "$c" = 10 ] && [ "$h" = 0 ] ||
	    die "$1 left state: $c connections, $h handshakes"
}

# --- a. garbage -------------------------------------------------------
in0=$(metric "$GW" gs_gateway_quic_packets_in_total)
drop0=$(metric_sum "$GW" 'gs_gateway_quic_dropped_total{')
reset0=$(metric "$GW" gs_gateway_quic_resets_total)
flood -r 10000 -d 3s -p 4 garbage
sent=$(qf sent)
in=$(( $(metric "$GW" gs_gateway_quic_packets_in_total) - in0 ))
drops=$(( $(metric_sum "$GW" 'gs_gateway_quic_dropped_total{') - drop0 ))
resets=$(( $(metric "$GW" gs_gateway_quic_resets_total) - reset0 ))
[ "$sent" -ge 10000 ] || die "garbage: only $sent datagrams sent"
[ "$in" -ge $((sent / 2)) ] || die "garbage: $in of $sent datagrams reached the gateway"
[ "$drops" -ge $((sent / 4)) ] || die "garbage: $drops of $sent counted as dropped"
# Answers: smaller in all than a third of what came (no amplification),
# resets within their rate over every second the flood touched, each
# one the client saw counted, Retries and Version Negotiation where due.
[ $(( $(qf bytes_in) * 3 )) -le "$(qf bytes_out)" ] ||
    die "garbage: answered $(qf bytes_in) bytes to $(qf bytes_out)"
secs=$(( $(qf elapsed_ms) / 1000 + 2 ))
[ "$resets" -le $((1000 * secs)) ] ||
    die "garbage: $resets stateless resets in $secs seconds, want 1000 a second at most"
[ "$(qf sent_short)" -gt $((1000 * secs)) ] ||
    die "garbage: too few short headers ($(qf sent_short)) to test the reset limit"
[ "$resets" -gt 0 ] || die "garbage: no stateless reset at all"
[ "$(qf short)" -le "$resets" ] ||
    die "garbage: $(qf short) short-header answers, $resets resets counted"
[ "$(qf retry)" -ge $(( $(qf sent_initial) / 2 )) ] ||
    die "garbage: $(qf retry) Retries for $(qf sent_initial) Initial lookalikes"
[ "$(qf vn)" -ge $(( $(qf sent_version) / 2 )) ] ||
    die "garbage: $(qf vn) Version Negotiations for $(qf sent_version) unknown versions"
no_state garbage
echo "a: garbage: $sent datagrams, $drops dropped, $resets resets"

# --- b. Initials, abandoned --------------------------------------------
retry0=$(metric "$GW" gs_gateway_quic_retries_total)
flood -r 1000 -d 3s -p 16 initial
retries=$(( $(metric "$GW" gs_gateway_quic_retries_total) - retry0 ))
[ "$(qf conns)" -ge 1000 ] || die "initial: only $(qf conns) Initials sent"
[ "$(qf retry)" -ge $(( $(qf conns) * 9 / 10 )) ] ||
    die "initial: $(qf retry) Retries for $(qf conns) Initials"
[ "$retries" -ge "$(qf retry)" ] ||
    die "initial: $retries Retries counted, $(qf retry) received"
[ "$(qf handshake)" = 0 ] ||
    die "initial: the gateway began $(qf handshake) handshakes without a token"
no_state "an Initial flood"
echo "b: $(qf conns) Initials, $(qf retry) Retries, no state"

# --- c. Initials that answer the Retry, then fall silent ----------------
refused0=$(metric "$GW" 'gs_gateway_quic_refused_total{reason="handshakes"}')
idle0=$(metric "$GW" gs_gateway_quic_idle_closes_total)
flood -R -r 200 -c 300 -p 8 initial
refused=$(( $(metric "$GW" 'gs_gateway_quic_refused_total{reason="handshakes"}') - refused0 ))
hs=$(metric "$GW" gs_gateway_quic_handshakes)
[ "$(qf retry_answered)" -ge 270 ] ||
    die "silent: only $(qf retry_answered) of 300 Retries answered"
[ "$(qf accepted)" -ge 1 ] || die "silent: no handshake at all"
[ "$(qf accepted)" -le "$HS" ] ||
    die "silent: $(qf accepted) handshakes at once, the cap is $HS"
[ "$hs" -le "$HS" ] || die "silent: $hs handshakes in progress, the cap is $HS"
[ "$(qf closed)" -ge $(( $(qf retry_answered) - HS - 10 )) ] ||
    die "silent: only $(qf closed) of $(qf retry_answered) refused with a close"
[ "$refused" -ge "$(qf closed)" ] ||
    die "silent: $refused refusals counted, $(qf closed) closes received"
# The silent handshakes end by the handshake deadline (10 s), counted.
hs_gone() { [ "$(metric "$GW" gs_gateway_quic_handshakes)" = 0 ]; }
wait_for "the silent handshakes to expire" 60 hs_gone
[ $(( $(metric "$GW" gs_gateway_quic_idle_closes_total) - idle0 )) -ge "$(qf accepted)" ] ||
    die "silent: the expired handshakes were not counted"
no_state "the silent handshakes"
echo "c: $(qf accepted) handshakes held (cap $HS), $(qf closed) refused"

# --- afterwards --------------------------------------------------------
"$B/gs-loadgen" -u "$QURL" --tls-ca "$QCA" -n 1 -R newroom -d 2s -j \
    >"$T/new.json" 2>"$T/new.log" ||
    { cat "$T/new.json"; die "a new QUIC player could not play (exit $?)"; }
[ "$(json "$T/new.json" 'j["got_snapshots"]')" = 1 ] ||
    die "the new QUIC player got no snapshots"
[ "$(ctl_field "$GW" 'j["playing"]')" = 10 ] || die "a player left"
players_end
gw_unharmed
stop gw
stop sim
echo "quic_abuse: ok (players' drop $(json "$T/lg.json" 'j["drop"]["rate"]'), gateway log $(wc -l <"$T/gw.log") lines)"
