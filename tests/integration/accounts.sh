#!/bin/bash
# Accounts end to end: gs-persist, gs-gateway's /v1 API and hello with
# an access token.  Every endpoint, wrong passwords, expired, forged and
# tampered tokens, refresh-token reuse, bans (logins refused, a live
# player closed), oversized and malformed JSON, CORS, rate limits.
. "$(dirname "$0")/../lib.sh"

make_keys
openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null || die "openssl genpkey"

# Light hashing: the test is about the protocol, not the cost.
start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
start_accounts_gw -o http://game.example -r 1000 -R 1000

export PYTHONPATH="$(dirname "$0")"
$PY - "$PORT" "$T" <<'PY' || die "api checks"
import sys, time, json
from api import Api, fail, forge, claims_of, header_of, b64url
a = Api(int(sys.argv[1])); T = sys.argv[2]

# Guest: a new account, then the same one for the same device.
g = a.ok("POST", "/v1/auth/guest", {"device": "dev-1"})
if not g["created"] or not g["name"].startswith("guest-"):
    fail("guest: %s" % g)
g2 = a.ok("POST", "/v1/auth/guest", {"device": "dev-1"})
if g2["created"] or g2["account"] != g["account"]:
    fail("guest again: %s vs %s" % (g2, g))
c = claims_of(g["access"])
if c["sub"] != str(g["account"]) or c["name"] != g["name"] or \
        header_of(g["access"])["alg"] != "EdDSA":
    fail("claims: %s" % c)
a.err(400, "args", "POST", "/v1/auth/guest", {"device": "has space"})
a.err(400, "args", "POST", "/v1/auth/guest", {})
a.err(400, "args", "POST", "/v1/auth/guest", {"device": 5})

# Register, taken, login, wrong password, unknown user.
r = a.ok("POST", "/v1/auth/register",
         {"username": "Alice", "password": "correct horse"})
if r["name"] != "alice" or not r["created"]:
    fail("register: %s" % r)
a.err(409, "conflict", "POST", "/v1/auth/register",
      {"username": "alice", "password": "another one"})
a.err(400, "args", "POST", "/v1/auth/register",
      {"username": "al", "password": "correct horse"})
a.err(400, "args", "POST", "/v1/auth/register",
      {"username": "bob", "password": "short"})
l = a.ok("POST", "/v1/auth/login",
         {"username": "ALICE", "password": "correct horse"})
if l["account"] != r["account"]:
    fail("login: %s" % l)
a.err(401, "unauthorized", "POST", "/v1/auth/login",
      {"username": "alice", "password": "wrong horse"})
a.err(401, "unauthorized", "POST", "/v1/auth/login",
      {"username": "nobody", "password": "whatever1"})

# The account, with and without a token; a link.
me = a.ok("GET", "/v1/account", token=l["access"])
if me["account"] != l["account"] or me["username"] != "alice" or \
        not me["password"]:
    fail("account: %s" % me)
a.err(401, "unauthorized", "GET", "/v1/account")
a.ok("POST", "/v1/account/link", {"device": "alice-phone"},
     token=l["access"])
a.err(409, "conflict", "POST", "/v1/account/link", {"device": "dev-1"},
      token=l["access"])
lg = a.ok("POST", "/v1/auth/guest", {"device": "alice-phone"})
if lg["account"] != l["account"] or lg["created"]:
    fail("linked device: %s" % lg)
# The device ids are logins: the player sees how many, not which.
me = a.ok("GET", "/v1/account", token=l["access"])
if "devices" in me or me.get("linked_devices") != 1:
    fail("devices shown to the player: %s" % me)

# Bad tokens: tampered payload, tampered signature, another key, alg
# none, expired, garbage.
h, p, s = l["access"].split(".")
cl = claims_of(l["access"])
cl2 = dict(cl, sub=str(g["account"]))
tampered = h + "." + b64url(json.dumps(cl2).encode()) + "." + s
sigbad = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
hdr = header_of(l["access"])
other = forge(T + "/other.pem", hdr, cl)
none = b64url(json.dumps({"alg": "none", "typ": "JWT",
                          "kid": hdr["kid"]}).encode()) + "." + p + "."
