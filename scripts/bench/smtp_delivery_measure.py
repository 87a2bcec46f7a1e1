#!/usr/bin/env python3
"""Helper for smtp-delivery.sh: time one smtp-source run until COUNT messages are in a Maildir.

usage: smtp_delivery_measure.py MAILDIR_NEW COUNT TIMEOUT -- smtp-source ARGS...

Starts the clock, runs the client, polls MAILDIR_NEW until it holds COUNT files (or TIMEOUT seconds
have passed since the start), stops the clock. Prints one line:
    elapsed=<s> delivered=<n> client_elapsed=<s> client_rc=<rc> timeout=<0|1>
client_elapsed is when smtp-source exited (every message accepted with 250, i.e. queued).
"""
import os
import subprocess
import sys
import time

POLL = 0.02


def count(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def main():
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") != 3:
        sys.exit(__doc__)
    maildir_new, want, timeout = argv[0], int(argv[1]), float(argv[2])
    cmd = argv[4:]
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
        delivered = count(maildir_new)
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
