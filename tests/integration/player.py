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
bound.  SIGINT ends a "stay" player that is still playing: it says
"stopped after M moves checked" and exits 0, or 1 if a check failed.

The stick is always (100, -50); the buttons are $PLAYER_BUTTONS (default
0).  With PLAYER_ARENA=1 the player also checks that it moves as the
arena game of gs-sim(8) says: between two snapshots whose acks show its
input applied, its own entity (id: its player id) moves by the ticks
between them times 150 units/s * (100, -50) / 127, within the rounding
of whole units, unless a wall stopped it.  A reload that lost the
player's position or velocity fails this.

The bounds only keep a broken run from hanging; nothing is timed.
"""
import asyncio
import os
import signal
import sys

import msgpack
import websockets

HELLO, WELCOME, INPUT, SNAPSHOT, ERROR = 1, 2, 3, 4, 8
REPEAT = 3              # inputs per message: the new one and 2 before it
GIVE_UP_S = 30.0
STICK = (100, -50)
BUTTONS = int(os.environ.get("PLAYER_BUTTONS", "0"))
ARENA = os.environ.get("PLAYER_ARENA") == "1"
ARENA_SIZE, ARENA_SPEED = 2000, 150.0


def arena_step(tick_rate):
    """The arena's move per tick for STICK, in units (x, y)."""
    return tuple(a / 127.0 * ARENA_SPEED / tick_rate for a in STICK)


def arena_check(state, m):
    """The own entity moved as the arena's rules say (see above)."""
    tick, ack, ents = m[1], m[2], m[4]
    me = [e for e in ents if e[0] == state["player"] and e[1] == 1]
    if len(me) != 1:
        state["bad"] = "snapshot at tick %d without my entity" % tick
        return
    x, y = me[0][2], me[0][3]
    last = state.get("last")
    state["last"] = (tick, ack, x, y)
    if last is None or last[1] == 0 or ack == 0:
        return
    if x in (0, ARENA_SIZE) or y in (0, ARENA_SIZE) or \
            last[2] in (0, ARENA_SIZE) or last[3] in (0, ARENA_SIZE):
        return          # a wall
    step = arena_step(state["tick_rate"])
    n = tick - last[0]
    for got, want in ((x - last[2], n * step[0]), (y - last[3], n * step[1])):
        if abs(got - want) > 1.0:
            state["bad"] = "moved (%d, %d) in %d ticks to tick %d, " \
                "want (%.1f, %.1f)" % (x - last[2], y - last[3], n, tick,
                                       n * step[0], n * step[1])
            return
    state["moves"] += 1


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
             "bad": None, "moves": 0}
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
                        state["player"] = m[2]
                        state["rate"] = state["tick_rate"] = m[4]
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
                        if ARENA and state["bad"] is None:
                            arena_check(state, m)
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
            inputs = [[s, STICK[0], STICK[1], BUTTONS]
                      for s in range(first, seq + 1)]
            state["sent"] = seq
            try:
                await ws.send(msgpack.packb([INPUT, inputs]))
            except websockets.ConnectionClosed:
                return
            await asyncio.sleep(period)

    if n is None:
        def stop():
            state["stopped"] = True
            done.set()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop)
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
            if ARENA:
                say(state["moves"], "moves checked")
            return 0
        say("FAIL last ack %d, want %d, after %d snapshots%s" % (
            state["ack"], n, state["snapshots"],
            "" if state["error"] is None else ", error %d" % state["error"]))
        return 2 if timed_out else 1
    if state.get("stopped") and state["error"] is None:
        say("stopped after", state["moves"], "moves checked")
        return 0
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
