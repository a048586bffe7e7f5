#!/bin/bash
# The links between daemons are no open door (gs(7), Links between
# daemons):
#  a. ipc sockets (inboxes, control sockets, gs-persist's requests) are
#     mode 0600 under umask 000;
#  b. as root: another user cannot connect to them;
#  c. a forger PUSHing a gateway header with a reply url the sim was not
#     told, and JOINs, is refused: counted, no player, nothing dialed;
#     the same forger with a url the sim was told is answered (control);
#  d. tls+tcp with good certificates plays end to end; a certificate of
#     another authority, or a server certificate for another name, gets
#     no connection, and the daemon keeps serving;
#  e. a plain tcp listener off loopback is refused without
#     --trusted-network and served with it.
. "$(dirname "$0")/../lib.sh"
FORGE=$GS_BUILD/test/tools/forge
[ -x "$FORGE" ] || die "no $FORGE (make units)"

# metric_ge CTL NAME N: the daemon's sample NAME is at least N.
metric_ge() {
	local v
	v=$(metric "$1" "$2")
	[ -n "$v" ] && [ "${v%.*}" -ge "$3" ]
}

# --- a. modes under umask 000 ---------------------------------------
# The sockets live in a directory anyone may enter, so that only their
# own modes keep another user out.
D=$T/pub
mkdir "$D" && chmod 755 "$T" "$D" || die "mkdir $D"
make_keys
umask 000
start persist "$B/gs-persist" -d "$D/gs.db" -k "$T/key.pem" -w 4,8,1 \
    -r "ipc://$D/persist.req" -c "ipc://$D/persist.ctl"
start sim "$B/gs-sim" -i "ipc://$D/sim.in" -c "ipc://$D/sim.ctl" \
    -a "ipc://$D/gw.in"
PORT=$(free_port)
start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$D/gw.in" \
    -s "ipc://$D/sim.in" -c "ipc://$D/gw.ctl"
umask 022
for s in persist.req persist.ctl sim.in sim.ctl gw.in gw.ctl; do
	m=$(stat -c %a "$D/$s") || die "no socket $D/$s"
	[ "$m" = 600 ] || die "$s is mode $m under umask 000, want 600"
done
# The sim was told gw.in: the gateway plays through it.
"$B/gs-loadgen" -u "ws://127.0.0.1:$PORT/" -n 2 -p 2 -d 1s -j \
    >"$T/lg.json" 2>"$T/lg.log" || die "gs-loadgen over ipc exited $?"
[ "$(json "$T/lg.json" 'j["got_snapshots"]')" = 2 ] || die "ipc: no snapshots"
echo "a: ipc sockets are 0600 under umask 000"

# --- b. another user -------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	nobody test -x "$B/gs-ctl" || die "nobody cannot run $B/gs-ctl"
	for s in sim.ctl gw.ctl persist.ctl persist.req; do
		"$B/gs-ctl" -c "ipc://$D/$s" -t 2000 help >/dev/null 2>&1 ||
		    [ "$s" = persist.req ] || die "root cannot reach $s"
		if nobody "$B/gs-ctl" -c "ipc://$D/$s" -t 2000 status \
		    >"$T/nobody.out" 2>&1; then
			die "user nobody reached $s"
		fi
		grep -q "Permission denied" "$T/nobody.out" ||
		    die "nobody and $s: $(cat "$T/nobody.out")"
	done
	for s in sim.in gw.in; do
		if nobody "$FORGE" -j 1 -w 0 "ipc://$D/$s" "ipc://$D/x.in" \
		    >"$T/nobody.out" 2>&1; then
			die "user nobody reached $s"
		fi
		grep -q "Permission denied" "$T/nobody.out" ||
		    die "nobody and $s: $(cat "$T/nobody.out")"
	done
	echo "b: user nobody cannot connect to the ipc sockets"
else
	echo "b: skipped (not root, or no setpriv)"
fi

# --- c. a forged header ----------------------------------------------
# forged.in: an address the sim was not told, where the forger itself
# listens and reports any connection.
joins0=$(metric "ipc://$D/sim.ctl" gs_sim_joins_total)
"$FORGE" -l -j 5 -w 60000 "ipc://$D/sim.in" "ipc://$D/forged.in" \
    >"$T/forge1.out" 2>"$T/forge1.log" &
F1=$!
wait_for "the sim to refuse the forged batch" 10 \
    metric_ge "ipc://$D/sim.ctl" gs_sim_relay_refused_total 1
grep -q "gateway refused url=ipc://$D/forged.in .*why=not_in_a" \
    "$T/sim.log" || die "no refusal logged"
