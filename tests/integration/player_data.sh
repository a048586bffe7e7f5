#!/bin/bash
# Player data end to end: profiles, stats and matches through gs-gateway's
# /v1 API, and the ops only daemons send (stats writes, match results,
# room checkpoints) straight to gs-persist's request socket with nngcat.
# Successes, every refusal (bad ids, names, avatars, oversized or deep
# metadata, unknown fields, no token, overflow, caps), idempotent and
# conflicting results, paging, stale checkpoints.
. "$(dirname "$0")/../lib.sh"

make_keys

start_persist
start sim "$B/gs-sim" -i "ipc://$T/sim.in" -c "ipc://$T/sim.ctl"
start_accounts_gw -r 1000 -R 1000

export PYTHONPATH="$(dirname "$0")"
$PY - "$PORT" "$PST" <<'PY' || die "player data checks"
import json, subprocess, sys
import msgpack
from api import Api, fail, claims_of
a = Api(int(sys.argv[1])); URL = sys.argv[2]
ARGS, NOT_FOUND, CONFLICT = 2, 3, 4

def pst(*req, raw=None):
    """[status, body] of one request to gs-persist, sent by nngcat."""
    data = raw if raw is not None else msgpack.packb(list(req),
                                                     use_bin_type=True)
    p = subprocess.run(["nngcat", "--req", "--dial", URL, "--file", "-",
                        "--raw", "--recv-timeout", "5"], input=data,
                       capture_output=True, timeout=30)
    if not p.stdout:
        fail("no reply to %r: %s" % (req[:3], p.stderr))
    return msgpack.unpackb(p.stdout, raw=False)

def pok(*req):
    st, body = pst(*req)
    if st != 0:
        fail("%r: status %d, want 0: %s" % (req[:3], st, body))
    return body

def perr(want, *req, raw=None):
    st, body = pst(*req, raw=raw)
    if st != want:
        fail("%r: status %d, want %d: %s" % (req[:3], st, want, body))
    return body

def eq(what, got, want):
    if got != want:
        fail("%s: %r, want %r" % (what, got, want))

# ------------------------------------------------------------ profiles
g1 = a.ok("POST", "/v1/auth/guest", {"device": "dev-a", "name": "alpha"})
g2 = a.ok("POST", "/v1/auth/guest", {"device": "dev-b"})
A, B, tok = g1["account"], g2["account"], g1["access"]

p = a.ok("GET", "/v1/account/profile", token=tok)
eq("profile", (p["account"], p["name"], p["avatar"], p["metadata"]),
   (A, "alpha", "", {}))
if not isinstance(p["created"], int) or p["created"] <= 0:
    fail("created: %s" % p)
for m, path in [("GET", "/v1/account/profile"),
                ("PATCH", "/v1/account/profile"),
                ("GET", "/v1/account/stats"),
                ("GET", "/v1/account/matches")]:
    a.err(401, "unauthorized", m, path,
          {"name": "x"} if m == "PATCH" else None)
a.err(401, "unauthorized", "GET", "/v1/account/profile", token="x.y.z")

meta = {"level": 7, "title": "Ace", "tags": ["a", "b"], "ratio": 0.5,
        "nested": {"ok": True, "none": None}}
p = a.ok("PATCH", "/v1/account/profile", {"name": "Alpha_2",
         "avatar": "https://cdn.example/a/1.png", "metadata": meta},
         token=tok)
eq("patched", (p["name"], p["avatar"], p["metadata"]),
   ("Alpha_2", "https://cdn.example/a/1.png", meta))
eq("read back", a.ok("GET", "/v1/account/profile", token=tok), p)
eq("public", a.ok("GET", "/v1/profiles/%d" % A), p)
# Only what is given changes; metadata is replaced whole.
p2 = a.ok("PATCH", "/v1/account/profile", {"metadata": {"level": 8}},
          token=tok)
eq("metadata replaced", (p2["name"], p2["avatar"], p2["metadata"]),
   ("Alpha_2", "https://cdn.example/a/1.png", {"level": 8}))
eq("no change", a.ok("PATCH", "/v1/account/profile", {}, token=tok), p2)
eq("avatar cleared", a.ok("PATCH", "/v1/account/profile", {"avatar": ""},
                          token=tok)["avatar"], "")
eq("not B's", a.ok("GET", "/v1/profiles/%d" % B)["name"], g2["name"])

