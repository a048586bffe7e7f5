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

With $PLAYER_TOKEN set, hello carries it as the access token (and the
server names the player after it).  The stick is always (100, -50); the buttons are $PLAYER_BUTTONS (default
0).  With PLAYER_ARENA=1 the player also checks that it moves as the
arena game of gs-sim(8) says: between two snapshots whose acks show its
input applied, its own entity (id: its player id) moves by the ticks
between them times 150 units/s * (100, -50) / 127, within a position
step of the game (rounding), unless a wall stopped it.  A reload that lost the
player's position or velocity fails this.

The bounds only keep a broken run from hanging; nothing is timed.
"""
import asyncio
import os
import signal
import sys

import msgpack
import websockets

HELLO, WELCOME, INPUT, SNAPSHOT, ERROR, ACK, GAME = 1, 2, 3, 4, 8, 11, 12
REPEAT = 3              # inputs per message: the new one and 2 before it
GIVE_UP_S = 30.0
STICK = (100, -50)
BUTTONS = int(os.environ.get("PLAYER_BUTTONS", "0"))
TOKEN = os.environ.get("PLAYER_TOKEN") or None
ARENA = os.environ.get("PLAYER_ARENA") == "1"
ARENA_SIZE, ARENA_SPEED = 2000, 150.0


def arena_step(tick_rate):
    """The arena's move per tick for STICK, in units (x, y)."""
    return tuple(a / 127.0 * ARENA_SPEED / tick_rate for a in STICK)


def uv(b, i):
    """An unsigned LEB128 varint at b[i]: (value, next index)."""
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def sv(b, i):
    u, i = uv(b, i)
    return (u >> 1) ^ -(u & 1), i


def apply(game, base, body):
    """A snapshot body (gs-protocol(7)) applied to base, a dict of
    id -> [type, qx, qy, [fields]] (None: from nothing)."""
    out = dict(base) if base is not None else {}
    i = 0
    n, i = uv(body, i)
    eid = 0
    for _ in range(n):
        g, i = uv(body, i)
        eid += g
        del out[eid]
    n, i = uv(body, i)
    eid = 0
    for _ in range(n):
        g, i = uv(body, i)
        eid += g
        mask, i = uv(body, i)
        if mask & 2:
            t, i = uv(body, i)
            cx, i = uv(body, i)
            cy, i = uv(body, i)
            ox = body[i] | body[i + 1] << 8
            oy = body[i + 2] | body[i + 3] << 8
            i += 4
            fields = []
            for _name, lo, _hi in game["types"][t - 1][1]:
                v, i = uv(body, i)
                fields.append(lo + v)
            out[eid] = [t, cx * 65536 + ox, cy * 65536 + oy, fields]
            continue
        e = [out[eid][0], out[eid][1], out[eid][2], list(out[eid][3])]
        if mask & 1:
            d, i = sv(body, i)
            e[1] += d
            d, i = sv(body, i)
            e[2] += d
        for f in range(len(e[3])):
            if mask & (4 << f):
                d, i = sv(body, i)
                e[3][f] += d
        out[eid] = e
    if i != len(body):
        raise ValueError("%d bytes left in a snapshot body" % (len(body) - i))
    return out


def arena_check(state, tick, ack, ents):
    """The own entity moved as the arena's rules say (see above)."""
    me = ents.get(state["player"])
    if me is None or me[0] != 1:
        state["bad"] = "snapshot at tick %d without my entity" % tick
        return
    cell = state["game"]["cell"]
    x, y = me[1] * cell / 65536, me[2] * cell / 65536
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
        if abs(got - want) > cell / 65536 + 0.01:  # a step of rounding
            state["bad"] = "moved (%.2f, %.2f) in %d ticks to tick %d, " \
                "want (%.2f, %.2f)" % (x - last[2], y - last[3], n, tick,
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
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 2, name, TOKEN, room]))
    state = {"sent": 0, "ack": 0, "snapshots": 0, "error": None,
             "bad": None, "moves": 0, "game": None, "snaps": {},
             "acked": None}
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
                    elif m[0] == GAME:
                        state["game"] = {"cell": m[5], "types": m[7],
                                         "inputs": m[8]}
                    elif m[0] == SNAPSHOT:
                        tick, age, ack, body = m[1], m[2], m[3], m[4]
                        base = None
                        if age != 0:
                            base = state["snaps"].get(tick - age)
                            if base is None:
                                state["bad"] = "snapshot at tick %d on " \
                                    "a baseline not kept" % tick
                                break
                        try:
                            ents = apply(state["game"], base, body)
                        except (KeyError, IndexError, ValueError) as e:
                            state["bad"] = "snapshot at tick %d does not " \
                                "decode: %r" % (tick, e)
                            break
                        state["snaps"][tick] = ents
                        for old in [t for t in state["snaps"]
                                    if t <= tick - 32]:
                            del state["snaps"][old]
                        state["acked"] = tick
                        state["snapshots"] += 1
                        if ack < state["ack"]:
                            state["bad"] = "ack went back from %d to %d" % (
                                state["ack"], ack)
                        elif ack > state["sent"]:
                            state["bad"] = "ack %d of an input not sent " \
                                "(sent up to %d)" % (ack, state["sent"])
                        state["ack"] = ack
                        if ARENA and state["bad"] is None:
                            arena_check(state, tick, ack, ents)
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
        while state["game"] is None:
            await asyncio.sleep(0.01)
        period = 1.0 / state["rate"]
        seq = 0
        while True:
            if n is None or seq < n:
                seq += 1
            first = max(1, seq - REPEAT + 1)
            # One value per input field of the game, in order.
            values = ([STICK[0], STICK[1], BUTTONS] +
                      [0] * 8)[:len(state["game"]["inputs"])]
            inputs = [[s] + values for s in range(first, seq + 1)]
            state["sent"] = seq
            msg = msgpack.packb([INPUT, inputs])
            if state["acked"] is not None:
                msg += msgpack.packb([ACK, state["acked"]])
            try:
                await ws.send(msg)
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
