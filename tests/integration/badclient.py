"""A hostile client for gs-gateway, written from gs-protocol(7) alone.

usage: badclient.py URL
Joins as a dev-mode player, then sends garbage, truncated, oversized and
text frames and checks that each one gets the documented error while the
connection keeps working (a ping still gets its pong).  A second
connection that keeps sending garbage must be closed with "toomany".
Also the page's other rules at the edge: the subprotocol offers, the
client's own joined event, a server's kind, the messages before a bad
one, a sequence number past 32 bits, the close codes after bye and after
fatal errors, and the hello deadline (checked alongside the rest; it
takes 10 seconds).
Exits 0 when every check held, 1 otherwise.
"""
import asyncio
import sys

import msgpack
import websockets

BADFRAME, TOOBIG, VERSION, PROTOCOL, TOOMANY = 1, 2, 3, 5, 14
HELLO, WELCOME, INPUT, SNAPSHOT, PING, PONG, EVENT, ERROR, BYE = \
    1, 2, 3, 4, 5, 6, 7, 8, 10
JOINED = 1
CLOSE_NORMAL, CLOSE_POLICY = 1000, 1008


def messages(data):
    """All protocol messages in one WebSocket message."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(data)
    return list(u)


async def expect(ws, kind, timeout=10.0):
    """Read until a message of this kind arrives; return it."""
    async def loop():
        while True:
            data = await ws.recv()
            for m in messages(data):
                if m[0] == kind:
                    return m
    return await asyncio.wait_for(loop(), timeout)


async def until_closed(ws, timeout=20.0):
    """Read until the server closes; return (error codes, close code)."""
    errors = []
    try:
        while True:
            data = await asyncio.wait_for(ws.recv(), timeout)
            if isinstance(data, bytes):
                errors += [m[1] for m in messages(data) if m[0] == ERROR]
    except websockets.ConnectionClosed as e:
        return errors, e.code


async def subprotocol(url, offer):
    """The subprotocol the server selects for an offer, or "refused"."""
    try:
        ws = await websockets.connect(url, subprotocols=offer)
    except (websockets.InvalidHandshake, OSError, EOFError):
        return "refused"
    await ws.close()
    return ws.subprotocol


async def hello_deadline(url):
    """Say nothing: error protocol after 10 s, then close 1008."""
    ws = await websockets.connect(url, subprotocols=["gs.v2"])
    return await until_closed(ws, 20.0)


async def join(url, name):
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 2, name, None, "bad-room"]))
    w = await expect(ws, WELCOME)
    return ws, w


async def main(url):
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    deadline = asyncio.create_task(hello_deadline(url))

    for offer, want in ((["gs.v2"], "gs.v2"), (None, None),
                        (["gs.v0", "gs.v2"], "gs.v2"),
                        (["gs.v1"], "gs.v1"),
                        (["gs.v3"], "refused")):
        got = await subprotocol(url, offer)
        check(got == want, "subprotocol offer %r -> %r (got %r)" %
              (offer, want, got))

    # Everything up to the first snapshot, in order of arrival.
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 2, "mallory", None, "bad-room"]))
    seen = []

    async def first_snapshot():
        while True:
            for m in messages(await ws.recv()):
                seen.append(m)
                if m[0] == SNAPSHOT:
                    return
    await asyncio.wait_for(first_snapshot(), 10)
    w = seen[0]
    check(w[0] == WELCOME and w[3] == "bad-room",
          "welcome first, naming the room (got %r)" % w)
    check(any(m[0] == EVENT and m[2] == JOINED and m[3] == w[2]
              for m in seen),
          "the client's own joined event, before any snapshot")

    cases = [
        ("garbage bytes", b"\xc1\xff\x00\x13", BADFRAME),
        ("truncated hello", msgpack.packb([HELLO, 2, "x", None, "r"])[:4],
         BADFRAME),
        ("array claiming 2^32 elements", b"\xdd\xff\xff\xff\xff\x03",
         BADFRAME),
        ("unknown kind", msgpack.packb([99, 1, 2]), BADFRAME),
        ("input with a value beyond 32 bits",
         msgpack.packb([3, [[1, 1 << 31, 0, 0]]]), BADFRAME),
        ("input with a sequence number of 2^32",
         msgpack.packb([3, [[1 << 32, 0, 0, 0]]]), BADFRAME),
        ("input with no inputs", msgpack.packb([3, []]), BADFRAME),
        ("ack of a tick beyond 64 bits", msgpack.packb([11, -1]), BADFRAME),
        ("look at a string", msgpack.packb([13, "x", 1]), BADFRAME),
        ("a kind the server sends (snapshot)",
         msgpack.packb([SNAPSHOT, 1, 0, 0, b""]), PROTOCOL),

        ("a second hello",
         msgpack.packb([HELLO, 2, "mallory", None, "bad-room"]), PROTOCOL),
        ("oversized frame", msgpack.packb([3, "x" * 200000]), TOOBIG),
    ]
    for what, data, code in cases:
        await ws.send(data)
        e = await expect(ws, ERROR)
        check(e[1] == code, "%s -> error %d (got %r)" % (what, code, e))
    await ws.send("a text frame")
    e = await expect(ws, ERROR)
    check(e[1] == BADFRAME, "text frame -> error %d (got %r)" % (BADFRAME, e))

    await ws.send(msgpack.packb([PING, 12345]))
    p = await expect(ws, PONG)
    check(p[1] == 12345, "still served after bad frames: pong echoes t")
    await expect(ws, SNAPSHOT)
    check(True, "still receiving snapshots")

    # A batch larger than the gateway's receive chunk, in one WebSocket
    # message and in several fragments: every message in it is served.
    for fragments in (False, True):
        batch = [msgpack.packb([PING, 1000 + i]) for i in range(100)]
        if fragments:
            await ws.send(iter([b"".join(batch[i:i + 10])
                                for i in range(0, 100, 10)]))
        else:
            await ws.send(b"".join(batch))
        got = set()

        async def pongs():
            while len(got) < 100:
                got.update(m[1] for m in messages(await ws.recv())
                           if m[0] == PONG and 1000 <= m[1] < 1100)
        try:
            await asyncio.wait_for(pongs(), 20)
        except asyncio.TimeoutError:
            pass
        check(got == set(range(1000, 1100)),
              "a batch of 100 pings (%s) -> 100 pongs" %
              ("fragmented" if fragments else "one frame"))

    # The messages before a bad one were acted on; the rest is dropped.
    await ws.send(msgpack.packb([PING, 1]) + b"\xc1" +
                  msgpack.packb([PING, 2]))
    got = []
    while not any(m[0] == ERROR for m in got):
        got += [m for m in messages(await asyncio.wait_for(ws.recv(), 10))
                if m[0] in (PONG, ERROR)]
    await ws.send(msgpack.packb([PING, 3]))
    while got[-1][0] != PONG or got[-1][1] != 3:
        got += [m for m in messages(await asyncio.wait_for(ws.recv(), 10))
                if m[0] in (PONG, ERROR)]
    check([m[:2] for m in got] == [[PONG, 1], [ERROR, BADFRAME], [PONG, 3]],
          "ping, garbage, ping -> pong, badframe, and no second pong "
          "(got %r)" % got)

    # Bye: the server closes with 1000 and no error.
    await ws.send(msgpack.packb([BYE]))
    errors, code = await until_closed(ws)
    check(errors == [] and code == CLOSE_NORMAL,
          "bye -> close 1000, no error (got %r, %r)" % (errors, code))

    # A version 1 client is told, then closed 1008.
    ws = await websockets.connect(url, subprotocols=["gs.v1"])
    await ws.send(msgpack.packb([HELLO, 1, "mallory3", None, "bad-room"]))
    texts = []

    async def version_error():
        try:
            while True:
                for m in messages(await ws.recv()):
                    if m[0] == ERROR:
                        texts.append((m[1], m[2]))
        except websockets.ConnectionClosed:
            pass
    await asyncio.wait_for(version_error(), 10)
    check(len(texts) == 1 and texts[0][0] == VERSION and
          "version 1 is not supported; this server speaks 2" in texts[0][1]
          and ws.close_code == CLOSE_POLICY,
          "a version 1 hello -> error version saying 2, close 1008 "
          "(got %r, %r)" % (texts, ws.close_code))
    ws = await websockets.connect(url, subprotocols=["gs.v2"])
    await ws.send(msgpack.packb([HELLO, 3, "mallory4", None, "bad-room"]))
    errors, code = await until_closed(ws)
    check(errors == [VERSION] and code == CLOSE_POLICY,
          "hello version 3 -> error version, close 1008 (got %r, %r)" %
          (errors, code))

    # Persistent garbage: closed with toomany.
    ws, _ = await join(url, "mallory2")
    closed = False
    got_toomany = False
    try:
        for _ in range(100):
            await ws.send(b"\xc1")
        while True:
            data = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(data, bytes):
                for m in messages(data):
                    if m[0] == ERROR and m[1] == TOOMANY:
                        got_toomany = True
    except websockets.ConnectionClosed:
        closed = True
    check(got_toomany, "persistent garbage -> error toomany")
    check(closed, "persistent garbage -> connection closed")
    check(closed and ws.close_code == CLOSE_POLICY,
          "toomany -> close 1008 (got %r)" % ws.close_code)

    # Garbage before hello, and a second hello.
    ws = await websockets.connect(url, subprotocols=["gs.v2"])
    await ws.send(b"\x00\x01")
    e = await expect(ws, ERROR)
    check(e[1] == BADFRAME, "garbage before hello -> badframe")
    await ws.close()

    errors, code = await deadline
    check(errors == [PROTOCOL] and code == CLOSE_POLICY,
          "no hello for 10 s -> error protocol, close 1008 (got %r, %r)" %
          (errors, code))

    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
