# Shell library for integration tests (bash).  Source it; it makes a
# temporary directory $T, starts real daemons with readiness on a fifo,
# and stops them all on exit.
set -u
GS_BUILD=${GS_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/san}
B=$GS_BUILD/bin
T=$(mktemp -d "${TMPDIR:-/tmp}/gs-it.XXXXXX") || exit 111
PY=/usr/bin/python3		# Debian's, which has websockets and msgpack
# Leaks inside the Debian libraries' own teardown (see the file).
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
declare -A GS_PID=()
# shellcheck source=../scripts/ready.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/ready.sh"
# shellcheck source=../scripts/certs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/certs.sh"

gs_cleanup() {
	local n
	for n in "${!GS_PID[@]}"; do
		kill -TERM "${GS_PID[$n]}" 2>/dev/null
	done
	# Clients a failed test left running in the background too, or the
	# wait below would wait for them (a gs-loadgen of -d 10m, say).
	for n in $(jobs -p); do
		kill -TERM "$n" 2>/dev/null
	done
	# A daemon that does not exit on SIGTERM (a hang is a bug the test
	# may already have reported) must not outlive the test: after 20 s
	# it is killed, and said so.
	local i st
	for n in "${GS_PID[@]}" $(jobs -p); do
		for ((i = 0; i < 200; i++)); do
			# gone, or exited and not yet waited for (a zombie)
			st=$(awk '{ print $3 }' "/proc/$n/stat" 2>/dev/null)
			[ -z "$st" ] || [ "$st" = Z ] && continue 2
			sleep 0.1
		done
		echo "cleanup: pid $n ignored SIGTERM for 20 s: killed" >&2
		kill -KILL "$n" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${GS_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap gs_cleanup EXIT

die() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }

# A free TCP port on loopback (the kernel picks it; racy only in theory).
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A free UDP port on loopback (for a QUIC listener).
free_udp_port() {
	$PY -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A TCP port free on every address, for a listener on a wildcard
# (0.0.0.0): a port free on 127.0.0.1 may still be the local end of a
# connection, or of one in TIME_WAIT, on another address (127.0.0.3).
free_port_any() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'
}

# A free TCP port P on loopback whose P+1 and P+2 are free too
# (scripts/run puts the sim's and gs-persist's HTTP ports there).  An
# ephemeral port picked alone can have a neighbour taken by some
# connection's local end.
free_port_run() {
	$PY -c '
import socket, sys
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    more = []
    try:
        for k in (1, 2):
            b = socket.socket(); more.append(b)
            b.bind(("127.0.0.1", p + k))
    except OSError:
        continue
    finally:
        for b in more: b.close()
        a.close()
    print(p); sys.exit(0)
sys.exit("no free run of ports")'
}

# start NAME PROG ARGS...: start a daemon and wait until it is ready
# (scripts/ready.sh); fail if it exits first.  Its log: $T/NAME.log.
start() {
	local name=$1; shift
	ready_start "$T/$name.ready" "$@" 2>"$T/$name.log"; local rc=$?
	GS_PID[$name]=$READY_PID
	[ "$rc" -eq 0 ] ||
	    die "$name did not become ready: $(tail -n 1 "$T/$name.log")"
}

# stop NAME: SIGTERM, wait, and require exit status 0 (a sanitizer
# report, a leak included, makes it non-zero).
# A daemon that has not exited 30 s after SIGTERM is killed and the test
# fails: a hang is a bug (NNG 1.5.2's nng_close can deadlock,
# nanomsg/nng#1543), and an unbounded wait would hang the whole run.
stop() {
	local name=$1 pid=${GS_PID[$1]} rc i st
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		# gone, or exited and not yet waited for (a zombie)
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	if [ "$i" -eq 300 ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "GS_PID[$name]"
		die "$name did not exit within 30 s of SIGTERM"
	fi
	wait "$pid"; rc=$?
	unset "GS_PID[$name]"
	[ "$rc" -eq 0 ] || die "$name exited with status $rc"
}

# kill9 NAME: the crash case.
kill9() {
	kill -KILL "${GS_PID[$1]}" 2>/dev/null
	wait "${GS_PID[$1]}" 2>/dev/null
	unset "GS_PID[$1]"
}

# stack [GATEWAY_FLAGS...]: one sim and one dev-mode gateway on $PORT.
stack() {
	PORT=$(free_port)
	start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
	start gw "$B/gs-gateway" -D -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
	    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl" "$@"
	URL="ws://127.0.0.1:$PORT/"
}

# Accounts.  make_keys: an Ed25519 key pair for access tokens,
# $T/key.pem and $T/key.pub.  start_persist [FLAGS...]: gs-persist on
# $T/gs.db with light hashing (-w 4,8,1: these tests are about the
# protocol, not the cost), requests on $PST, control on
# $T/persist.ctl.  start_accounts_gw [FLAGS...]: on $PORT, a gateway
# that checks tokens and calls gs-persist, in front of the sim at
# $T/sim.in (start it first).
PST="ipc://$T/persist.req"
make_keys() {
	openssl genpkey -algorithm ed25519 -out "$T/key.pem" 2>/dev/null &&
	    openssl pkey -in "$T/key.pem" -pubout -out "$T/key.pub" \
	    2>/dev/null || die "openssl: cannot make a key pair"
}
start_persist() {
	start persist "$B/gs-persist" -d "$T/gs.db" -k "$T/key.pem" -w 4,8,1 \
	    -r "$PST" -c "ipc://$T/persist.ctl" "$@"
}
start_accounts_gw() {
	PORT=$(free_port)
	start gw "$B/gs-gateway" -H "127.0.0.1:$PORT" -i "ipc://$T/gw.in" \
	    -s "ipc://$T/sim.in" -c "ipc://$T/gw.ctl" -P "$PST" \
	    -k "$T/key.pub" "$@"
}

# quic_certs DIR: certificates for QUIC tests, in DIR (made if absent),
# valid two days:
#   ca.pem           the authority clients are told to trust (--tls-ca)
#   server.pem/.key  signed by it for localhost, 127.0.0.1 and ::1
#   other.pem/.key   signed by it for other.test only: a client that
#                    connects to 127.0.0.1 must refuse it (its name)
#   other-ca.pem     an authority that signed nothing the servers use:
#                    a client trusting only it must refuse server.pem
quic_certs() {
	mkdir -p "$1" &&
	    certs_ca "$1" ca 2 &&
	    certs_ca "$1" other-ca 2 &&
	    certs_leaf "$1" ca server 2 "DNS:localhost,IP:127.0.0.1,IP:::1" &&
	    certs_leaf "$1" ca other 2 "DNS:other.test" ||
	    die "openssl: cannot make the QUIC certificates in $1"
}

# quic_stack [GATEWAY_FLAGS...]: stack, with QUIC on UDP port $QPORT of
# 127.0.0.1 and the certificates of quic_certs in $T/certs.  Clients
# use $QURL and trust $QCA.
quic_stack() {
	quic_certs "$T/certs"
	QPORT=$(free_udp_port)
	stack -Q "127.0.0.1:$QPORT" --quic-cert "$T/certs/server.pem" \
	    --quic-key "$T/certs/server.key" "$@"
	QURL="quic://127.0.0.1:$QPORT"
	QCA=$T/certs/ca.pem
}

# json FILE EXPR: evaluate a python expression over the JSON in FILE
# (bound to j) and print it.
json() {
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# wait_for WHAT SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
# The bound only keeps a broken run from hanging; nothing is timed.
wait_for() {
	local what=$1 secs=$2 i; shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "gave up waiting for $what"
}

# ctl_field CTL EXPR: evaluate EXPR over the JSON of "gs-ctl -j status".
ctl_field() {
	"$B/gs-ctl" -c "$1" -t 2000 -j status >"$T/ctl.json" 2>/dev/null &&
	    json "$T/ctl.json" "$2"
}

# players_are CTL N: the daemon reports N players (a sim) or N playing
# clients (a gateway).
players_are() {
	[ "$(ctl_field "$1" 'j.get("players", j.get("playing"))')" = "$2" ]
}

# metric CTL NAME: one sample's value from the daemon's metrics.
metric() {
	"$B/gs-ctl" -c "$1" metrics | awk -v n="$2" '$1 == n { print $2 }'
}

# metric_sum CTL PREFIX: the sum of the samples whose names start with
# PREFIX, such as every reason of a counter ('name{').
metric_sum() {
	"$B/gs-ctl" -c "$1" metrics |
	    awk -v p="$2" 'index($1, p) == 1 { s += $2 } END { print s + 0 }'
}

# players_start [ARGS...]: gs-loadgen ARGS in the background, its report in
# $T/lg.json and its log in $T/lg.log; LG is its pid, and the cleanup
# ends it if the test does not (players_end).
players_start() {
	"$B/gs-loadgen" "$@" >"$T/lg.json" 2>"$T/lg.log" &
	LG=$!
	GS_PID[lg]=$LG
}

# players_end: end the gs-loadgen of $LG (SIGINT: it reports to
# $T/lg.json) and require its SLO met with no connection lost.
players_end() {
	local rc
	kill -INT "$LG"
	wait "$LG"; rc=$?
	unset "GS_PID[lg]"
	[ "$rc" -eq 0 ] || { cat "$T/lg.json"; die "players: SLO missed (exit $rc)"; }
	[ "$(json "$T/lg.json" 'j["reconnect"]["losses_all"]')" = 0 ] ||
	    die "a player lost its connection"
}

# gw_unharmed: the gateway of $T/gw.ctl dropped no snapshot from a full
# queue, and its log ($T/gw.log) stayed short: the lines a peer can
# cause are rate-limited.
gw_unharmed() {
	local drops n
	drops=$(metric "ipc://$T/gw.ctl" 'gs_gateway_messages_dropped_total{kind="snapshot",reason="full"}')
	[ "${drops:-0}" = 0 ] || die "$drops snapshots dropped from full queues"
	n=$(wc -l <"$T/gw.log")
	[ "$n" -lt 100 ] || die "gateway log: $n lines"
}

# chaos_load N [ARGS...]: gs-loadgen in the background, N clients in
# rooms of 5, running until chaos_verdict ends it, judged by the SLO
# "every loss recovered, every client served".
chaos_load() {
	local n=$1; shift
	"$B/gs-loadgen" -u "$URL" -n "$n" -p 5 -d 10m -q -j \
	    --slo 'reconnect>99%,served>=100%' "$@" >"$T/lg.json" 2>"$T/lg.log" &
	LG=$!
}

# chaos_verdict NAME MIN_LOSSES: end gs-loadgen (SIGINT: it reports),
# require its SLO verdict and at least MIN_LOSSES losses seen (all of
# them: the SLO leaves out a loss still unrecovered in the last 5 s, such
# as a welcome still crossing an impaired path).
chaos_verdict() {
	local rc losses
	kill -INT "$LG"
	wait "$LG"; rc=$?
	[ "$rc" -eq 0 ] || { cat "$T/lg.json"; die "gs-loadgen: SLO missed (exit $rc)"; }
	losses=$(json "$T/lg.json" 'j["reconnect"]["losses_all"]')
	[ "$losses" -ge "$2" ] || die "only $losses losses recorded, want $2 or more"
	echo "$1: $losses losses; SLO met"
}

# man_example PAGE MARKER OUT: the indented block that follows the
# paragraph containing MARKER in man page PAGE, as a reader sees it
# (mandoc), written to OUT without its indentation; so an example in a
# page is the code a test runs.
man_example() {
	mandoc -Tascii "$1" >"$T/page.txt" || die "mandoc $1"
	$PY - "$T/page.txt" "$2" "$3" <<'PY' || die "no example after '$2' in $1"
import re, sys, textwrap
# Strip overstrike (bold, underline), find the paragraph holding the
# marker; the code is the indented block after it.
lines = re.sub(r".\x08", "", open(sys.argv[1]).read()).split("\n")
i = next(i for i, l in enumerate(lines) if sys.argv[2] in l)
while lines[i].strip():
    i += 1
while not lines[i].strip():
    i += 1
indent = len(lines[i]) - len(lines[i].lstrip())
code = []
while i < len(lines) and (not lines[i].strip() or
                          len(lines[i]) - len(lines[i].lstrip()) >= indent):
    code.append(lines[i])
    i += 1
open(sys.argv[3], "w").write(textwrap.dedent("\n".join(code)).strip() + "\n")
PY
}
