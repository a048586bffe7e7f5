#!/bin/bash
# Leaderboards end to end: boards made with gs-ctl, scores written by a
# server (straight to gs-persist) and by players (HTTP, where allowed),
# the operators best, set and incr, ascending and descending order with
# ties, top, around and rank over HTTP and gs-ctl, and a batch that
# fails half-way leaving ranks as they were.
. "$(dirname "$0")/../lib.sh"

make_keys
start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in"
start_accounts_gw -r 1000 -R 1000
CTL="$B/gs-ctl -c ipc://$T/persist.ctl"
$CTL leaderboard create kills desc best never >/dev/null || die "create kills"
$CTL leaderboard create laps asc best never >/dev/null || die "create laps"
$CTL leaderboard create coins desc incr daily client >/dev/null || die "create coins"
$CTL leaderboard create kills desc best never >/dev/null || die "create again"
out=$($CTL leaderboard create kills asc best never 2>&1) && die "create with other settings: $out"
$CTL leaderboard create bad/name desc best never >/dev/null 2>&1 && die "bad name accepted"
export PYTHONPATH="$(dirname "$0")"

$PY - "$PORT" "$PST" <<'PY' || die "leaderboard checks"
import sys
from api import Api, fail, pst, pst_ok
a = Api(int(sys.argv[1])); U = sys.argv[2]
acct = []
tok = []
for i in range(6):
    g = a.ok("POST", "/v1/auth/guest", {"device": "lb-%d" % i,
                                         "name": "p%d" % i})
    acct.append(g["account"]); tok.append(g["access"])
A = acct

# A server writes kills: best keeps the higher; ties broken by account.
pst_ok(U, "lb_submit", "kills", [[A[0], 10, 0, "m1"], [A[1], 30, 0, None],
                                 [A[2], 20, 0, None], [A[3], 20, 0, None]])
r = pst_ok(U, "lb_submit", "kills", [[A[0], 5, 0, None], [A[4], 25, 0, None]])
if r != {"records": 2, "written": 1}:
    fail("best: a worse score written: %s" % r)
top = a.ok("GET", "/v1/leaderboards/kills?limit=10")
got = [(x["rank"], x["account"], x["score"]) for x in top["records"]]
want = [(1, A[1], 30), (2, A[4], 25), (3, A[2], 20), (4, A[3], 20),
        (5, A[0], 10)]
if got != want or top["count"] != 5:
    fail("top kills: %s, want %s" % (got, want))
if top["records"][4]["meta"] != "m1" or top["records"][0]["name"] != "p1":
    fail("names or meta: %s" % top["records"])
rk = a.ok("GET", "/v1/leaderboards/kills/rank", token=tok[3])
if rk["rank"] != 4 or rk["score"] != 20:
    fail("rank: %s" % rk)
ar = a.ok("GET", "/v1/leaderboards/kills/around?limit=3", token=tok[2])
if [x["rank"] for x in ar["records"]] != [2, 3, 4]:
    fail("around: %s" % ar)
a.err(404, "not_found", "GET", "/v1/leaderboards/kills/rank", token=tok[5])
a.err(404, "not_found", "GET", "/v1/leaderboards/nosuch")
a.err(401, "unauthorized", "GET", "/v1/leaderboards/kills/rank")
a.err(400, "args", "GET", "/v1/leaderboards/kills?limit=0")
a.err(400, "args", "GET", "/v1/leaderboards/kills?limit=x")
# Only periods the board has had: 0 for a board never reset.
a.err(400, "args", "GET", "/v1/leaderboards/kills?period=5")
a.ok("GET", "/v1/leaderboards/kills?period=0")

# Players may not write kills; they may write coins (incr, daily).
a.err(403, "forbidden", "POST", "/v1/leaderboards/kills", {"score": 99},
      token=tok[0])
a.ok("POST", "/v1/leaderboards/coins", {"score": 5}, token=tok[0])
a.ok("POST", "/v1/leaderboards/coins", {"score": 7, "meta": "x"},
     token=tok[0])
c = a.ok("GET", "/v1/leaderboards/coins/rank", token=tok[0])
if c["score"] != 12 or c["period"] % 86400 != 0 or c["period"] == 0:
    fail("incr, daily: %s" % c)
a.err(400, "args", "POST", "/v1/leaderboards/coins", {"score": "5"},
      token=tok[0])
