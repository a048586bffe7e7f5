#!/bin/bash
# 5,000 idle connections (gs-gateway(8), Limits): WebSocket upgrades
# from 250 addresses that never say hello, each reopened when closed.
# Meanwhile ten players keep playing (none closed, no snapshot of
# theirs dropped), every idle connection's hello deadline expires and
# closes it, gs-ctl answers, a new player joins, and the gateway's log
# stays small.
. "$(dirname "$0")/../lib.sh"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 5300 ] || die "open files: limit $(ulimit -n), need 5300"
stack
players_start -u "$URL" -n 10 -p 5 -d 10m -q -j --slo 'served>=100%,errors<=0'
wait_for "10 players" 30 players_are "ipc://$T/gw.ctl" 10

$PY "$(dirname "$0")/abuser.py" idle 127.0.0.1 "$PORT" 5000 ws 250 \
    >"$T/idle.out" 2>&1 &
GS_PID[idle]=$!
idle_open() { grep -qx "open 5000" "$T/idle.out"; }
wait_for "5000 idle connections" 120 idle_open
# Each of them has been closed by its hello deadline once: the gateway
# counted them, and the abuser saw their close frames.
timeouts() { [ "$(metric "ipc://$T/gw.ctl" gs_gateway_hello_timeouts_total)" -ge 5000 ]; }
wait_for "5000 hello deadlines" 120 timeouts
idle_closed() { grep -qx "closed 5000" "$T/idle.out"; }
wait_for "5000 connections closed" 60 idle_closed
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["clients"] >= 4000')" = True ] ||
    die "the idle connections are not open: $(cat "$T/ctl.json")"
[ "$(ctl_field "ipc://$T/gw.ctl" 'j["playing"]')" = 10 ] || die "a player left"
[ "$($PY "$(dirname "$0")/abuser.py" hello "$URL" newroom newcomer 127.0.0.3)" = welcome ] ||
    die "a new player could not join"
kill -TERM "${GS_PID[idle]}"
wait "${GS_PID[idle]}"
unset "GS_PID[idle]"

players_end
gw_unharmed
stop gw
stop sim
echo "idle: ok (gateway log $(wc -l <"$T/gw.log") lines)"
