#!/bin/bash
# The HTTP API's rate limits: per source address (-r) and per account
# (-R; a login counts for its username) answer 429 with Retry-After, and
# the other limit's key is not charged for it.
. "$(dirname "$0")/../lib.sh"

make_keys
start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in"
start_accounts_gw -r 20 -R 0.01
export PYTHONPATH="$(dirname "$0")"
$PY - "$PORT" <<'PY' || die "limits"
import sys
from api import Api, fail
a = Api(int(sys.argv[1]))
# Per account: registering alice spends her bucket (a burst of 5, the
# least, and a hash costs 5); her login is then refused, bob's is not.
a.ok("POST", "/v1/auth/register", {"username": "alice",
                                   "password": "correct horse"})
a.ok("POST", "/v1/auth/register", {"username": "bob",
                                   "password": "correct horse"})
j, h = a.err(429, "ratelimit", "POST", "/v1/auth/login",
             {"username": "alice", "password": "correct horse"})
if int(h.get("retry-after", "0")) < 1:
    fail("429 without Retry-After: %s" % h)
# Per address: a burst of 40 at 20 a second, 15 spent above; a flood
# faster than 20 a second gets 429.
codes = [a.call("POST", "/v1/auth/guest", {"device": "d%d" % i})[0]
         for i in range(200)]
if 429 not in codes or codes[0] != 200:
    fail("address limit: %s" % codes)
print("limits ok")
PY
[ "$(metric "ipc://$T/gw.ctl" gs_gateway_api_limited_total)" -ge 2 ] ||
    die "limited calls not counted"
stop gw
stop sim
stop persist
