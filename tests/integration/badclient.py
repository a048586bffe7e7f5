"""A hostile client for gs-gateway, written from gs-protocol(7) alone.

usage: badclient.py URL
Joins as a dev-mode player, then sends garbage, truncated, oversized and
text frames and checks that each one gets the documented error while the
connection keeps working (a ping still gets its pong).  A second
connection that keeps sending garbage must be closed with "toomany".
Exits 0 when every check held, 1 otherwise.
"""
import asyncio
import sys

import msgpack
import websockets

BADFRAME, TOOBIG, TOOMANY = 1, 2, 14
HELLO, WELCOME, SNAPSHOT, PING, PONG, EVENT, ERROR = 1, 2, 4, 5, 6, 7, 8


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


async def join(url, name):
    ws = await websockets.connect(url, subprotocols=["gs.v1"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 1, name, None, "bad-room"]))
    w = await expect(ws, WELCOME)
    return ws, w


async def main(url):
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    ws, w = await join(url, "mallory")
    check(w[3] == "bad-room", "welcome names the room")
    await expect(ws, SNAPSHOT)

    cases = [
        ("garbage bytes", b"\xc1\xff\x00\x13", BADFRAME),
        ("truncated hello", msgpack.packb([HELLO, 1, "x", None, "r"])[:4],
         BADFRAME),
        ("array claiming 2^32 elements", b"\xdd\xff\xff\xff\xff\x03",
         BADFRAME),
        ("unknown kind", msgpack.packb([99, 1, 2]), BADFRAME),
        ("input with an axis out of range",
         msgpack.packb([3, [[1, 500, 0, 0]]]), BADFRAME),
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
    await ws.close()

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

    # Garbage before hello, and a second hello.
    ws = await websockets.connect(url, subprotocols=["gs.v1"])
    await ws.send(b"\x00\x01")
    e = await expect(ws, ERROR)
    check(e[1] == BADFRAME, "garbage before hello -> badframe")
    await ws.close()

    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
