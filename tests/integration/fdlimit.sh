#!/bin/bash
# The descriptor limit (gs-gateway(8), Limits): a gateway under
# ulimit -n 256 and 10 players.  (1) Connections up to its default cap,
# the limit less 64: it stops accepting, says so once, does not spin,
# gs-ctl answers, the players play on, and once the connections close a
# new player joins.  (2) With -C above the limit, accept() itself fails
# with EMFILE: the same, but for gs-ctl, which needs a descriptor too.
. "$(dirname "$0")/../lib.sh"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
abuse() {
	$PY "$(dirname "$0")/abuser.py" idle 127.0.0.1 "$PORT" 400 tcp 40 \
	    >"$T/idle.out" 2>&1 &
	GS_PID[idle]=$!
	idle_open() { grep -qx "open 400" "$T/idle.out"; }
	wait_for "400 connections" 60 idle_open
}
unabuse() {
	kill -TERM "${GS_PID[idle]}"
	wait "${GS_PID[idle]}"
	unset "GS_PID[idle]"
}
# spins: the gateway used over half a core over 2 s (a busy loop uses
# all of it).
spins() {
	local p=${GS_PID[gw]} c0 c1
	c0=$(cpu_ticks "$p"); sleep 2; c1=$(cpu_ticks "$p")
	echo "gateway cpu: $((c1 - c0)) ticks in 2 s"
	[ $((c1 - c0)) -gt "$HZ" ]
}
# joins ROOM: a new player joins, within a minute (12 tries of 5 s).
joins() {
	local i
	for ((i = 0; i < 12; i++)); do
		[ "$($PY "$(dirname "$0")/abuser.py" hello "$URL" "$1" newcomer \
		    127.0.0.3)" = welcome ] && return 0
	done
	return 1
}
gw_start() {
	PORT=$(free_port)
	start gw bash -c 'ulimit -n 256 && exec "$@"' gw "$B/gs-gateway" -D \
	    -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" -s "ipc://$T/sim.in" \
	    -c "ipc://$T/gw.ctl" "$@"
	URL="ws://127.0.0.1:$PORT/"
	players_start -u "$URL" -n 10 -p 5 -d 10m -q -j --slo 'served>=100%'
	wait_for "10 players" 30 players_are "ipc://$T/gw.ctl" 10
}
gw_end() {
	players_end
	stop gw
}
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"

# (1) The cap: 256 - 64.
gw_start
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_tcp_connections_max)" = 192 ] ||
    die "cap: $(metric "ipc://$T/gw.ctl" gs_gateway_tcp_connections_max), want 192"
abuse
paused() { [ "$(metric "ipc://$T/gw.ctl" gs_gateway_accept_paused)" = 1 ]; }
wait_for "accepting to stop" 30 paused
! spins || die "the gateway spins at its connection cap"
[ "$(grep -c "connection limit reached" "$T/gw.log")" = 1 ] ||
    die "want the cap logged once: $(grep -c "connection limit reached" "$T/gw.log")"
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["playing"]')" = 10 ] || die "a player left"
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_tcp_connections)" = 192 ] ||
    die "open: $(metric "ipc://$T/gw.ctl" gs_gateway_tcp_connections), want 192"
unabuse
joins room1 || die "no new player could join"
gw_end

# (2) EMFILE: a cap above the descriptor limit.
mv "$T/gw.log" "$T/gw1.log"
gw_start -C 100000
abuse
nofd() { grep -q "descriptor limit reached" "$T/gw.log"; }
wait_for "accept to fail" 30 nofd
! spins || die "the gateway spins at its descriptor limit"
[ "$(grep -c "descriptor limit reached" "$T/gw.log")" = 1 ] ||
    die "want the limit logged once: $(grep -c "descriptor limit reached" "$T/gw.log")"
unabuse
joins room2 || die "no new player could join"
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["playing"]')" = 10 ] || die "a player left"
[ "$(metric "ipc://$T/gw.ctl" 'gs_gateway_accept_pauses_total{reason="descriptors"}')" -ge 1 ] ||
    die "no pause for descriptors counted"
n=$(wc -l <"$T/gw.log")
[ "$n" -lt 50 ] || die "gateway log: $n lines"
gw_end
stop sim
echo "fdlimit: ok"
