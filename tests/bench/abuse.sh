#!/bin/bash
# The abuse bench (figures, not pass/fail): 50 players (gs-loadgen, rooms
# of 10) against one gs-sim and one gs-gateway, the servers pinned to
# one CPU and the load (players and abuser) to another, in four
# scenarios, each on a fresh stack:
#
#   baseline  the players alone
#   idle      + 10,000 idle WebSocket connections (upgraded, no hello)
#             from 250 addresses, each reopened when closed
#   fdlimit   the gateway under ulimit -n 2048, + 3,000 idle TCP
#             connections from 30 addresses: its descriptor limit
#   flood     + one client flooding inputs and pings, reconnecting and
#             flooding again whenever it is closed
#   expire    + 10,000 WebSocket connections opened as fast as they go,
#             the gateway's connection limits off (GS_GATEWAY_*
#             variables), so that their hello deadlines expire nearly
#             together inside the window: what closing many at once
#             costs the players (see p99 and the max)
#
# Each prints the players' RTT p50 and p99 and snapshot drop rate over a
# window of $GS_ABUSE_SECONDS (default 20) opened once the abuse is in
# place (and their RTT max), the gateway's CPU share over it, whether
# the gateway answered gs-ctl during it, and its log lines.  The
# abuser runs at nice 19 on the load's CPU: it must not starve the
# players' gs-loadgen, whose own delays count in its RTT.
#
# usage: tests/bench/abuse.sh [SERVER_BIN [LOAD_BIN]]
#   SERVER_BIN: gs-sim and gs-gateway (default build/bin); LOAD_BIN:
#   gs-loadgen and gs-ctl (default build/bin), so that two builds get
#   the same load.  GS_ABUSE_ONLY="idle flood": some scenarios only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SRV_BIN=$(cd "${1:-$top/build/bin}" && pwd) || exit 111
LOAD_BIN=$(cd "${2:-$top/build/bin}" && pwd) || exit 111
export GS_BUILD=$top/build
source "$top/tests/lib.sh"
B=$LOAD_BIN
SECS=${GS_ABUSE_SECONDS:-20}
ONLY=${GS_ABUSE_ONLY:-baseline idle fdlimit flood expire}
SRV_CPU=0 LOAD_CPU=1
HZ=$(getconf CLK_TCK)
ABUSER=$top/tests/integration/abuser.py
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
taskset -pc "$LOAD_CPU" $$ >/dev/null || die "taskset"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# stack NOFILE: sim and gateway from SRV_BIN on SRV_CPU, the gateway
# under ulimit -n NOFILE.
stack_up() {
	PORT=$(free_port)
	start sim taskset -c "$SRV_CPU" "$SRV_BIN/gs-sim" \
	    -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
	start gw taskset -c "$SRV_CPU" bash -c 'ulimit -n "$0" && exec "$@"' \
	    "$1" "$SRV_BIN/gs-gateway" -D -H "127.0.0.1:$PORT" \
	    -i "ipc://$T/gw.in" -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl"
	URL="ws://127.0.0.1:$PORT/"
}

stack_down() {
	local n
	for n in abuser flood lg; do
		[ -n "${GS_PID[$n]:-}" ] || continue
		kill -TERM "${GS_PID[$n]}" 2>/dev/null
		wait "${GS_PID[$n]}" 2>/dev/null
		unset "GS_PID[$n]"
	done
	kill -TERM "${GS_PID[gw]}" "${GS_PID[sim]}" 2>/dev/null
	# A spinning gateway may not stop: it is cut.
	for n in $(seq 50); do kill -0 "${GS_PID[gw]}" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "${GS_PID[gw]}" 2>/dev/null
	wait "${GS_PID[gw]}" "${GS_PID[sim]}" 2>/dev/null
	unset "GS_PID[gw]" "GS_PID[sim]"
}

