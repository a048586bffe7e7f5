"""Abusive clients for gs-gateway's limits at the edge (gs-gateway(8),
Limits), written from gs-protocol(7).

usage: abuser.py flood URL ROOM NAME
       abuser.py hello URL ROOM NAME SRC
       abuser.py idle HOST PORT N MODE NADDR [RATE]

flood: joins ROOM as NAME (dev mode) and then sends, as fast as the
connection takes them, WebSocket messages of 16 inputs and a ping each.
Prints "ratelimit" when the first ratelimit error arrives and "closed
CODE" (the last error code, or "none") when the server ends the
connection.  Exits 0 when it got a ratelimit error and was closed, 1
otherwise, 2 at the give-up bound.

hello: says hello for ROOM as NAME from source address SRC and prints
"welcome" or "error NAME" for the server's first answer to it, or
"timeout" (exit 1) when there is none within 5 seconds.

idle: keeps N connections to HOST:PORT open from NADDR source addresses
(127.1.x.y), reopening any that closes or is refused, at most RATE
connects a second (default 2000).  MODE "tcp" sends nothing; "ws" sends
a WebSocket upgrade and nothing after it (no hello), and closes a
connection when the server's close frame comes.  Prints "open N" the
first time N are open at once, "closed C" each time another thousand
have been closed, then runs until SIGTERM or SIGINT, and prints "opened
K closed C" at the end.

The bounds only keep a broken run from hanging; nothing is timed.
"""
import asyncio
import errno
import os
import selectors
import signal
import socket
import sys
import time

import msgpack
import websockets

HELLO, WELCOME, INPUT, PING, ERROR = 1, 2, 3, 5, 8
GIVE_UP_S = 30.0
ERRNAMES = {9: "ratelimit", 17: "roomlimit", 6: "roomfull"}


def messages(data):
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(data)
    return list(u)


async def flood(url, room, name):
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_queue=None, ping_interval=None)
    await ws.send(msgpack.packb([HELLO, 2, name, None, room]))
    for _ in range(100):
        m = messages(await ws.recv())
        if any(x[0] == WELCOME for x in m):
            break
        if any(x[0] == ERROR for x in m):
            print("error before welcome", m, flush=True)
            return 1
    state = {"ratelimit": False, "last": None}

    async def receive():
        try:
            async for data in ws:
                if not isinstance(data, bytes):
                    continue
                for x in messages(data):
                    if x[0] == ERROR:
                        state["last"] = x[1]
                        if x[1] == 9 and not state["ratelimit"]:
                            state["ratelimit"] = True
                            print("ratelimit", flush=True)
        except websockets.ConnectionClosed:
            pass

    async def send():
        seq = 0
        try:
            while True:
                msg = b""
                inputs = []
                for _ in range(16):
                    seq += 1
                    inputs.append([seq, 100, -50, 0])
                msg = msgpack.packb([INPUT, inputs[-3:]])
                for i in range(15):
                    msg += msgpack.packb([INPUT, inputs[i:i + 1]])
                msg += msgpack.packb([PING, int(time.time() * 1e6)])
                await ws.send(msg)
                await asyncio.sleep(0)  # let the reader run
        except websockets.ConnectionClosed:
            pass

    rx = asyncio.ensure_future(receive())
    tx = asyncio.ensure_future(send())
    try:
        await asyncio.wait_for(rx, GIVE_UP_S)
    except asyncio.TimeoutError:
        print("still open at the give-up bound", flush=True)
        return 2
    tx.cancel()
    last = state["last"]
    print("closed", ERRNAMES.get(last, last) if last else "none",
          flush=True)
    return 0 if state["ratelimit"] and last == 9 else 1


async def hello(url, room, name, src):
    try:
        return await asyncio.wait_for(hello1(url, room, name, src), 5.0)
    except (asyncio.TimeoutError, OSError):
        print("timeout", flush=True)
        return 1


async def hello1(url, room, name, src):
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  local_addr=(src, 0), ping_interval=None)
    await ws.send(msgpack.packb([HELLO, 2, name, None, room]))
    try:
        for _ in range(100):
            for x in messages(await ws.recv()):
                if x[0] == WELCOME:
                    print("welcome", flush=True)
                    await ws.close()
                    return 0
                if x[0] == ERROR:
                    print("error", ERRNAMES.get(x[1], x[1]), flush=True)
                    return 0
    except websockets.ConnectionClosed:
        print("closed", flush=True)
    return 1


def idle(host, port, n, mode, naddr, rate):
    addrs = ["127.1.%d.%d" % (i // 250, i % 250 + 1) for i in range(naddr)]
    req = ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: "
           "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: gs.v2\r\n\r\n" % (host, port)).encode()
    sel = selectors.DefaultSelector()
    conns = {}              # socket -> connected
    stats = {"opened": 0, "closed": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    told = False
    nxt = 0
    budget, last = 0.0, time.monotonic()

    def drop(s):
        sel.unregister(s)
        del conns[s]
        s.close()
        stats["closed"] += 1
        if stats["closed"] % 1000 == 0:
            print("closed", stats["closed"], flush=True)

    while not stop:
        now = time.monotonic()
        budget = min(rate / 10.0, budget + (now - last) * rate)
        last = now
        while len(conns) < n and budget >= 1:
            budget -= 1
            s = socket.socket()
            s.setblocking(False)
            try:
                s.bind((addrs[nxt % len(addrs)], 0))
            except OSError:
                s.close()
                break
            nxt += 1
            e = s.connect_ex((host, port))
            if e not in (0, errno.EINPROGRESS):
                s.close()
                continue
            conns[s] = False
            sel.register(s, selectors.EVENT_WRITE)
        for key, ev in sel.select(0.05):
            s = key.fileobj
            if not conns[s]:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(s)
                    continue
                conns[s] = True
                stats["opened"] += 1
                if mode == "ws":
                    try:
                        s.send(req)
                    except OSError:
                        drop(s)
                        continue
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
                # The end, or a close frame (FIN, opcode 8, code).
                if not data or (mode == "ws" and b"\x88\x02" in data):
                    drop(s)
            except OSError:
                drop(s)
        if not told and sum(conns.values()) >= n:
            told = True
            print("open", n, flush=True)
    print("opened %d closed %d" % (stats["opened"], stats["closed"]),
          flush=True)
    return 0


def main(a):
    if len(a) == 4 and a[0] == "flood":
        return asyncio.run(flood(a[1], a[2], a[3]))
    if len(a) == 5 and a[0] == "hello":
        return asyncio.run(hello(a[1], a[2], a[3], a[4]))
    if len(a) in (6, 7) and a[0] == "idle" and a[4] in ("tcp", "ws"):
        return idle(a[1], int(a[2]), int(a[3]), a[4], int(a[5]),
                    float(a[6]) if len(a) == 7 else 2000.0)
    print(__doc__, file=sys.stderr)
    return 100


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
