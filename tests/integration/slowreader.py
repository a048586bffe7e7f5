"""A client that stops reading, for the lane rules of gs-protocol(7).

usage: slowreader.py HOST PORT ROOM READY_FILE GO_FILE

Opens a WebSocket by hand on a socket with a tiny receive buffer, says
hello (development mode) and then reads nothing: the gateway's socket
fills, then its queue for this client.  It writes READY_FILE once its
hello is sent, waits until GO_FILE exists, then reads everything the
gateway sent and prints one line per message kind seen, with the
error code if one came ("error 8" is slow).  Exits 0 when the stream
it read was well formed.
"""
import os
import socket
import struct
import sys
import time

import msgpack

HELLO, ERROR, BYE = 1, 8, 10


def frame(payload):
    """One masked binary WebSocket frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x82, 0x80 | n)
    else:
        head = struct.pack("!BBH", 0x82, 0x80 | 126, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def main(host, port, room, ready, go):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect((host, int(port)))
    s.sendall(("GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: "
               "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: gs.v2\r\n\r\n" % (host, port))
              .encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(s, 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        print("no upgrade:", head.split(b"\r\n")[0])
        return 1
    s.sendall(frame(msgpack.packb([HELLO, 2, "slow", None, room])))
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.05)
    # Read what was sent, until the server closes or goes quiet.
    s.settimeout(3.0)
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    seen = {}
    code = None
    try:
        while True:
            b0, b1 = read_exact(s, 2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", read_exact(s, 2))[0]
            elif n == 127:
                n = struct.unpack("!Q", read_exact(s, 8))[0]
            data = read_exact(s, n)
            if b0 & 0x0F == 8:		# close
                break
            u.feed(data)
            for m in u:
                seen[m[0]] = seen.get(m[0], 0) + 1
                if m[0] == ERROR:
                    code = m[1]
    except (EOFError, socket.timeout, ConnectionError):
        pass
    for k in sorted(seen):
        print("kind %d %d" % (k, seen[k]))
    if code is not None:
        print("error %d" % code)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
