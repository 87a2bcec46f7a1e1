#!/usr/bin/env python3
"""Load for scripts/bench/access.sh, against one IMAP/POP3 server.

  access_load.py imap PORT USER PASS CLIENTS SECONDS   -> "ops=N secs=S ops_per_sec=R"
      each client repeats LOGIN, SELECT INBOX, FETCH 20 (FLAGS ENVELOPE RFC822.SIZE), UID FETCH one
      BODY.PEEK[], SEARCH SUBJECT, STORE +FLAGS/-FLAGS, LOGOUT; every command is one op.
  access_load.py pop3 PORT USER PASS CLIENTS SECONDS   -> "messages=N bytes=B msgs_per_sec=R"
      each client repeats USER/PASS, RETR of every message, QUIT.
  access_load.py idle PORT USER PASS COUNT PIDFILE      -> "idle=N pss_kib=K per_conn_kib=P"
      opens COUNT connections that LOGIN, SELECT INBOX and IDLE, then sums the proportional set size
      (Pss) of the server's process tree (from PIDFILE) and reports it per connection, over a baseline
      taken before the connections.
"""
import imaplib
import multiprocessing
import os
import poplib
import random
import socket
import sys
import time


def imap_worker(port, user, password, seconds, seed, out):
    random.seed(seed)
    ops = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        c = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        c.login(user, password)
        typ, data = c.select("INBOX")
        count = int(data[0])
        start = random.randint(1, max(1, count - 20))
        c.fetch(f"{start}:{start + 19}", "(FLAGS ENVELOPE RFC822.SIZE)")
        c.uid("FETCH", str(random.randint(1, count)), "(BODY.PEEK[])")
        c.search(None, f'SUBJECT "message {random.randint(1, count)}"')
        n = random.randint(1, count)
        c.store(str(n), "+FLAGS", "(\\Flagged)")
        c.store(str(n), "-FLAGS", "(\\Flagged)")
        c.logout()
        ops += 8
    out.put(ops)


def pop3_worker(port, user, password, seconds, seed, out):
    messages = size = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        p = poplib.POP3("127.0.0.1", port, timeout=30)
        p.user(user)
        p.pass_(password)
        count = p.stat()[0]
        for i in range(1, count + 1):
            _, lines, octets = p.retr(i)
            messages += 1
            size += octets
            if time.time() >= deadline:
                break
        p.quit()
    out.put((messages, size))


def run_clients(target, port, user, password, clients, seconds):
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=target, args=(port, user, password, seconds, i, out)) for i in range(clients)]
    start = time.time()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return results, time.time() - start


def tree(pid):
    """pid and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def idle(port, user, password, count, pidfile):
    with open(pidfile) as f:
        master = int(f.read().strip())
    baseline = pss_kib(tree(master))
    conns = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        f = s.makefile("rb")
        f.readline()
        s.sendall(f"a LOGIN {user} {password}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        while not f.readline().startswith(b"+"):
            pass
        conns.append((s, f))
    time.sleep(3)
    loaded = pss_kib(tree(master))
    processes = len(tree(master))
    for s, f in conns:
        s.close()
    per = (loaded - baseline) / count
    print(f"idle={count} processes={processes} pss_kib={loaded} baseline_kib={baseline} per_conn_kib={per:.1f}")


def main():
    mode, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if mode == "idle":
        idle(port, user, password, int(sys.argv[5]), sys.argv[6])
        return
    clients, seconds = int(sys.argv[5]), float(sys.argv[6])
    if mode == "imap":
        results, elapsed = run_clients(imap_worker, port, user, password, clients, seconds)
        ops = sum(results)
        print(f"ops={ops} secs={elapsed:.1f} ops_per_sec={ops / elapsed:.1f}")
    else:
        results, elapsed = run_clients(pop3_worker, port, user, password, clients, seconds)
        messages = sum(r[0] for r in results)
        size = sum(r[1] for r in results)
        print(f"messages={messages} bytes={size} secs={elapsed:.1f} msgs_per_sec={messages / elapsed:.1f}")


if __name__ == "__main__":
    main()
