#!/bin/bash
# Friends, presence and chat end to end: requests, acceptance, removal,
# blocks (no request, no direct message) and unblocking over HTTP;
# online state from the gateway's presence report (a player joins, then
# leaves) and from a list that expires; chat in rooms, groups (members
# only) and direct channels, history in pages, the word filter of
# GS_PERSIST_WORDS, the rate limit, and text refused for its size or
# for not being UTF-8; friends kept across a restart.
. "$(dirname "$0")/../lib.sh"

make_keys
printf 'darn\n# a comment\n\n  Heck \t\nfrak\n\xc3\xa4rger\n' >"$T/words.txt"
GS_PERSIST_WORDS="$T/words.txt" start_persist
grep -q "word list loaded .*words=4" "$T/persist.log" ||
    die "word list not loaded"
# A list with a line that is not a word stops gs-persist at start.
printf 'darn\nnot one\n' >"$T/bad.txt"
GS_PERSIST_WORDS="$T/bad.txt" "$B/gs-persist" -d "$T/bad.db" -k "$T/key.pem" \
    -r "ipc://$T/bad.req" 2>"$T/bad.out"
[ $? -eq 1 ] && grep -q "bad word in the word list .*line=2" "$T/bad.out" ||
    die "a bad word list: $(cat "$T/bad.out")"
start sim "$B/gs-sim" -i "ipc://$T/sim.in"
start_accounts_gw -r 1000 -R 1000
export PYTHONPATH="$(cd "$(dirname "$0")" && pwd):$T"
U=$PST

# Nine guests, a to i: their ids and access tokens.
$PY - "$PORT" "$T/acct.json" <<'PY' || die "guests"
import json, sys
from api import Api
a = Api(int(sys.argv[1]))
acct = {}
for n in "abcdefghi":
    g = a.ok("POST", "/v1/auth/guest", {"device": "social-" + n, "name": n})
    acct[n] = {"id": g["account"], "tok": g["access"]}
json.dump(acct, open(sys.argv[2], "w"))
PY

# The checks' common part (argv: PORT ACCT.JSON ...): ID and TOK by
# guest, a friend list, one's entry in it, chat calls.
cat >"$T/soc.py" <<'PY'
import json, sys
from api import Api, fail, pst, pst_ok
acct = json.load(open(sys.argv[2]))
a = Api(int(sys.argv[1]))
ID = dict((n, v["id"]) for n, v in acct.items())
TOK = dict((n, v["tok"]) for n, v in acct.items())

def friends(who):
    return dict((f["account"], f) for f in
                a.ok("GET", "/v1/friends", token=TOK[who]))

def entry(who, other):
    return friends(who).get(ID[other])

def entry_pst(url, who, other):
    """The entry as gs-persist gives it, without a gateway."""
    for f in pst_ok(url, "friend_list", ID[who]):
        if f["account"] == ID[other]:
            return f

def send(who, chan, text):
    return a.ok("POST", "/v1/chat/" + chan, {"text": text}, token=TOK[who])

def history(who, chan, q=""):
    return a.ok("GET", "/v1/chat/" + chan + q, token=TOK[who])
PY
# online WHO OTHER true|false [URL]: OTHER's online state in WHO's list
# (asked of gs-persist at URL when given).
cat >"$T/online.py" <<'PY'
import sys
from soc import entry, entry_pst
if len(sys.argv) > 6:
    e = entry_pst(sys.argv[6], sys.argv[3], sys.argv[4])
else:
    e = entry(sys.argv[3], sys.argv[4])
sys.exit(0 if e is not None and e["online"] == (sys.argv[5] == "true")
         else 1)
PY
online() { $PY "$T/online.py" "$PORT" "$T/acct.json" "$@"; }

$PY - "$PORT" "$T/acct.json" "$U" <<'PY' || die "friends"
from soc import *
U = sys.argv[3]
A, B, C, D = ID["a"], ID["b"], ID["c"], ID["d"]

# A request: requested one way, pending the other; again is no error.
r = a.ok("PUT", "/v1/friends/%d" % B, {}, token=TOK["a"])
if r != {"state": "requested"}:
    fail("add: %s" % r)
if a.ok("PUT", "/v1/friends/%d" % B, {}, token=TOK["a"]) != r:
    fail("add again")
ea, eb = entry("a", "b"), entry("b", "a")
if ea["state"] != "requested" or eb["state"] != "pending" or \
        ea["name"] != "b" or eb["name"] != "a" or ea["online"]:
    fail("request: %s %s" % (ea, eb))