day = c["period"]
a.ok("GET", "/v1/leaderboards/coins?period=%d" % (day - 86400))
a.err(400, "args", "GET", "/v1/leaderboards/coins?period=%d" % (day + 86400))
a.err(400, "args", "GET", "/v1/leaderboards/coins?period=%d" % (day + 3600))
a.err(400, "args", "POST", "/v1/leaderboards/coins", {}, token=tok[0])

# Ascending: the lowest lap time first.
pst_ok(U, "lb_submit", "laps", [[A[0], 61000, 0, None], [A[1], 59000, 0, None],
                                [A[2], 59000, 5, None]])
pst_ok(U, "lb_submit", "laps", [[A[0], 58000, 0, None]])
t = pst_ok(U, "lb_top", "laps", 10, None)
if [x["account"] for x in t["records"]] != [A[0], A[1], A[2]]:
    fail("ascending: %s" % t)

# A batch that fails half-way (no such account) writes nothing, and
# the ranks in memory stay those of the table.
st, msg = pst(U, "lb_submit", "kills", [[A[5], 100, 0, None],
                                        [999999, 1, 0, None]])
if st != 3:
    fail("bad account in a batch: %d %s" % (st, msg))
top2 = a.ok("GET", "/v1/leaderboards/kills?limit=10")
if top2["records"] != top["records"] or top2["count"] != 5:
    fail("a failed batch changed the board: %s" % top2)
a.err(404, "not_found", "GET", "/v1/leaderboards/kills/rank", token=tok[5])

# set replaces, even with a worse score.
pst_ok(U, "lb_create", "season", "desc", "set", "never", False)
pst_ok(U, "lb_submit", "season", [[A[0], 50, 0, None]])
pst_ok(U, "lb_submit", "season", [[A[0], 40, 0, None]])
if pst_ok(U, "lb_rank", "season", A[0], None)["score"] != 40:
    fail("set")
# incr refuses a sum past 64 bits, with the tree in memory or not.
pst_ok(U, "lb_create", "big", "desc", "incr", "never", False)
pst_ok(U, "lb_submit", "big", [[A[0], 2**63 - 1, 0, None]])
for loaded in (False, True):
    if loaded:
        pst_ok(U, "lb_top", "big", 1, None)
    st, m = pst(U, "lb_submit", "big", [[A[0], 1, 0, None]])
    if st != 2 or "overflow" not in m:
        fail("incr overflow (tree %s): %d %s" % (loaded, st, m))
if pst_ok(U, "lb_rank", "big", A[0], None)["score"] != 2**63 - 1:
    fail("incr overflow changed the score")
# best, without a tree, keeps the better of two (ascending board).
pst_ok(U, "lb_create", "sprint", "asc", "best", "never", False)
pst_ok(U, "lb_submit", "sprint", [[A[1], 900, 0, None], [A[1], 950, 0, None],
                                  [A[1], 850, 0, None]])
if pst_ok(U, "lb_rank", "sprint", A[1], None)["score"] != 850:
    fail("best without a tree")
lst = a.ok("GET", "/v1/leaderboards")
if sorted(b["board"] for b in lst) != ["big", "coins", "kills", "laps",
                                       "season", "sprint"]:
    fail("list: %s" % lst)
print("leaderboards ok")
PY

# gs-ctl shows the same.
$CTL -j leaderboard top kills 3 >"$T/top.json" || die "gs-ctl top"
[ "$(json "$T/top.json" '[r["rank"] for r in j]')" = "[1, 2, 3]" ] || die "gs-ctl top: $(cat "$T/top.json")"
third=$(json "$T/top.json" 'j[2]["account"]')
$CTL -j leaderboard around kills "$third" 3 >"$T/around.json" || die "gs-ctl around"
[ "$(json "$T/around.json" '[r["rank"] for r in j]')" = "[2, 3, 4]" ] ||
    die "gs-ctl around: $(cat "$T/around.json")"
stop gw
stop sim
stop persist
# After a restart the ranks are built from the table again.
start_persist
$CTL -j leaderboard top kills 5 >"$T/top2.json" || die "gs-ctl top after restart"
[ "$(json "$T/top2.json" '[(r["rank"], r["score"]) for r in j]')" = "[(1, 30), (2, 25), (3, 20), (4, 20), (5, 10)]" ] ||
    die "after restart: $(cat "$T/top2.json")"
stop persist
