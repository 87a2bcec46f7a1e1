#!/usr/bin/env python3
"""Helper for the scripts in scripts/bench: time one smtp-source run until COUNT messages have arrived.

usage: measure.py WHERE COUNT TIMEOUT -- smtp-source ARGS...

WHERE says how arrivals are counted:
    DIRECTORY     files in it (a Maildir's new/; smtp-delivery.sh)
    sink:FILE     the output of `smtp-sink -c` ("... mesg=N\\r" per message), counted from the value it
                  has at the start (outbound-relay.sh; one sink serves all measurements)

Starts the clock, runs the client, polls WHERE until COUNT messages have arrived (or TIMEOUT seconds
have passed since the start), stops the clock. Prints one line:
    elapsed=<s> delivered=<n> client_elapsed=<s> client_rc=<rc> timeout=<0|1>
client_elapsed is when smtp-source exited (every message accepted with 250, i.e. queued).
"""
import os
import re
import subprocess
import sys
import time

POLL = 0.02
SINK_COUNTER = re.compile(rb"mesg=(\d+)")


def count_files(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def sink_messages(path):
    """The last `mesg=N` counter smtp-sink wrote (it only grows; the tail holds the newest)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 256))
            found = SINK_COUNTER.findall(f.read())
    except FileNotFoundError:
        return 0
    return int(found[-1]) if found else 0


def counter(where):
    if where.startswith("sink:"):
        path = where[len("sink:"):]
        base = sink_messages(path)
        return lambda: sink_messages(path) - base
    return lambda: count_files(where)


def main():
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") != 3:
        sys.exit(__doc__)
    where, want, timeout = argv[0], int(argv[1]), float(argv[2])
    cmd = argv[4:]
    arrived = counter(where)
    start = time.monotonic()
    deadline = start + timeout
    client = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    client_elapsed = None
    client_rc = None
    delivered = 0
    timed_out = False
    while True:
        if client_rc is None:
            rc = client.poll()
            if rc is not None:
                client_rc, client_elapsed = rc, time.monotonic() - start
        delivered = arrived()
        now = time.monotonic()
        if delivered >= want and client_rc is not None:
            break
        if now >= deadline:
            timed_out = True
            break
        time.sleep(POLL)
    elapsed = time.monotonic() - start
    if client_rc is None:  # our own child, by pid
        client.kill()
        client.wait(timeout=10)
        client_rc, client_elapsed = "killed", elapsed
    print(f"elapsed={elapsed:.3f} delivered={delivered} client_elapsed={client_elapsed:.3f} "
          f"client_rc={client_rc} timeout={int(timed_out)}")


if __name__ == "__main__":
    main()