# A new name shows in tokens issued after the change.
eq("old token's name", claims_of(tok)["name"], "alpha")
r = a.ok("POST", "/v1/auth/refresh", {"refresh": g1["refresh"]})
eq("new token's name", claims_of(r["access"])["name"], "Alpha_2")

# 4096 bytes of compact JSON is the most: {"k":"xx...x"}.
a.ok("PATCH", "/v1/account/profile", {"metadata": {"k": "x" * 4088}},
     token=tok)
j, _ = a.err(400, "args", "PATCH", "/v1/account/profile",
             {"metadata": {"k": "x" * 4089}}, token=tok)
if "4096" not in j["error"]["message"]:
    fail("oversized metadata: %s" % j)
deep = {}
for i in range(15):
    deep = {"d": deep}
a.ok("PATCH", "/v1/account/profile", {"metadata": deep}, token=tok)
a.err(400, "args", "PATCH", "/v1/account/profile",
      {"metadata": {"d": deep}}, token=tok)
for body in [{"nickname": "x"}, {"name": "ok", "extra": 1},
             {"name": "has space"}, {"name": "x" * 33}, {"name": ""},
             {"name": 5}, {"avatar": "has space"}, {"avatar": "a" * 257},
             {"avatar": "caf\u00e9"}, {"avatar": 1}, {"metadata": [1]},
             {"metadata": "{}"}, {"metadata": 3}]:
    a.err(400, "args", "PATCH", "/v1/account/profile", body, token=tok)
a.ok("PATCH", "/v1/account/profile", {"avatar": "a" * 256}, token=tok)
a.err(400, "json", "PATCH", "/v1/account/profile", token=tok,
      raw=b"{not json")
eq("unchanged by refusals", a.ok("GET", "/v1/account/profile",
                                 token=tok)["name"], "Alpha_2")
for bad in ["abc", "0", "-1", "%2B1", "1x", "%201",
            "99999999999999999999"]:
    a.err(400, "args", "GET", "/v1/profiles/" + bad)
a.err(404, "not_found", "GET", "/v1/profiles/999999")
a.err(405, None, "POST", "/v1/profiles/%d" % A, {})

# The ops themselves: strict arguments.
eq("profile op", pok("profile", A)["name"], "Alpha_2")
perr(NOT_FOUND, "profile", 999999)
perr(NOT_FOUND, "profile_set", 999999, {"name": "x"})
perr(ARGS, "profile", A, 1)
perr(ARGS, "profile", 0)
perr(ARGS, "profile", "alpha")
perr(ARGS, "profile_set", A, {"name": "x"}, 1)
perr(ARGS, "profile_set", A, {"name": "a", "avatar": "b", "metadata": {},
                              "x": 1})
perr(ARGS, "profile_set", A, [])
# A key repeated (hand-made msgpack: dicts cannot repeat one).
perr(ARGS, raw=b"\x93\xabprofile_set" + msgpack.packb(A) +
     b"\x82\xa4name\xa1x\xa4name\xa1y")
print("profiles ok")

# --------------------------------------------------------------- stats
eq("no stats", a.ok("GET", "/v1/account/stats", token=tok), {})
eq("incr", pok("stats_incr", A, {"wins": 1, "kills": 5}),
   {"wins": 1, "kills": 5})
eq("incr again", pok("stats_incr", A, {"wins": 2, "kills": -1}),
   {"wins": 3, "kills": 4})
eq("set", pok("stats_set", A, {"rating": 1500, "max.v-1_x": -7}),
   {"rating": 1500, "max.v-1_x": -7})
big = 2**63 - 1
pok("stats_set", A, {"big": big, "small": -2**63})
perr(ARGS, "stats_incr", A, {"big": 1})
perr(ARGS, "stats_incr", A, {"small": -1})
perr(ARGS, "stats_incr", A, {"wins": 1, "big": 1})  # all or nothing
eq("at the edge", pok("stats_incr", A, {"big": -1, "small": 1}),
   {"big": big - 1, "small": -2**63 + 1})