now = int(time.time())
expired = forge(T + "/key.pem", hdr, dict(cl, iat=now - 7200,
                                          exp=now - 3600))
for name, t in [("tampered", tampered), ("signature", sigbad),
                ("other key", other), ("alg none", none),
                ("expired", expired), ("garbage", "x.y.z")]:
    j, _ = a.err(401, "unauthorized", "GET", "/v1/account", token=t)
good = forge(T + "/key.pem", hdr, dict(cl, iat=now, exp=now + 600))
a.ok("GET", "/v1/account", token=good)   # the forger itself is right
# Linking a device wants a fresh login, not just a valid token.
old = forge(T + "/key.pem", hdr, dict(cl, iat=now - 400, exp=now + 200))
a.ok("GET", "/v1/account", token=old)
a.err(401, "unauthorized", "POST", "/v1/account/link", {"device": "x-1"},
      token=old)

# Refresh: rotation; the spent token again revokes the session.
r1 = a.ok("POST", "/v1/auth/refresh", {"refresh": l["refresh"]})
if r1["refresh"] == l["refresh"] or r1["account"] != l["account"]:
    fail("refresh: %s" % r1)
r2 = a.ok("POST", "/v1/auth/refresh", {"refresh": r1["refresh"]})
a.err(401, "unauthorized", "POST", "/v1/auth/refresh",
      {"refresh": "not-a-token"})
print("refresh chain ok")
json.dump({"spent": l["refresh"], "live": r2["refresh"],
           "guest": g, "alice": r2}, open(T + "/tokens.json", "w"))

# Logout: the session's refresh token stops working.
lo = a.ok("POST", "/v1/auth/login",
          {"username": "alice", "password": "correct horse"})
a.ok("POST", "/v1/auth/logout", {"refresh": lo["refresh"]})
a.ok("POST", "/v1/auth/logout", {"refresh": lo["refresh"]})
a.err(401, "unauthorized", "POST", "/v1/auth/refresh",
      {"refresh": lo["refresh"]})

# Bodies: malformed, not an object, too large; unknown paths, methods.
a.err(400, "json", "POST", "/v1/auth/guest", raw=b"{not json")
a.err(400, "json", "POST", "/v1/auth/guest", raw=b"[1,2]")
a.err(400, "json", "POST", "/v1/auth/guest",
      raw=b'{"device":"a","device":"b"}')
st, j, hd = a.call("POST", "/v1/auth/guest", raw=b"{" + b" " * 70000 + b"}")
if st != 413:
    fail("oversized body: %d %s" % (st, j))
a.err(404, None, "GET", "/v1/nothing")
a.err(405, None, "GET", "/v1/auth/guest")

# CORS: an allowed origin is echoed, another gets nothing.
st, j, hd = a.call("OPTIONS", "/v1/auth/guest",
                   headers={"Origin": "http://game.example",
                            "Access-Control-Request-Method": "POST"})
if hd.get("access-control-allow-origin") != "http://game.example":
    fail("preflight: %d %s" % (st, hd))
st, j, hd = a.call("POST", "/v1/auth/guest", {"device": "dev-1"},
                   headers={"Origin": "http://evil.example"})
if "access-control-allow-origin" in hd:
    fail("CORS for a foreign origin: %s" % hd)
print("api ok")
PY

# Refresh-token reuse: presenting the spent token (after the grace)
# revokes the session, so its live successor is refused as well.
spent=$(json "$T/tokens.json" 'j["spent"]')
live=$(json "$T/tokens.json" 'j["live"]')
$PY - "$PORT" "$spent" "$live" <<'PY' || die "refresh reuse"
import sys, time
from api import Api, fail
a = Api(int(sys.argv[1]))
time.sleep(11)      # past the reuse grace (gs-persist(8)): not timing
j, _ = a.err(401, "unauthorized", "POST", "/v1/auth/refresh",
             {"refresh": sys.argv[2]})
if "revoked" not in j["error"]["message"]:
    fail("reuse: %s" % j)
a.err(401, "unauthorized", "POST", "/v1/auth/refresh",
      {"refresh": sys.argv[3]})