# Control: a sim told that address answers the very same forger at once.
start sim2 "$B/gs-sim" -i "ipc://$D/sim2.in" -c "ipc://$D/sim2.ctl" \
    -a "ipc://$D/told.in"
"$FORGE" -l -j 5 -w 60000 "ipc://$D/sim2.in" "ipc://$D/told.in" \
    >"$T/forge2.out" 2>"$T/forge2.log" &
F2=$!
wait_for "sim2 to dial the address it was told" 10 grep -q dialed "$T/forge2.out"
wait_for "sim2 to take the told gateway's joins" 10 \
    players_are "ipc://$D/sim2.ctl" 5
kill -TERM "$F1" "$F2"
wait "$F1" "$F2" 2>/dev/null
if grep -q dialed "$T/forge1.out"; then
	die "the sim dialed the forged reply url"
fi
[ "$(metric "ipc://$D/sim.ctl" gs_sim_joins_total)" = "$joins0" ] ||
    die "forged joins were taken"
"$B/gs-ctl" -c "ipc://$D/sim.ctl" -j rooms >"$T/rooms.json" || die "gs-ctl rooms"
[ "$(json "$T/rooms.json" '[r["room"] for r in j if r["room"] == "forged"]')" = "[]" ] ||
    die "rooms: $(cat "$T/rooms.json")"
[ "$(metric "ipc://$D/sim.ctl" gs_sim_gateways)" = 1 ] ||
    die "the sim knows a gateway besides gw.in"
stop sim2
echo "c: a forged header is refused, counted, and not dialed"

# --- d. tls+tcp ------------------------------------------------------
# An authority, leaves it signed for 127.0.0.1 (as a DNS name too: the
# NNG of Debian matches names only), and an authority of nobody's.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=$1" -keyout "$T/$1.key" \
	    -out "$T/$1.pem" 2>/dev/null || die "openssl: CA $1"
}
leaf() {	# leaf CA NAME SAN
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -subj "/CN=$2" -keyout "$T/$2.key" -out "$T/$2.csr" 2>/dev/null &&
	    printf 'subjectAltName=%s\n' "$3" >"$T/$2.ext" &&
	    openssl x509 -req -in "$T/$2.csr" -CA "$T/$1.pem" \
	    -CAkey "$T/$1.key" -CAcreateserial -days 2 -extfile "$T/$2.ext" \
	    -out "$T/$2.pem" 2>/dev/null || die "openssl: leaf $2"
}
ca fleet
ca other
leaf fleet tsim "DNS:127.0.0.1,IP:127.0.0.1"
leaf fleet tgw "DNS:127.0.0.1,IP:127.0.0.1"
leaf fleet ops "DNS:ops"
leaf other intruder "DNS:127.0.0.1,IP:127.0.0.1"
leaf fleet elsewhere "DNS:elsewhere.example"
tls() { echo --tls-ca "$T/fleet.pem" --tls-cert "$T/$1.pem" --tls-key "$T/$1.key"; }

P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)
SIN="tls+tcp://127.0.0.1:$P1" GIN="tls+tcp://127.0.0.1:$P2"
GCTL="tls+tcp://127.0.0.1:$P3"
# No -a: the sim answers the gateway because its certificate proves it.
# shellcheck disable=SC2046
start tsim "$B/gs-sim" -i "$SIN" -c "ipc://$D/tsim.ctl" $(tls tsim)
TPORT=$(free_port)
# shellcheck disable=SC2046
start tgw "$B/gs-gateway" -D -H "127.0.0.1:$TPORT" -i "$GIN" -s "$SIN" \
    -c "$GCTL" $(tls tgw)
# gs-ctl with a certificate of the fleet is answered.
# shellcheck disable=SC2046
"$B/gs-ctl" -c "$GCTL" $(tls ops) status >/dev/null || die "gs-ctl over tls"
# A client certificate of another authority: the gateway refuses it.
if "$B/gs-ctl" -c "$GCTL" -t 2000 --tls-ca "$T/fleet.pem" \
    --tls-cert "$T/intruder.pem" --tls-key "$T/intruder.key" status \
    >"$T/intruder.out" 2>&1; then
	die "the gateway answered a certificate of another authority"
fi
# A forger with such a certificate does not reach the sim's inbox.
in0=$(metric "ipc://$D/tsim.ctl" gs_sim_relay_batches_in_total)
if GS_TLS_CA=$T/fleet.pem GS_TLS_CERT=$T/intruder.pem \
    GS_TLS_KEY=$T/intruder.key "$FORGE" -j 5 -w 0 "$SIN" "$GIN" \
    >"$T/forge3.out" 2>&1; then
	die "a forger with another authority's certificate reached the sim"
