"""Ctrl-C in a terminal, for make run.

usage: ctrlc.py LOG READY CMD [ARG...]

Runs CMD on a new pseudo-terminal as its session's foreground job,
as a user's shell would; once its output shows a line containing READY,
types Ctrl-C (the terminal then sends SIGINT to its foreground process
group) and reads the output to the end.  The output goes to LOG, with
the terminal's carriage returns taken out.  Exits with CMD's exit
status (128 + N when a signal N ended it), or 124 when READY never
came or CMD did not end (the bounds only keep a broken run from
hanging; nothing is timed).
"""
import os
import pty
import select
import sys
import time


def main(log, ready, argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b""
    state = "starting"

    def pump(until, stop):
        nonlocal out
        while time.monotonic() < until and not stop():
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                d = os.read(fd, 65536)
            except OSError:		# EIO: every writer closed the pty
                return False
            if not d:
                return False
            out += d
        return True

    if pump(time.monotonic() + 120, lambda: ready.encode() in out):
        if ready.encode() in out:
            os.write(fd, b"\x03")
            state = "interrupted"
            pump(time.monotonic() + 60, lambda: False)
    code = None
    for _ in range(600):
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            code = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.1)
    with open(log, "wb") as f:
        f.write(out.replace(b"\r", b""))
    if code is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("did not end (%s)" % state)
        return 124
    if state != "interrupted":
        print("never ready")
        return 124
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