a.err(400, "args", "PUT", "/v1/friends/%d" % A, {}, token=TOK["a"])
a.err(400, "args", "PUT", "/v1/friends/-%d" % B, {}, token=TOK["a"])
a.err(400, "args", "PUT", "/v1/friends/0", {}, token=TOK["a"])
a.err(400, "args", "PUT", "/v1/friends/x", {}, token=TOK["a"])
a.err(404, "not_found", "PUT", "/v1/friends/999999", {}, token=TOK["a"])
a.err(400, "json", "PUT", "/v1/friends/%d" % B, token=TOK["a"])
a.err(401, "unauthorized", "GET", "/v1/friends")

# Accepted: friends both ways, since the acceptance.
if a.ok("PUT", "/v1/friends/%d" % A, {}, token=TOK["b"]) != \
        {"state": "friend"}:
    fail("accept")
ea, eb = entry("a", "b"), entry("b", "a")
if ea["state"] != "friend" or eb["state"] != "friend" or \
        ea["since"] != eb["since"] or ea["since"] <= 0:
    fail("friends: %s %s" % (ea, eb))

# Removed by either; again is no error.
if a.ok("DELETE", "/v1/friends/%d" % A, token=TOK["b"]) != {"removed": True}:
    fail("remove")
if friends("a") or friends("b"):
    fail("after remove: %s %s" % (friends("a"), friends("b")))
if a.ok("DELETE", "/v1/friends/%d" % A, token=TOK["b"]) != {"removed": False}:
    fail("remove again")
# A withdrawn request.
a.ok("PUT", "/v1/friends/%d" % B, {}, token=TOK["a"])
a.ok("DELETE", "/v1/friends/%d" % B, token=TOK["a"])
if friends("a") or friends("b"):
    fail("request withdrawn")
a.ok("PUT", "/v1/friends/%d" % B, {}, token=TOK["a"])
a.ok("PUT", "/v1/friends/%d" % A, {}, token=TOK["b"])

# A block: c's request goes, c can neither ask again nor write to a;
# a can't either while the block stands.
a.ok("PUT", "/v1/friends/%d" % A, {}, token=TOK["c"])
if entry("a", "c")["state"] != "pending":
    fail("c's request")
if a.ok("PUT", "/v1/friends/%d/block" % C, {}, token=TOK["a"]) != \
        {"state": "blocked"}:
    fail("block")
if entry("a", "c")["state"] != "blocked" or friends("c"):
    fail("blocked: %s / %s" % (friends("a"), friends("c")))
a.err(403, "forbidden", "PUT", "/v1/friends/%d" % A, {}, token=TOK["c"])
a.err(403, "forbidden", "PUT", "/v1/friends/%d" % C, {}, token=TOK["a"])
a.err(403, "forbidden", "POST", "/v1/chat/dm:%d" % A, {"text": "hi"},
      token=TOK["c"])
a.err(403, "forbidden", "POST", "/v1/chat/dm:%d" % C, {"text": "hi"},
      token=TOK["a"])
# c blocks back; a's unblock leaves c's block standing.
a.ok("PUT", "/v1/friends/%d/block" % A, {}, token=TOK["c"])
if a.ok("DELETE", "/v1/friends/%d/block" % C, token=TOK["a"]) != \
        {"removed": True}:
    fail("unblock")
a.err(403, "forbidden", "POST", "/v1/chat/dm:%d" % C, {"text": "hi"},
      token=TOK["a"])
a.ok("DELETE", "/v1/friends/%d/block" % A, token=TOK["c"])
if a.ok("DELETE", "/v1/friends/%d/block" % A, token=TOK["c"]) != \
        {"removed": False}:
    fail("unblock again")
if a.ok("PUT", "/v1/friends/%d" % A, {}, token=TOK["c"])["state"] != \
        "requested":
    fail("request after unblock")
send("c", "dm:%d" % A, "hello after all")
# Straight to gs-persist: self and bad arguments.
st, msg = pst(U, "friend_add", A, A)
if st != 2:
    fail("self: %d %s" % (st, msg))
st, msg = pst(U, "friend_list", A, 1)
if st != 2:
    fail("extra argument: %d %s" % (st, msg))
print("friends ok")
PY

# Presence: a's friend b sees a online while a plays, through the
# gateway's report, and offline once a has left.  c asked a and is not
# a friend: no online state for c.
ta=$(json "$T/acct.json" 'j["a"]["tok"]')
ida=$(json "$T/acct.json" 'j["a"]["id"]')
online b a false || die "a online before playing"
PLAYER_TOKEN=$ta $PY tests/integration/player.py "ws://127.0.0.1:$PORT/" \
    social-1 ignored stay >"$T/player.out" 2>&1 &