PY
[ "$(metric "ipc://$T/persist.ctl" gs_persist_refresh_reuse_total)" = 1 ] ||
    die "reuse not counted"

# Hello: without a token refused; with one, the player is the token's.
guest_access=$(json "$T/tokens.json" 'j["guest"]["access"]')
guest_name=$(json "$T/tokens.json" 'j["guest"]["name"]')
guest_id=$(json "$T/tokens.json" 'j["guest"]["account"]')
out=$($PY tests/integration/player.py "ws://127.0.0.1:$PORT/" r1 someone stay 2>&1)
case "$out" in *"error 4"*) ;; *) die "hello without a token: $out" ;; esac
PLAYER_TOKEN=$guest_access $PY tests/integration/player.py \
    "ws://127.0.0.1:$PORT/" r1 ignored stay >"$T/player.out" 2>&1 &
ppid=$!
wait_for "the player to play" 20 grep -q playing "$T/player.out"
"$B/gs-ctl" -c "ipc://$T/sim.ctl" -j room r1 >"$T/room.json" || die "room"
grep -q "\"$guest_name\"" "$T/room.json" || die "player not named by its token: $(cat "$T/room.json")"

# A ban: the live player is closed within a poll, logins are refused.
"$B/gs-ctl" -c "ipc://$T/persist.ctl" ban "$guest_id" forever cheating >/dev/null ||
    die "ban"
wait "$ppid"; rc=$?
grep -q "error 4" "$T/player.out" || die "banned player not closed (rc $rc): $(cat "$T/player.out")"
$PY - "$PORT" "$guest_access" <<'PY' || die "ban checks"
import sys
from api import Api, fail
a = Api(int(sys.argv[1]))
a.err(403, "banned", "POST", "/v1/auth/guest", {"device": "dev-1"})
a.err(401, "unauthorized", "GET", "/v1/account", token=sys.argv[2])
PY
"$B/gs-ctl" -c "ipc://$T/persist.ctl" -j account "$guest_id" >"$T/acct.json" || die "account"
[ "$(json "$T/acct.json" 'j["ban_reason"]')" = cheating ] || die "account: $(cat "$T/acct.json")"
"$B/gs-ctl" -c "ipc://$T/persist.ctl" unban "$guest_id" >/dev/null || die "unban"
$PY - "$PORT" <<'PY' || die "after unban"
import sys
from api import Api
Api(int(sys.argv[1])).ok("POST", "/v1/auth/guest", {"device": "dev-1"})
PY

# A backup while serving: a whole, consistent copy with the accounts.
"$B/gs-ctl" -c "ipc://$T/persist.ctl" backup "$T/backup.db" >/dev/null || die "backup"
$PY - "$T/backup.db" <<'PY' || die "backup contents"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
n = db.execute("SELECT count(*) FROM accounts WHERE username = 'alice'").fetchone()[0]
if ok != "ok" or n != 1:
    sys.exit("backup: integrity %s, alice %d" % (ok, n))
PY
out=$("$B/gs-ctl" -c "ipc://$T/persist.ctl" backup "$T/backup.db" 2>&1) &&
    die "a backup over an existing file: $out"
"$B/gs-ctl" -c "ipc://$T/persist.ctl" account alice >/dev/null || die "persist stopped serving after a backup"

# gs-loadgen -A logs its clients in as guests and plays; without -A it
# gets noauth from this gateway (no -D).
"$B/gs-loadgen" -u "ws://127.0.0.1:$PORT/" -n 6 -p 3 -d 2s -A -q \
    >"$T/lg.out" 2>&1 || die "gs-loadgen -A: $(tail -5 "$T/lg.out")"
"$B/gs-loadgen" -u "ws://127.0.0.1:$PORT/" -n 2 -d 1s -q >"$T/lg2.out" 2>&1 &&
    die "gs-loadgen without -A played on a gateway that wants tokens"
grep -q noauth "$T/lg2.out" || die "gs-loadgen without -A: $(tail -3 "$T/lg2.out")"

# Garbage on the request socket: an error reply, and service goes on.
printf '\xc1\xc1garbage' | nngcat --req --dial "$PST" \
    --file - --recv-timeout 5 --raw >"$T/garbage.out" 2>&1
"$B/gs-ctl" -c "ipc://$T/persist.ctl" account alice >/dev/null || die "persist stopped serving"

stop gw
stop sim
stop persist