perr(ARGS, "stats_incr", A, {"wins": 2**63})
perr(ARGS, "stats_incr", A, {"wins": 1.5})
perr(ARGS, "stats_incr", A, {"wins": "1"})
perr(ARGS, "stats_incr", A, {"Wins": 1})
perr(ARGS, "stats_incr", A, {"a b": 1})
perr(ARGS, "stats_incr", A, {"": 1})
perr(ARGS, "stats_incr", A, {"k" * 65: 1})
perr(ARGS, "stats_incr", A, {})
perr(ARGS, "stats_incr", A, dict(("k%d" % i, 1) for i in range(65)))
perr(ARGS, "stats_incr", A, {"wins": 1}, 0)
perr(ARGS, raw=b"\x93\xaastats_incr" + msgpack.packb(A) +
     b"\x82\xa1a\x01\xa1a\x02")
perr(NOT_FOUND, "stats_incr", 999999, {"wins": 1})
perr(NOT_FOUND, "stats", 999999)
pok("stats_incr", A, {"k" * 64: 1})
want = {"wins": 3, "kills": 4, "rating": 1500, "max.v-1_x": -7,
        "big": big - 1, "small": -2**63 + 1, "k" * 64: 1}
eq("stats op", pok("stats", A), want)
# Past 2^53 the API's JSON carries integers as strings (gs-gateway(8)).
want.update(big=str(big - 1), small=str(-2**63 + 1))
eq("stats", a.ok("GET", "/v1/account/stats", token=tok), want)
# 256 keys at most: four requests of 64 fill B's, a new one is refused,
# an existing one still counts.
for n in range(4):
    pok("stats_set", B, dict(("s%03d" % (n * 64 + i), i)
                             for i in range(64)))
perr(ARGS, "stats_incr", B, {"one.more": 1})
perr(ARGS, "stats_incr", B, {"s000": 1, "one.more": 1})
eq("full", pok("stats_incr", B, {"s000": 1}), {"s000": 1})
eq("256 stats", len(pok("stats", B)), 256)
print("stats ok")

# ------------------------------------------------------------- results
res = '{"winner": %d, "scores": {"%d": 10, "%d": 7}}' % (A, A, B)
eq("result", pok("result", "room-1", "m1", 1000, res, [A, B]),
   {"created": True})
eq("retry", pok("result", "room-1", "m1", 1000, res, [B, A]),
   {"created": False})
reordered = '{"scores": {"%d": 10, "%d": 7}, "winner": %d}' % (A, B, A)
eq("same object", pok("result", "room-1", "m1", 1000, reordered, [A, B]),
   {"created": False})
perr(CONFLICT, "result", "room-1", "m1", 1000, '{"winner": %d}' % B, [A, B])
perr(CONFLICT, "result", "room-1", "m1", 1001, res, [A, B])
perr(CONFLICT, "result", "room-1", "m1", 1000, res, [A])
perr(NOT_FOUND, "result", "room-1", "m-bad", 1500, "{}", [A, 999999])
for bad in [("room-1", "m2", 1000, "[1]", [A]),
            ("room-1", "m2", 1000, "{bad", [A]),
            ("room-1", "m2", 1000, '{"a":1,"a":2}', [A]),
            ("room-1", "m2", 1000, '{"a":"\\u0000"}', [A]),
            ("room-1", "m2", 1000, '{"a":' * 17 + "1" + "}" * 17, [A]),
            ("room-1", "m2", 1000, '{"a":"%s"}' % ("x" * 4090), [A]),
            ("room-1", "m2", 1000, {"a": 1}, [A]),
            ("room 1", "m2", 1000, "{}", [A]),
            ("room-1", "m/2", 1000, "{}", [A]),
            ("room-1", "m2", 0, "{}", [A]),
            ("room-1", "m2", 1000, "{}", [A, A]),
            ("room-1", "m2", 1000, "{}", [0]),
            ("room-1", "m2", 1000, "{}", list(range(1, 4098))),
            ("room-1", "m2", 1000, "{}", [A], 1),
            ("room-1", "m2", 1000, "{}")]:
    perr(ARGS, "result", *bad)
eq("deep enough", pok("result", "room-1", "m-deep", 900,
                      '{"a":' * 16 + "1" + "}" * 16, [B]),
   {"created": True})
for i in range(5):
    pok("result", "room-2", "p%d" % i, 2000 + i,
        '{"round": %d, "f": 1.5}' % i, [A])
# Two that ended in the same second.
pok("result", "room-3", "s1", 3000, '{"s": 1}', [A, B])
pok("result", "room-3", "s2", 3000, '{"s": 2}', [A])

def page(limit, before, token=tok):
    return a.ok("GET", "/v1/account/matches?limit=%d&before=%d" %
                (limit, before), token=token)

