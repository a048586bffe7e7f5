"""A playing client for gs-gateway, written from gs-protocol(7) alone.

usage: player.py URL ROOM NAME N
       player.py URL ROOM NAME stay

Joins ROOM as NAME (dev mode: nil token), then sends one input message
per tick at the tick rate from welcome, each carrying the new input
and repeating the last ones before it, as gs-protocol(7) asks.

With N: sends inputs 1..N, then keeps resending the last message once
a tick until a snapshot acknowledges N.  Every ack must be at least the
one before it and at most the highest seq sent.  Prints "acked N" and
exits 0; exits 1 when a check failed or the connection ended, 2 when
N was not acknowledged within the give-up bound.

With "stay": plays until the server ends the connection.  Prints
"playing" once a snapshot acknowledges an input, then "error CODE"
for an error message, or "closed" for a close without one.  Exits 0
after an error message, 1 after a close without one, 2 at the give-up
bound.

The bounds only keep a broken run from hanging; nothing is timed.
"""
import asyncio
import sys

import msgpack
import websockets

HELLO, WELCOME, INPUT, SNAPSHOT, ERROR = 1, 2, 3, 4, 8
REPEAT = 3              # inputs per message: the new one and 2 before it
GIVE_UP_S = 30.0


def say(*words):
    print(*words, flush=True)


def messages(data):
    """All protocol messages in one WebSocket message."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(data)
    return list(u)


async def play(url, room, name, n):
    ws = await websockets.connect(url, subprotocols=["gs.v1"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 1, name, None, room]))
    state = {"sent": 0, "ack": 0, "snapshots": 0, "error": None,
             "bad": None}
    welcomed = asyncio.Event()
    done = asyncio.Event()

    async def receive():
        playing = False
        try:
            async for data in ws:
                if not isinstance(data, bytes):
                    state["bad"] = "a text message from the server"
                    break
                for m in messages(data):
                    if m[0] == WELCOME:
                        state["rate"] = m[4]
                        welcomed.set()
                    elif m[0] == SNAPSHOT:
                        ack = m[2]
                        state["snapshots"] += 1
                        if ack < state["ack"]:
                            state["bad"] = "ack went back from %d to %d" % (
                                state["ack"], ack)
                        elif ack > state["sent"]:
                            state["bad"] = "ack %d of an input not sent " \
                                "(sent up to %d)" % (ack, state["sent"])
                        state["ack"] = ack
                        if ack > 0 and not playing:
                            playing = True
                            say("playing")
                        if n is not None and ack == n:
                            done.set()
                    elif m[0] == ERROR:
                        state["error"] = m[1]
                        say("error", m[1], m[2])
                    if state["bad"] is not None:
                        break
                if state["bad"] is not None:
                    break
        except websockets.ConnectionClosed:
            pass
        done.set()

    async def send():
        await welcomed.wait()
        period = 1.0 / state["rate"]
        seq = 0
        while True:
            if n is None or seq < n:
                seq += 1
            first = max(1, seq - REPEAT + 1)
            inputs = [[s, 100, -50, 0] for s in range(first, seq + 1)]
            state["sent"] = seq
            try:
                await ws.send(msgpack.packb([INPUT, inputs]))
            except websockets.ConnectionClosed:
                return
            await asyncio.sleep(period)

    rx = asyncio.create_task(receive())
    tx = asyncio.create_task(send())
    try:
        await asyncio.wait_for(done.wait(), GIVE_UP_S)
        timed_out = False
    except asyncio.TimeoutError:
        timed_out = True
    tx.cancel()
    await ws.close()
    rx.cancel()
    await asyncio.gather(rx, tx, return_exceptions=True)

    if state["bad"] is not None:
        say("FAIL", state["bad"])
        return 1
    if n is not None:
        if state["ack"] == n:
            say("acked", n, "in", state["snapshots"], "snapshots")
            return 0
        say("FAIL last ack %d, want %d, after %d snapshots%s" % (
            state["ack"], n, state["snapshots"],
            "" if state["error"] is None else ", error %d" % state["error"]))
        return 2 if timed_out else 1
    if timed_out:
        say("FAIL still connected after %.0f s" % GIVE_UP_S)
        return 2
    if state["error"] is None:
        say("closed")
        return 1
    return 0


def main(argv):
    if len(argv) != 5:
        sys.stderr.write("usage: player.py URL ROOM NAME N|stay\n")
        return 100
    n = None if argv[4] == "stay" else int(argv[4])
    return asyncio.run(play(argv[1], argv[2], argv[3], n))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