fi
# The server's certificate is checked too: against the authority...
if "$B/gs-ctl" -c "$GCTL" -t 2000 --tls-ca "$T/other.pem" \
    --tls-cert "$T/ops.pem" --tls-key "$T/ops.key" status \
    >"$T/wrongca.out" 2>&1; then
	die "gs-ctl took a server certificate its authority did not sign"
fi
# ... and against the name in the address.
# shellcheck disable=SC2046
start named "$B/gs-sim" -i "ipc://$D/named.in" \
    -c "tls+tcp://127.0.0.1:$P4" $(tls elsewhere)
# shellcheck disable=SC2046
if "$B/gs-ctl" -c "tls+tcp://127.0.0.1:$P4" -t 2000 $(tls ops) status \
    >"$T/wrongname.out" 2>&1; then
	die "gs-ctl took a server certificate for another name"
fi
stop named
# Players play through gateway and sim over tls.
"$B/gs-loadgen" -u "ws://127.0.0.1:$TPORT/" -n 4 -p 2 -d 2s -m -j \
    >"$T/tlg.json" 2>"$T/tlg.log" || die "gs-loadgen over tls exited $?"
[ "$(json "$T/tlg.json" 'j["got_snapshots"]')" = 4 ] || die "tls: not all got snapshots"
[ "$(json "$T/tlg.json" 'j["moved_as_asked"]')" = 4 ] || die "tls: not all moved"
# The gateway and the sim kept serving, and the intruder left no trace.
# shellcheck disable=SC2046
"$B/gs-ctl" -c "$GCTL" $(tls ops) status >/dev/null ||
    die "the gateway stopped answering"
[ "$(metric "ipc://$D/tsim.ctl" gs_sim_relay_refused_total)" = 0 ] ||
    die "tls: a batch was refused"
[ "$(metric "ipc://$D/tsim.ctl" gs_sim_gateways)" = 1 ] ||
    die "tls: the sim knows $(metric "ipc://$D/tsim.ctl" gs_sim_gateways) gateways"
in1=$(metric "ipc://$D/tsim.ctl" gs_sim_relay_batches_in_total)
[ "$(metric "ipc://$D/tsim.ctl" gs_sim_joins_total)" = 4 ] ||
    die "tls: joins other than the 4 players' (batches $in0 -> $in1)"
# No TLS settings with a tls+tcp address: bad usage.
"$B/gs-sim" -i "tls+tcp://127.0.0.1:$P4" >"$T/notls.out" 2>&1
rc=$?
[ "$rc" = 100 ] || die "tls+tcp without certificates: exit $rc, want 100"
grep -q -- "--tls-ca" "$T/notls.out" || die "no reason: $(cat "$T/notls.out")"
stop tgw
stop tsim
echo "d: tls+tcp checks certificates both ways"

# --- e. plain tcp off loopback ----------------------------------------
P5=$(free_port)
"$B/gs-sim" -i "tcp://0.0.0.0:$P5" -a "ipc://$D/gw.in" >"$T/open.out" 2>&1
rc=$?
[ "$rc" = 100 ] || die "tcp://0.0.0.0 without --trusted-network: exit $rc, want 100"
grep -q -- "--trusted-network" "$T/open.out" || die "no reason: $(cat "$T/open.out")"
"$B/gs-persist" -d "$D/gs2.db" -k "$T/key.pem" -r "tcp://*:$P5" \
    >"$T/open.out" 2>&1
rc=$?
[ "$rc" = 100 ] || die "gs-persist on tcp://*: exit $rc, want 100"
# A plain tcp inbox cannot tell who sends: it needs -a.
"$B/gs-sim" -i "tcp://127.0.0.1:$P5" >"$T/open.out" 2>&1
rc=$?
[ "$rc" = 100 ] || die "tcp inbox without -a: exit $rc, want 100"
# A port of its own for each listener, free on every address for a
# wildcard one (free_port_any).
start open "$B/gs-sim" -i "tcp://0.0.0.0:$(free_port_any)" -a "ipc://$D/gw.in" \
    -c "ipc://$D/open.ctl" --trusted-network
"$B/gs-ctl" -c "ipc://$D/open.ctl" status >/dev/null || die "gs-ctl open"
stop open
GS_TRUSTED_NETWORK=1 start open "$B/gs-sim" \
    -i "tcp://0.0.0.0:$(free_port_any)" -a "ipc://$D/gw.in"
stop open
start loop "$B/gs-sim" -i "tcp://localhost:$(free_port)" -a "ipc://$D/gw.in"
stop loop
echo "e: a plain tcp listener off loopback wants --trusted-network"

stop gw
stop sim
stop persist
echo "links: ok"