pg = page(1, 0)
eq("same second on one page", [(m["match"], m["ended"]) for m in
                               pg["matches"]],
   [("s2", 3000), ("s1", 3000)])
eq("page 1", (pg["more"], pg["next"]), (True, 3000))
eq("results as objects", pg["matches"][1]["result"], {"s": 1})
pg = page(2, pg["next"])
eq("page 2", [m["match"] for m in pg["matches"]], ["p4", "p3"])
eq("page 2 result", pg["matches"][0]["result"], {"f": 1.5, "round": 4})
eq("page 2 next", (pg["more"], pg["next"]), (True, 2003))
pg = page(2, pg["next"])
eq("page 3", [m["match"] for m in pg["matches"]], ["p2", "p1"])
pg = page(3, pg["next"])
eq("page 4", [(m["room"], m["match"]) for m in pg["matches"]],
   [("room-2", "p0"), ("room-1", "m1")])
eq("last page", pg["more"], False)
eq("m1", pg["matches"][1]["result"],
   {"scores": {str(A): 10, str(B): 7}, "winner": A})
eq("empty page", page(5, 1000), {"matches": [], "more": False,
                                 "next": 1000})
eq("default page", len(a.ok("GET", "/v1/account/matches",
                            token=tok)["matches"]), 8)
tokb = a.ok("POST", "/v1/auth/guest", {"device": "dev-b"})["access"]
eq("B's", [m["match"] for m in page(100, 0, tokb)["matches"]],
   ["s1", "m1", "m-deep"])
for q in ["limit=0", "limit=101", "limit=x", "before=-1", "limit="]:
    a.err(400, "args", "GET", "/v1/account/matches?" + q, token=tok)
perr(ARGS, "matches", A, 0, 0)
perr(ARGS, "matches", A, 101, 0)
perr(ARGS, "matches", A, 10, -1)
perr(ARGS, "matches", A, 10)
perr(NOT_FOUND, "matches", 999999, 10, 0)
eq("op", len(pok("matches", A, 100, 0)["matches"]), 8)
print("results ok")

# --------------------------------------------------------- checkpoints
perr(NOT_FOUND, "checkpoint_get", "room-1")
eq("put", pok("checkpoint_put", "room-1", 10, b"\x00\x01state"), {})
c = pok("checkpoint_get", "room-1")
eq("get", (c["room"], c["tick"], c["data"]), ("room-1", 10, b"\x00\x01state"))
if not isinstance(c["updated"], int) or c["updated"] <= 0:
    fail("updated: %s" % c)
perr(CONFLICT, "checkpoint_put", "room-1", 9, b"stale")
eq("stale refused", pok("checkpoint_get", "room-1")["data"],
   b"\x00\x01state")
eq("same tick again", pok("checkpoint_put", "room-1", 10, b"again"), {})
pok("checkpoint_put", "room-1", 11, b"newer")
eq("newer", (pok("checkpoint_get", "room-1")["tick"],
             pok("checkpoint_get", "room-1")["data"]), (11, b"newer"))
biggest = bytes(range(256)) * 4080          # 1 MiB - 4 KiB
pok("checkpoint_put", "room-big", 1, biggest)
eq("biggest", pok("checkpoint_get", "room-big")["data"], biggest)
for bad in [("room-1", 12, biggest + b"x"), ("room-1", 12, "text"),
            ("room-1", 12, b""), ("room-1", -1, b"x"),
            ("room/1", 12, b"x"), ("room-1", 12), ("room-1", 12, b"x", 1)]:
    perr(ARGS, "checkpoint_put", *bad)
eq("del", pok("checkpoint_del", "room-1"), {})
perr(NOT_FOUND, "checkpoint_get", "room-1")
eq("del again", pok("checkpoint_del", "room-1"), {})
perr(ARGS, "checkpoint_del", "room-1", 1)
perr(ARGS, "checkpoint_get", "")
eq("others kept", pok("checkpoint_get", "room-big")["tick"], 1)
print("checkpoints ok")
PY

# What was acknowledged is in the file.
stop gw
stop sim
stop persist
start_persist
printf '\x92\xa7profile\x01' | nngcat --req --dial "$PST" \
    --file - --raw --recv-timeout 5 >"$T/profile.mp" || die "profile after restart"
grep -q Alpha_2 "$T/profile.mp" || die "profile lost: $(cat -v "$T/profile.mp")"
stop persist
