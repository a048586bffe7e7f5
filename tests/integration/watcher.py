"""A spectator for tests/integration/watch.sh (gs-protocol(7) "watch").

usage: watcher.py URL ROOM PLAYER X Y FAR_X FAR_Y RADIUS

Joins ROOM as a spectator, looks at (X, Y), and waits for the entity of
player id PLAYER to be in its view; then looks at (FAR_X, FAR_Y) and
waits for it to be removed.  Every entity of every snapshot must lie
within RADIUS (plus a quantum) of the point looked at when the snapshot
was built, which is the newer look once a snapshot shows the change,
and the centre of the world before the first look takes effect.
It also sends one input, which the server must ignore (its snapshots'
ack stays 0).  Prints what it saw; exits 0 when every check held, 1
otherwise, 2 at the give-up bound (nothing is timed).
"""
import asyncio
import math
import os
import sys

import msgpack
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from player import apply, messages  # noqa: E402

HELLO, WELCOME, INPUT, SNAPSHOT, ERROR, ACK, GAME, LOOK = \
    1, 2, 3, 4, 8, 11, 12, 13
GIVE_UP_S = 30.0


async def watch(url, room, player, near, far, radius):
    ws = await websockets.connect(url, subprotocols=["gs.v2"],
                                  max_size=1 << 20)
    await ws.send(msgpack.packb([HELLO, 2, "eve", None, room, True]))
    st = {"game": None, "snaps": {}, "phase": "near", "bad": None,
          "seen": 0, "removed": False}

    async def run():
        async for data in ws:
            for m in messages(data):
                if m[0] == GAME:
                    st["game"] = m
                    await ws.send(msgpack.packb([LOOK, near[0], near[1]]) +
                                  msgpack.packb([INPUT, [[1, 5, 5, 0]]]))
                elif m[0] == ERROR:
                    st["bad"] = "error %r" % (m[1:],)
                    return
                elif m[0] == SNAPSHOT:
                    tick, age, ack, body = m[1:5]
                    base = st["snaps"].get(tick - age, {}) if age else {}
                    if age and tick - age not in st["snaps"]:
                        st["bad"] = "no baseline for tick %d" % tick
                        return
                    ents = apply({"types": st["game"][7]}, base, body)
                    st["snaps"][tick] = ents
                    await ws.send(msgpack.packb([ACK, tick]))
                    if ack != 0:
                        st["bad"] = "a spectator's input was taken"
                        return
                    cell = st["game"][5]
                    where = near if st["phase"] == "near" else far
                    other = far if st["phase"] == "near" else near
                    if st["phase"] == "near" and st["seen"] == 0:
                        # Until its first look takes effect a spectator
                        # looks at the centre of the world (gs-protocol(7)).
                        other = (st["game"][3] / 2, st["game"][4] / 2)
                    for e in ents.values():
                        x, y = e[1] * cell / 65536, e[2] * cell / 65536
                        d = math.hypot(x - where[0], y - where[1])
                        d2 = math.hypot(x - other[0], y - other[1])
                        if d > radius + 0.01 and d2 > radius + 0.01:
                            st["bad"] = "entity at (%.1f, %.1f), %.1f " \
                                "from the look" % (x, y, d)
                            return
                    if st["phase"] == "near" and player in ents:
                        st["seen"] += 1
                        if st["seen"] == 3:
                            st["phase"] = "far"
                            print("saw player", player, "near", near)
                            await ws.send(msgpack.packb([LOOK, far[0],
                                                         far[1]]))
                    elif st["phase"] == "far" and player not in ents:
                        print("player", player, "removed looking at", far)
                        st["removed"] = True
                        return

    try:
        await asyncio.wait_for(run(), GIVE_UP_S)
    except asyncio.TimeoutError:
        print("FAIL gave up: phase %s, seen %d" % (st["phase"], st["seen"]))
        return 2
    await ws.close()
    if st["bad"] is not None:
        print("FAIL", st["bad"])
        return 1
    return 0 if st["removed"] else 1


def main(argv):
    if len(argv) != 9:
        sys.stderr.write(__doc__)
        return 100
    f = [float(a) for a in argv[4:9]]
    return asyncio.run(watch(argv[1], argv[2], int(argv[3]),
                             (f[0], f[1]), (f[2], f[3]), f[4]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
