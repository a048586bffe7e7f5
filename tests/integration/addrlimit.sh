#!/bin/bash
# Connections per address (gs-gateway(8), -A, -a): one address keeps
# opening connections; past its connect rate (a burst of 10, then 5 a
# second) and past 20 open, the gateway closes the new ones as it
# accepts them, and counts them; another address still plays.
. "$(dirname "$0")/../lib.sh"
stack -A 20 -a 5:10
$PY "$(dirname "$0")/abuser.py" idle 127.0.0.1 "$PORT" 100 tcp 1 \
    >"$T/idle.out" 2>&1 &
GS_PID[idle]=$!
refused() {
	[ "$(metric "ipc://$T/gw.ctl" "gs_gateway_connections_refused_total{reason=\"$1\"}")" -ge 1 ]
}
wait_for "refusals for connections open" 30 refused address_connections
wait_for "refusals for the connect rate" 30 refused address_rate
open=$(metric "ipc://$T/gw.ctl" gs_gateway_tcp_connections)
[ "$open" -le 20 ] || die "$open connections open from one address, want 20 at most"
[ "$($PY "$(dirname "$0")/abuser.py" hello "$URL" room other 127.0.0.2)" = welcome ] ||
    die "another address could not play"
kill -TERM "${GS_PID[idle]}"
wait "${GS_PID[idle]}"
unset "GS_PID[idle]"
n=$(wc -l <"$T/gw.log")
[ "$n" -lt 100 ] || die "gateway log: $n lines"
stop gw
stop sim
echo "addrlimit: ok"