ppid=$!
wait_for "a to play" 30 grep -q playing "$T/player.out"
wait_for "a online in b's list" 20 online b a true
$PY - "$PORT" "$T/acct.json" <<'PY' || die "online for friends only"
from soc import *
if entry("c", "a")["online"]:
    fail("online shown to a non-friend")
PY
kill -INT "$ppid"
wait "$ppid" || die "player: $(cat "$T/player.out")"
wait_for "a offline after leaving" 20 online b a false

$PY - "$PORT" "$T/acct.json" "$U" <<'PY' || die "chat"
from soc import *
U = sys.argv[3]
A, B, D = ID["a"], ID["b"], ID["d"]

# A room: anyone; the channel as sent or %-encoded.
r = send("a", "room:lobby", "hello")
if r["id"] != 1 or r["sent"] <= 0:
    fail("room send: %s" % r)
if send("d", "room%3Alobby", "hi a")["id"] != 2:
    fail("encoded channel")
h = history("b", "room:lobby")
got = [(m["id"], m["account"], m["name"], m["text"]) for m in h["messages"]]
if got != [(2, D, "d", "hi a"), (1, A, "a", "hello")] or h["more"]:
    fail("room history: %s" % h)
for chan in ("lobby", "room:", "room:a%20b", "hall:x", "dm:0", "dm:x",
             "dm:%d" % A, "group:"):
    a.err(400, "args", "POST", "/v1/chat/" + chan, {"text": "x"},
          token=TOK["a"])
a.err(404, "not_found", "POST", "/v1/chat/dm:999999", {"text": "x"},
      token=TOK["a"])

# A group: members only.
if a.ok("PUT", "/v1/groups/clan1", {}, token=TOK["a"]) != {"joined": True}:
    fail("join")
if a.ok("PUT", "/v1/groups/clan1", {}, token=TOK["a"]) != {"joined": False}:
    fail("join again")
send("a", "group:clan1", "clan only")
a.err(403, "forbidden", "GET", "/v1/chat/group:clan1", token=TOK["d"])
a.err(403, "forbidden", "POST", "/v1/chat/group:clan1", {"text": "x"},
      token=TOK["d"])
a.ok("PUT", "/v1/groups/clan1", {}, token=TOK["d"])
if [m["text"] for m in history("d", "group:clan1")["messages"]] != \
        ["clan only"]:
    fail("member's history")
if a.ok("DELETE", "/v1/groups/clan1", token=TOK["d"]) != {"left": True}:
    fail("leave")
if a.ok("DELETE", "/v1/groups/clan1", token=TOK["d"]) != {"left": False}:
    fail("leave again")
a.err(403, "forbidden", "GET", "/v1/chat/group:clan1", token=TOK["d"])
a.err(400, "args", "PUT", "/v1/groups/a:b", {}, token=TOK["a"])
# The last member takes the group's messages along.
a.ok("DELETE", "/v1/groups/clan1", token=TOK["a"])
a.ok("PUT", "/v1/groups/clan1", {}, token=TOK["d"])
if history("d", "group:clan1")["messages"]:
    fail("an emptied group kept its messages")

# Direct: one channel for the pair, whichever side names it.
send("a", "dm:%d" % B, "psst")
send("b", "dm:%d" % A, "yes?")
ha, hb = history("a", "dm:%d" % B), history("b", "dm:%d" % A)
if ha != hb or [m["text"] for m in ha["messages"]] != ["yes?", "psst"]:
    fail("dm: %s / %s" % (ha, hb))
if history("d", "dm:%d" % A)["messages"]:
    fail("a third party reads a dm")

# Paging: 6 messages, pages of 2 newest first, then nothing.
for i in range(6):
    send("ef"[i % 2], "room:paging", "m%d" % (i + 1))
pages, before = [], 0
for _ in range(4):
    h = history("a", "room:paging", "?limit=2&before=%d" % before)
    pages.append(([m["text"] for m in h["messages"]], h["more"]))
    if h["messages"]:
        before = h["messages"][-1]["id"]
want = [(["m6", "m5"], True), (["m4", "m3"], True), (["m2", "m1"], False),
        ([], False)]
if pages != want:
    fail("pages: %s, want %s" % (pages, want))
h = history("a", "room:paging", "?limit=100")
if [m["id"] for m in h["messages"]] != [6, 5, 4, 3, 2, 1] or h["more"]:
    fail("one page: %s" % h)
