"""A spectator that stays: for tests/integration/ghost.sh.

usage: spectator.py URL ROOM [mute]

Joins ROOM as a spectator (gs-protocol(7) "watch") and acknowledges
every snapshot, as a client must, until the server ends its stay; with
"mute" it sends nothing after hello.
Prints "watching" once welcomed, and "error CODE TEXT" or "closed" at
the end; exits 0 then, 1 on anything else.
"""
import asyncio
import sys

import msgpack
import websockets

HELLO, WELCOME, SNAPSHOT, ERROR, ACK = 1, 2, 4, 8, 11


async def watch(url, room, mute):
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 2, "spec", None, room, True]))
    try:
        async for data in ws:
            up = msgpack.Unpacker(raw=False)
            up.feed(data)
            for m in up:
                if m[0] == WELCOME:
                    print("watching", flush=True)
                elif m[0] == SNAPSHOT and not mute:
                    await ws.send(msgpack.packb([ACK, m[1]]))
                elif m[0] == ERROR:
                    print("error", m[1], m[2], flush=True)
    except websockets.ConnectionClosed:
        pass
    print("closed", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["mute"]):
        sys.stderr.write(__doc__)
        sys.exit(100)
    sys.exit(asyncio.run(watch(sys.argv[1], sys.argv[2],
                               sys.argv[3:] == ["mute"])))