players() {
	taskset -c "$LOAD_CPU" "$B/gs-loadgen" -u "$URL" -n 50 -p 10 -d 30m \
	    -q -j >"$T/lg.json" 2>"$T/lg.log" &
	GS_PID[lg]=$!
	wait_for "50 players" 60 players_are "ipc://$T/gw.ctl" 50
}

# A flooder, again and again.
flooder() {
	local i=0
	while :; do
		nice -n 19 $PY "$ABUSER" flood "$URL" flooded "flooder$i" \
		    >/dev/null 2>&1
		i=$((i + 1))
		sleep 0.1
	done
}

run() {
	local name=$1 nofile=20000 g c0 c1 ctl=yes
	case $name in fdlimit) nofile=2048 ;; esac
	if [ "$name" = expire ]; then
		GS_GATEWAY_ADDRESS_CONNS=0 GS_GATEWAY_ADDRESS_CONNECT_RATE=0 \
		    GS_GATEWAY_CONNECT_RATE=0 stack_up "$nofile"
	else
		stack_up "$nofile"
	fi
	players
	case $name in
	idle)
		taskset -c "$LOAD_CPU" nice -n 19 $PY "$ABUSER" idle 127.0.0.1 "$PORT" \
		    10000 ws 250 >"$T/abuser.out" 2>&1 &
		GS_PID[abuser]=$!
		abuse_ok() { grep -q "^open" "$T/abuser.out"; }
		wait_for "10000 idle connections" 120 abuse_ok
		;;
	fdlimit)
		taskset -c "$LOAD_CPU" nice -n 19 $PY "$ABUSER" idle 127.0.0.1 "$PORT" \
		    3000 tcp 30 >"$T/abuser.out" 2>&1 &
		GS_PID[abuser]=$!
		abuse_ok() { grep -q "^open" "$T/abuser.out"; }
		wait_for "3000 connections" 120 abuse_ok
		;;
	flood)
		flooder &
		GS_PID[flood]=$!
		sleep 2
		;;
	expire)
		taskset -c "$LOAD_CPU" nice -n 19 $PY "$ABUSER" idle 127.0.0.1 "$PORT" \
		    10000 ws 250 20000 >"$T/abuser.out" 2>&1 &
		GS_PID[abuser]=$!
		abuse_ok() { grep -q "^open" "$T/abuser.out"; }
		wait_for "10000 connections" 120 abuse_ok
		;;
	esac
	g=${GS_PID[gw]}
	kill -USR1 "${GS_PID[lg]}"
	c0=$(cpu_ticks "$g")
	sleep "$((SECS / 2))"
	timeout 5 "$B/gs-ctl" -c "ipc://$T/gw.ctl" -t 2000 status >/dev/null 2>&1 || ctl=no
	sleep "$((SECS - SECS / 2))"
	c1=$(cpu_ticks "$g")
	kill -INT "${GS_PID[lg]}"
	wait "${GS_PID[lg]}"
	unset "GS_PID[lg]"
	printf '%-9s %8s %8s %8s %8s %7s %6s %9s\n' "$name" \
	    "$(json "$T/lg.json" 'j["rtt_ms"]["p50"]')" \
	    "$(json "$T/lg.json" 'j["rtt_ms"]["p99"]')" \
	    "$(json "$T/lg.json" 'j["rtt_ms"]["max"]')" \
	    "$(json "$T/lg.json" '"%.3f%%" % (100 * (j["drop"]["rate"] or 0))')" \
	    "$(( (c1 - c0) * 100 / HZ / SECS ))%" "$ctl" \
	    "$(wc -l <"$T/gw.log")"
	stack_down
	rm -f "$T/gw.log" "$T/sim.log"
}

echo "gateway and sim: $SRV_BIN; load: $LOAD_BIN; window ${SECS}s"
printf '%-9s %8s %8s %8s %8s %7s %6s %9s\n' scenario "p50 ms" "p99 ms" \
    "max ms" drop "gw cpu" gs-ctl "log lines"
for s in $ONLY; do
	run "$s"
done