a.err(400, "args", "GET", "/v1/chat/room:paging?limit=0", token=TOK["a"])
a.err(400, "args", "GET", "/v1/chat/room:paging?limit=101", token=TOK["a"])
a.err(400, "args", "GET", "/v1/chat/room:paging?before=-1", token=TOK["a"])

# The word filter: whole words, any case, one '*' a character.
r = send("g", "room:filter",
         "Darn it, HECK! darned heck_ frak-Frak 'heck' \u00e4rger.")
h = history("g", "room:filter")
if h["messages"][0]["text"] != \
        "**** it, ****! darned heck_ ****-**** '****' *****.":
    fail("filter: %r" % h["messages"][0]["text"])

# Text: 1 to 500 bytes of UTF-8 without control characters.
send("h", "room:size", "x" * 500)
send("h", "room:size", "\u00e9" * 250)
a.err(400, "args", "POST", "/v1/chat/room:size", {"text": "x" * 501},
      token=TOK["h"])
a.err(400, "args", "POST", "/v1/chat/room:size",
      {"text": "\u00e9" * 250 + "x"}, token=TOK["h"])
a.err(400, "args", "POST", "/v1/chat/room:size", {"text": ""},
      token=TOK["h"])
for c in "\u0007\u001b\u001f\r":
    a.err(400, "args", "POST", "/v1/chat/room:size", {"text": "a%sb" % c},
          token=TOK["h"])
import msgpack
def raw_send(acct, text):
    """chat_send with text as a msgpack str of any bytes."""
    n = len(text)
    hdr = bytes([0xa0 | n]) if n < 32 else bytes([0xd9, n]) if n < 256 \
        else bytes([0xda, n >> 8, n & 0xff])
    return (b"\x94" + msgpack.packb("chat_send") + msgpack.packb(acct) +
            msgpack.packb("room:size") + hdr + text)
for bad in (b"\xff", b"ab\xc3", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
            b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
            b"\xe2\x82", b"\x80", b"x" * 501, b"a\x00b", b"a\x7fb"):
    st, msg = pst(U, raw=raw_send(ID["h"], bad))
    if st != 2:
        fail("text %r: status %d %s" % (bad[:8], st, msg))
good = "\u00e4\u20ac\U0001f600\ud7ff\ue000\U0010ffff\t\n ~".encode()
st, msg = pst(U, raw=raw_send(ID["h"], good))
if st != 0:
    fail("4-byte UTF-8 refused: %s" % msg)

# The rate limit: 5 at once, then no more for a while (i's first).
for i in range(5):
    send("i", "room:fast", "n%d" % i)
j, _ = a.err(403, "forbidden", "POST", "/v1/chat/room:fast", {"text": "n5"},
             token=TOK["i"])
if "slow down" not in j["error"]["message"]:
    fail("rate limit message: %s" % j)
if len(history("a", "room:fast")["messages"]) != 5:
    fail("a refused message was stored")
print("chat ok")
PY

# A list replaces the gateway's previous one and counts for its time to
# live: one from a gateway that then dies, with no other gateway's
# report coming meanwhile.
stop gw
$PY - "$PORT" "$T/acct.json" "$U" <<'PY' || die "presence"
from soc import *
U, A = sys.argv[3], ID["a"]
r = pst_ok(U, "presence", 77, 60, [A, A, A])
if r["accounts"] != 1 or r["gateways"] < 1:
    fail("presence: %s" % r)
if not entry_pst(U, "b", "a")["online"]:
    fail("online by a second gateway")
pst_ok(U, "presence", 77, 60, [])
if entry_pst(U, "b", "a")["online"]:
    fail("a list did not replace the one before")
for bad in ((77, 0, [A]), (77, 61, [A]), (77, 5, [0]), (77, 5, [A], 1),
            (-1, 5, [A]), (77, 5, A)):
    st, msg = pst(U, "presence", *bad)
    if st != 2:
        fail("presence %r: %d %s" % (bad, st, msg))
pst_ok(U, "presence", 77, 1, [A])
PY
wait_for "a's list from a dead gateway to expire" 20 online b a false "$U"

# Friends are kept; presence is not.
stop sim
stop persist
start_persist
$PY - "$U" "$T/acct.json" <<'PY' || die "after restart"
import json, sys
from api import fail, pst_ok
acct = json.load(open(sys.argv[2]))
l = pst_ok(sys.argv[1], "friend_list", acct["b"]["id"])
if [(f["account"], f["state"], f["online"]) for f in l] != \
        [(acct["a"]["id"], "friend", False)]:
    fail("b's list after a restart: %s" % l)
PY
stop persist
echo "social ok"
