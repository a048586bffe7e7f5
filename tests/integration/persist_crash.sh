#!/bin/bash
# SIGKILL gs-persist during a stream of writes: after a restart every
# write it acknowledged is there.  Writes are guest logins through the
# gateway (an account, a device, a session and a refresh token each),
# from 8 clients at once so that batches hold several requests.
. "$(dirname "$0")/../lib.sh"

make_keys
# The first run holds each batch 50 ms between its writes and its
# commit, so that the kill below lands there nearly always: a reply
# sent before its commit would then be an acknowledged write lost.
GS_PERSIST_COMMIT_DELAY_MS=50 start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in"
# Many connections a second from one address, on purpose: no limits.
start_accounts_gw -r 100000 -a 0
export PYTHONPATH="$(dirname "$0")"

# The writers: each acknowledged write is a line "device account";
# they stop when $T/stop exists.
writers_start() {
$PY - "$PORT" "$T" <<'PY' &
import os, sys, threading
from api import Api
a = Api(int(sys.argv[1])); T = sys.argv[2]
out = open(T + "/acked", "a", buffering=1)
lock = threading.Lock()
def writer(k):
    i = 0
    while not os.path.exists(T + "/stop"):
        dev = "crash-%d-%d" % (k, i)
        i += 1
        try:
            st, j, _ = a.call("POST", "/v1/auth/guest", {"device": dev})
        except OSError:
            continue
        if st == 200:
            with lock:
                out.write("%s %d\n" % (dev, j["account"]))
ts = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
for t in ts: t.start()
for t in ts: t.join()
PY
	writers=$!
}
writers_start
acked() { [ -f "$T/acked" ] && [ "$(wc -l <"$T/acked")" -ge "$1" ]; }
wait_for "300 acknowledged writes" 60 acked 300
kill9 persist
touch "$T/stop"
wait "$writers"
n=$(wc -l <"$T/acked")
echo "acknowledged before and around the kill: $n"

start_persist
# The gateway reconnects (NNG backs off) and its breaker closes again.
probe() {
	$PY - "$PORT" <<'PY'
import sys
from api import Api
st, j, _ = Api(int(sys.argv[1])).call("POST", "/v1/auth/guest",
                                      {"device": "probe"})
sys.exit(st != 200)
PY
}
wait_for "the API after the restart" 30 probe
$PY - "$PORT" "$T" <<'PY' || die "acknowledged writes lost"
import sys
from api import Api, fail
a = Api(int(sys.argv[1])); T = sys.argv[2]
lost = 0
for line in open(T + "/acked"):
    dev, acct = line.split()
    st, j, _ = a.call("POST", "/v1/auth/guest", {"device": dev})
    if st != 200:
        fail("guest %s after restart: %d %s" % (dev, st, j))
    if j["created"] or j["account"] != int(acct):
        lost += 1
        print("lost: %s (account %s), now %s" % (dev, acct, j))
if lost:
    fail("%d acknowledged writes lost" % lost)
PY

# SIGTERM in the middle of the stream: gs-persist answers what it read
# and exits 0, however many requests are in flight.
rm -f "$T/stop"
writers_start
acked() { [ "$(wc -l <"$T/acked")" -ge "$1" ]; }
n=$(wc -l <"$T/acked")
wait_for "more writes" 60 acked $((n + 100))
kill -TERM "${GS_PID[persist]}"
for ((i = 0; i < 200; i++)); do		# bound: a hang fails, not hangs
	kill -0 "${GS_PID[persist]}" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "${GS_PID[persist]}" 2>/dev/null; then
	kill -KILL "${GS_PID[persist]}"
	die "gs-persist did not exit on SIGTERM under load"
fi
wait "${GS_PID[persist]}"; rc=$?
unset "GS_PID[persist]"
[ "$rc" -eq 0 ] || die "gs-persist exited $rc after SIGTERM under load"
touch "$T/stop"
wait "$writers"
stop gw
stop sim
