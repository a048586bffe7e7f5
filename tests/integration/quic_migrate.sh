#!/bin/bash
# QUIC connection migration (gs-protocol(7), QUIC; RFC 9000 section 9):
# gs-loadgen --quic-migrate 1s moves each client, every second and
# mid-game, to a new UDP socket (a new source port, as after a NAT
# rebinding) and to the next spare connection ID the gateway issued.
#  1. 10 clients play while the gateway validates 40 new paths (about
#     5 s): meanwhile it answers no packet with a stateless reset (every
#     ID it issued is routed), no client connects again (none lost its
#     connection), it keeps exactly the 10 connections and 10
#     playing clients gs-ctl reports (a move makes no second connection
#     and loses none), and gs-loadgen's descriptors stay flat (each
#     move's old socket is closed).
#  2. Every client was welcomed once, got snapshots and moved in the
#     game as asked, with no connection lost and no error; each moved
#     at least 3 times, no move failed, and the gateway counted the
#     same moves, give or take one in flight per client.
#  3. Once gs-loadgen is gone the gateway holds nothing of them.
#  4. Four clients that move every 200 ms move more often than ngtcp2
#     keeps connection IDs (8, the retired ones included): the gateway
#     keeps retiring old IDs and issuing new ones while they play (its
#     timer runs although snapshots never stop), so each client moves
#     at least 10 times, none refused for want of an ID, none lost.
#  5. Five clients that move every 20 ms, faster than paths are validated,
#     while 5 others play: libngtcp2 0.12.1 aborts a process that lets
#     it (gs-gateway(8), QUIC); the gateway drops the moves that come too
#     soon (dropped{reason="move"}), stays up, and the others play on
#     with no connection lost.
#  6. Both daemons exit 0 on SIGTERM (ASan: no leak).
. "$(dirname "$0")/../lib.sh"
quic_stack
GW="ipc://$T/gw.ctl"
N=10
MOVES=$((4 * N))

# 1.
players_start -u "$QURL" --tls-ca "$QCA" -n $N -p $N -R moving -d 10m \
    -m -q -j --quic-migrate 1s
# What a broken move shows while they play: a stateless reset (a packet
# on an ID the gateway does not route), or a client connecting again
# (its connection lost).  Either ends the waits below, and the test.
# One read of the metrics a poll ($T/m.txt).
mval() { awk -v n="$1" '$1 == n { print $2 }' "$T/m.txt"; }
broken() {
	"$B/gs-ctl" -c "$GW" metrics >"$T/m.txt" || return 1
	[ "$(mval gs_gateway_quic_resets_total)" != 0 ] ||
	    [ "$(mval gs_gateway_connections_total)" -gt $N ]
}
unbroken() {
	local r c
	r=$(metric "$GW" gs_gateway_quic_resets_total)
	[ "$r" = 0 ] ||
	    die "the gateway sent $r stateless resets: a client's packets on a connection ID it issued found no connection"
	c=$(metric "$GW" gs_gateway_connections_total)
	[ "$c" = $N ] ||
	    die "$c connections for $N clients: a client lost its connection and connected again"
}
playing() { broken || players_are "$GW" $N; }
# moved_on N: the gateway validated N new paths since m0.
moved_on() {
	broken || [ "$(mval gs_gateway_quic_migrations_total)" -ge $((m0 + $1)) ]
}
wait_for "$N playing" 60 playing
unbroken
fd0=$(ls "/proc/$LG/fd" | wc -l)
m0=$(metric "$GW" gs_gateway_quic_migrations_total)
wait_for "$MOVES new paths validated by the gateway" 30 moved_on $MOVES
unbroken
fd1=$(ls "/proc/$LG/fd" | wc -l)
[ "$fd1" -le $((fd0 + N)) ] ||
    die "gs-loadgen holds $fd1 descriptors after $MOVES moves, $fd0 before: old sockets not closed"
players_are "$GW" $N ||
    die "gs-ctl: $(ctl_field "$GW" 'j["playing"]') playing after the moves, want $N"
conns=$(metric "$GW" gs_gateway_quic_connections)
[ "$conns" = $N ] || die "$conns QUIC connections after the moves, want $N"

