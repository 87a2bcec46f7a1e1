"""Measurements for scripts/bench/imap-large.sh against one IMAP server (one client, one run each):

  imap_large.py PORT USER PASS
    -> lines "NAME seconds=S result=..." for: SELECT, SEARCH TEXT/BODY of a rare and of a common word (three
       times each: the first may build caches or indexes), SORT and THREAD when the server advertises them,
       and the bytes on the wire of FETCH 1:1000 BODY.PEEK[] with and without COMPRESS=DEFLATE.
"""
import socket
import sys
import time
import zlib


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.buf = bytearray()
        self.received = 0
        self.inflate = None
        self.deflate = None
        self.n = 0
        self.line()

    def recv(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("server closed the connection")
        self.received += len(data)
        self.buf += self.inflate.decompress(data) if self.inflate else data

    def line(self):
        # Looks only at what arrived since the last look: splitting a multi-megabyte buffer for every line made
        # a fast server's FETCH look slow.
        start = 0
        while (end := self.buf.find(b"\r\n", start)) < 0:
            start = max(0, len(self.buf) - 1)
            self.recv()
        line = self.buf[:end]
        del self.buf[:end + 2]
        return bytes(line)

    def send(self, text):
        data = text.encode() + b"\r\n"
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def cmd(self, text):
        """Runs a command; returns (seconds, untagged lines, tagged line). Literals are read whole."""
        self.n += 1
        tag = f"t{self.n}"
        start = time.monotonic()
        self.send(f"{tag} {text}")
        untagged = []
        while True:
            line = self.line()
            while line.endswith(b"}") and b"{" in line:
                size = int(line[line.rindex(b"{") + 1:-1])
                while len(self.buf) < size:
                    self.recv()
                line += b"\r\n" + bytes(self.buf[:size])
                del self.buf[:size]
                line += self.line()
            if line.startswith(tag.encode() + b" "):
                return time.monotonic() - start, untagged, line
            untagged.append(line)


def count(untagged, prefix):
    for line in untagged:
        if line.startswith(prefix):
            return len(line.split()) - 2
    return 0


def main():
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Client(port)
    _, _, login = c.cmd(f"LOGIN {user} {password}")
    capabilities = login.decode().split("[CAPABILITY ", 1)[1].split("]")[0].split()
    seconds, untagged, _ = c.cmd("SELECT INBOX")
    exists = next(int(l.split()[1]) for l in untagged if l.endswith(b" EXISTS"))
    print(f"select seconds={seconds:.3f} result={exists}")
    for key in ("TEXT quokka", "BODY quokka", "TEXT invoice"):
        for attempt in (1, 2, 3):
            seconds, untagged, _ = c.cmd(f"SEARCH {key}")
            print(f"search_{key.replace(' ', '_').lower()}_{attempt} seconds={seconds:.3f} result={count(untagged, b'* SEARCH')}")
    if "SORT" in capabilities:
        for criteria in ("DATE", "SUBJECT", "FROM", "REVERSE ARRIVAL"):
            seconds, untagged, tagged = c.cmd(f"SORT ({criteria}) UTF-8 ALL")
            print(f"sort_{criteria.replace(' ', '_').lower()} seconds={seconds:.3f} result={count(untagged, b'* SORT')}")
    else:
        print("sort seconds=n/a result=not-advertised")
    for algorithm in ("REFERENCES", "ORDEREDSUBJECT", "REFS"):
        if f"THREAD={algorithm}" in capabilities:
            seconds, untagged, tagged = c.cmd(f"THREAD {algorithm} UTF-8 ALL")
            threads = untagged[0].count(b")(") + 1 if untagged else 0
            print(f"thread_{algorithm.lower()} seconds={seconds:.3f} result={threads}")
        else:
            print(f"thread_{algorithm.lower()} seconds=n/a result=not-advertised")
    fetch = f"FETCH 1:{min(exists, 1000)} BODY.PEEK[]"
    before = c.received
    seconds, _, _ = c.cmd(fetch)
    plain = c.received - before
    print(f"fetch_plain seconds={seconds:.3f} result={plain}")
    if "COMPRESS=DEFLATE" in capabilities:
        _, _, tagged = c.cmd("COMPRESS DEFLATE")
        c.inflate = zlib.decompressobj(-15)
        c.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        before = c.received
        seconds, _, _ = c.cmd(fetch)
        compressed = c.received - before
        print(f"fetch_compressed seconds={seconds:.3f} result={compressed} saving={100 * (1 - compressed / plain):.1f}%")
    else:
        print("fetch_compressed seconds=n/a result=not-advertised")
    c.cmd("LOGOUT")


if __name__ == "__main__":
    main()
