"""Replays one list of policy requests against two policy servers (Debian's postgrey and `tern postgrey`),
with postgrey's `policy_test_time` attribute so that both see the same clock, and prints the replies that
differ. The X-Greylist header's host and date are masked. Usage: postgrey_diff.py PORT_A PORT_B"""
import re
import socket
import sys

T = 1_900_000_000
BASE = dict(request="smtpd_access_policy", client_address="198.51.100.7", client_name="unknown",
            sender="a@b.example", recipient="r@d.example", instance="x", etrn_domain="")


def requests():
    cases = []

    def c(offset, **changes):
        attributes = dict(BASE)
        attributes.update(changes)
        attributes["policy_test_time"] = str(T + offset)
        cases.append({k: v for k, v in attributes.items() if v is not None})

    c(0); c(10, instance="y"); c(301, instance="z"); c(302, instance="z"); c(303, instance="w")
    # Sender normalisation: VERP numbers, BATV, +extension and the null sender.
    c(400, sender="bounce-123-456@list.example", instance="v1")
    c(800, sender="bounce-999-1@list.example", instance="v2")
    c(900, sender="prvs=0123456789=joe@ex.example", instance="p1")
    c(1300, sender="prvs=9876543210=joe@ex.example", instance="p2")
    c(1400, sender="joe+ext@ex.example", instance="p3")
    c(1500, sender="", instance="e1"); c(1900, sender="", instance="e2")
    c(2000, client_address="198.51.100.99", instance="s1")  # same /24
    # Debian's whitelists.
    for name in ["mail7.telekom.de", "smtp.gmx.net", "mout-xforward.gmx.net", "x.cern.ch"]:
        c(2100, client_name=name, client_address="203.0.113.5", recipient="q@d.example")
    for recipient in ["postmaster@d.example", "abuse+x@d.example", "Postmaster@D.example"]:
        c(2100, client_address="203.0.113.5", recipient=recipient)
    c(2100, client_address="2001:db8::5", recipient="v6@d.example", instance="i6")
    c(2500, client_address="2001:db8::77", recipient="v6@d.example", instance="i7")  # same /64
    # A first retry after the retry window starts again.
    c(3000, recipient="late@d.example")
    c(3000 + 3 * 86400, recipient="late@d.example", instance="l2")
    c(3000 + 3 * 86400 + 301, recipient="late@d.example", instance="l3")
    # The client auto-whitelist: five successes (one an hour) for one address.
    for i in range(6):
        t = 400_000 + i * 4000
        c(t, client_address="192.0.2.50", recipient=f"awl{i}@d.example", instance=f"a{i}")
        c(t + 301, client_address="192.0.2.50", recipient=f"awl{i}@d.example", instance=f"b{i}")
    c(500_000, client_address="192.0.2.50", recipient="fresh@d.example", instance="f")
    c(500_000, client_address="192.0.2.51", recipient="fresh@d.example", instance="g")
    c(500_001, recipient=None)  # missing attribute
    c(500_002, recipient="no-etrn@d.example", etrn_domain=None)
    return cases


def ask(sock, attributes):
    sock.sendall(("".join(f"{k}={v}\n" for k, v in attributes.items()) + "\n").encode())
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return re.sub(r" at \S+; .*", " at HOST; DATE", data.decode().strip())


def main():
    a = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    b = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10)
    differences = 0
    for number, attributes in enumerate(requests(), 1):
        left, right = ask(a, attributes), ask(b, attributes)
        if left != right:
            differences += 1
            print(f"FAIL: request {number} {attributes}\n  postgrey: {left}\n  tern:     {right}")
    print(f"{len(requests())} requests, {differences} different")
    return 1 if differences else 0


sys.exit(main())