# 2.
kill -INT $LG
wait $LG; rc=$?
unset "GS_PID[lg]"
[ "$rc" = 0 ] ||
    die "gs-loadgen exited $rc: $(json "$T/lg.json" '(j["welcomed"], j["got_snapshots"], j["moved_as_asked"], j["quic"], [c["fail"] for c in j["per_client"]])')"
for want in "j['welcomed'] == $N" "j['got_snapshots'] == $N" \
    "j['moved_as_asked'] == $N" 'j["errors_total"] == 0' \
    'j["connect_failures"] == 0' 'j["reconnect"]["losses_all"] == 0' \
    "j['quic']['handshakes'] == $N" "j['quic']['migrations'] >= $MOVES" \
    'j["quic"]["migration_failures"] == 0' \
    'min(c["migrations"] for c in j["per_client"]) >= 3'; do
	[ "$(json "$T/lg.json" "$want")" = True ] ||
	    die "not $want: $(json "$T/lg.json" '(j["errors"], j["reconnect"], j["quic"], [(c["migrations"], c["fail"]) for c in j["per_client"]])')"
done
# Each side validates the other on the new path: the counts agree, but
# for a move still in flight at the end (one per client at most).
lgm=$(json "$T/lg.json" 'j["quic"]["migrations"]')
gwm=$(metric "$GW" gs_gateway_quic_migrations_total)
[ "$gwm" -ge $((lgm - N)) ] && [ "$gwm" -le $((lgm + N)) ] ||
    die "gs-loadgen counted $lgm validated moves, the gateway $gwm new paths"
pf=$(metric "$GW" gs_gateway_quic_path_failures_total)
[ "$pf" = 0 ] || die "the gateway counted $pf failed path validations"

# 3.
wait_for "the gateway to let them go" 20 players_are "$GW" 0
conns_are() { [ "$(metric "$GW" gs_gateway_quic_connections)" = "$1" ]; }
wait_for "no QUIC connection left" 20 conns_are 0

# 4.
"$B/gs-loadgen" -u "$QURL" --tls-ca "$QCA" -n 4 -p 4 -R often -d 10m -q -j \
    --quic-migrate 200ms >"$T/lg2.json" 2>"$T/lg2.log" &
LG=$!
GS_PID[lg]=$LG
wait_for "4 playing" 60 players_are "$GW" 4
m0=$(metric "$GW" gs_gateway_quic_migrations_total)
gw_moved() {
	[ "$(metric "$GW" gs_gateway_quic_migrations_total)" -ge $((m0 + $1)) ]
}
wait_for "60 more new paths validated by the gateway" 30 gw_moved 60
kill -INT $LG
wait $LG; rc=$?
unset "GS_PID[lg]"
[ "$rc" = 0 ] || die "gs-loadgen every 200 ms exited $rc"
for want in 'min(c["migrations"] for c in j["per_client"]) >= 10' \
    'j["quic"]["migration_failures"] == 0' \
    'j["reconnect"]["losses_all"] == 0' 'j["quic"]["handshakes"] == 4'; do
	[ "$(json "$T/lg2.json" "$want")" = True ] ||
	    die "moving every 200 ms, not $want: $(json "$T/lg2.json" '(j["reconnect"], j["quic"], [(c["migrations"], c["fail"]) for c in j["per_client"]])')"
done
often=$(json "$T/lg2.json" 'j["quic"]["migrations"]')

# 5.
players_start -u "$QURL" --tls-ca "$QCA" -n 5 -p 5 -R calm -d 10m -q -j
wait_for "5 playing" 60 players_are "$GW" 5
d0=$(metric "$GW" 'gs_gateway_quic_dropped_total{reason="move"}')
"$B/gs-loadgen" -u "$QURL" --tls-ca "$QCA" -n 5 -p 5 -R restless -d 4s -q -j \
    --quic-migrate 20ms >"$T/lg4.json" 2>"$T/lg4.log"
kill -0 "${GS_PID[gw]}" 2>/dev/null ||
    die "the gateway died under a client moving every 20 ms: $(grep -a -m1 Unreachable "$T/gw.log")"
[ "$(metric "$GW" 'gs_gateway_quic_dropped_total{reason="move"}')" -gt "$d0" ] ||
    die "no move dropped for coming too soon"
players_end

# 6.
stop gw
stop sim
echo "quic_migrate: $N players, $lgm moves to a new socket and connection ID, $gwm paths validated by the gateway; 4 players, $often moves every 200 ms; a client moving every 20 ms held off"
