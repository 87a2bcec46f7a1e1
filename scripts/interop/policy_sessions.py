#!/usr/bin/env python3
"""Helper for policy-dns.sh: the same SMTP sessions against Tern and the real Postfix, replies compared.

usage: policy_sessions.py TERN_IP POSTFIX_IP

Each case connects from its own 127.0.0.x source address (client checks, DNSBLs and PTR records depend on
it), says EHLO, MAIL FROM and RCPT TO, sends a small message when a recipient was accepted, and quits.
Every reply line is recorded; the two servers' transcripts must be equal (queue IDs and the server's own
address masked). The relay cases come from outside mynetworks and must never be accepted for a remote
destination. Prints PASS/FAIL lines; the exit status is the number of failures (at most 100).
"""
import re
import socket
import sys

TIMEOUT = 30

# (name, source address, EHLO name, sender, recipient, remote): `remote` marks an address that, if
# accepted, would be relayed. `{self}` is the server's own address.
CASES = [
    ("mynetworks may relay", "127.0.0.1", "client.test", "a@nodomain.test", "inside@remote.test", False),
    ("client on the DNSBL", "127.0.0.5", "host.good.test", "a@good.test", "user@policy.test", False),
    ("client on DNSBL and DNSWL", "127.0.0.6", "host.good.test", "a@good.test", "user@policy.test", False),
    ("client name confirmed", "127.0.0.7", "host.good.test", "a@good.test", "user@policy.test", False),
    ("client name not confirmed", "127.0.0.8", "host.good.test", "a@good.test", "user@policy.test", False),
    ("invalid HELO", "127.0.0.9", "bad_host!name", "a@good.test", "user@policy.test", False),
    ("non-FQDN HELO", "127.0.0.9", "nodot", "a@good.test", "user@policy.test", False),
    ("HELO on the RHSBL", "127.0.0.9", "spammer.test", "a@good.test", "user@policy.test", False),
    ("sender domain not found", "127.0.0.9", "host.good.test", "a@nodomain.test", "user@policy.test", False),
    ("non-FQDN sender", "127.0.0.9", "host.good.test", "a@nodot", "user@policy.test", False),
    ("sender on the RHSBL", "127.0.0.9", "host.good.test", "a@spammer.test", "user@policy.test", False),
    ("unknown virtual user", "127.0.0.9", "host.good.test", "a@good.test", "nobody@policy.test", False),
    ("unknown local user", "127.0.0.9", "host.good.test", "a@good.test", "nobody@localhost", False),
    ("non-FQDN recipient", "127.0.0.9", "host.good.test", "a@good.test", "user", False),
    ("local mailbox", "127.0.0.9", "host.good.test", "a@good.test", "user@policy.test", False),
    ("local mailbox, upper case", "127.0.0.9", "host.good.test", "a@good.test", "USER@POLICY.TEST", False),
    ("local mailbox, trailing dot", "127.0.0.9", "host.good.test", "a@good.test", "user@policy.test.", False),
]
RELAY_TRICKS = [
    "user@remote.test",
    "user@REMOTE.TEST",
    "user@remote.test.",
    "user%remote.test@policy.test",
    "user%remote.test@localhost",
    "user%remote.test@[{self}]",
    "remote.test!user@policy.test",
    "remote.test!user@localhost",
    '"user@remote.test"',
    '"user@remote.test"@policy.test',
    '"user%remote.test"@localhost',
    '"remote.test!user"@localhost',
    "@policy.test:user@remote.test",
    "@policy.test,@localhost:user@remote.test",
    "user@[192.0.2.1]",
    "user@[127.0.0.52]",
    "user@[IPv6:2001:db8::1]",
    "user@remote.test@policy.test",
    "user@mx.remote.test",
]
CASES += [(f"relay trick <{t}>", "127.0.0.9", "host.good.test", "a@good.test", t, True) for t in RELAY_TRICKS]

MASKS = [(re.compile(r"queued as [0-9A-Za-z]+"), "queued as ID")]


class Session:
    def __init__(self, server, source):
        self.sock = socket.create_connection((server, 25), timeout=TIMEOUT, source_address=(source, 0))
        self.file = self.sock.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.file.readline(4096)
            if not line:
                lines.append("(connection closed)")
                return lines
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return lines

    def command(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()


def run(server, case):
    name, source, helo, sender, recipient, _ = case
    recipient = recipient.replace("{self}", server)
    transcript = []
    session = Session(server, source)
    try:
        transcript += session.reply()
        transcript += session.command(f"EHLO {helo}")
        transcript += session.command(f"MAIL FROM:<{sender}>")
        rcpt = session.command(f"RCPT TO:<{recipient}>")
        transcript += rcpt
        if rcpt[-1].startswith("250"):
            transcript += session.command("DATA")
            transcript += session.command(f"Subject: {name}\r\n\r\npolicy interop\r\n.")
        transcript += session.command("QUIT")
    finally:
        session.close()
    text = "\n".join(transcript).replace(server, "SELF")
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text, rcpt[-1]


def main():
    tern, postfix = sys.argv[1], sys.argv[2]
    failures = 0
    for case in CASES:
        name, remote = case[0], case[5]
        try:
            tern_text, tern_rcpt = run(tern, case)
            postfix_text, postfix_rcpt = run(postfix, case)
        except OSError as error:
            print(f"FAIL: {name}: {error}")
            failures += 1
            continue
        if tern_text != postfix_text:
            print(f"FAIL: {name}: replies differ\n--- Tern\n{tern_text}\n--- Postfix\n{postfix_text}")
            failures += 1
        elif remote and (tern_rcpt.startswith("2") or postfix_rcpt.startswith("2")):
            print(f"FAIL: {name}: accepted from outside mynetworks: {tern_rcpt}")
            failures += 1
        else:
            print(f"PASS: {name}: {tern_rcpt}")
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
