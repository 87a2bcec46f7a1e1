#!/usr/bin/env python3
"""Python's imaplib/poplib against a running `tern demo` (IMAP 127.0.0.1:1143, POP3 :1110, SMTP :2525):
the scenarios a script or a simple client runs. Exits non-zero on the first failed check."""
import imaplib
import poplib
import smtplib
import sys
import time

HOST = "127.0.0.1"
USER, PASSWORD = "bob@demo.test", "bob-secret"
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def send(subject, body="hello\r\n"):
    with smtplib.SMTP(HOST, 2525, timeout=10) as smtp:
        smtp.sendmail("sender@example.test", [USER], f"Subject: {subject}\r\nFrom: sender@example.test\r\n\r\n{body}")


def wait_pop3_count(n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pop = poplib.POP3(HOST, 1110, timeout=10)
        pop.user(USER)
        pop.pass_(PASSWORD)
        count = pop.stat()[0]
        pop.quit()
        if count >= n:
            return count
        time.sleep(0.5)
    return 0


send("first", ".leading dot\r\nline two\r\n")
send("second")
check(wait_pop3_count(2) == 2, "two messages delivered by SMTP are in the POP3 maildrop")

pop = poplib.POP3(HOST, 1110, timeout=10)
check(pop.getwelcome() == b"+OK Dovecot (Debian) ready.", "POP3 greeting")
pop.user(USER)
pop.pass_(PASSWORD)
resp, lines, _ = pop.retr(1)
check(b".leading dot" in lines and b"Subject: first" in lines, "RETR undoes dot-stuffing (poplib)")
uidl = pop.uidl()[1]
check(len(uidl) == 2, "UIDL lists both")
resp, top, _ = pop.top(2, 0)
check(b"Subject: second" in top and b"hello" not in top, "TOP 2 0 gives the header only")
pop.quit()

imap = imaplib.IMAP4(HOST, 1143, timeout=10)
check("IMAP4REV1" in imap.capabilities, "IMAP greeting capabilities")
typ, _ = imap.login(USER, PASSWORD)
check(typ == "OK", "IMAP LOGIN")
typ, data = imap.list()
names = [line.decode().rsplit(" ", 1)[1].strip('"') for line in data]
check({"INBOX", "Drafts", "Sent", "Trash"} <= set(names), f"LIST shows INBOX and the auto mailboxes ({names})")
typ, data = imap.select("INBOX")
check(typ == "OK" and data == [b"2"], "SELECT INBOX: 2 messages")
typ, data = imap.search(None, '(SUBJECT "second")')
check(data == [b"2"], "SEARCH SUBJECT")
typ, data = imap.fetch("1", "(BODY.PEEK[TEXT])")
check(data[0][1] == b".leading dot\r\nline two\r\n", "FETCH BODY.PEEK[TEXT] byte-exact")
typ, data = imap.store("1", "+FLAGS", "(\\Flagged)")
check(b"\\Flagged" in data[0], "STORE +FLAGS")
typ, data = imap.copy("1", "Trash")
check(typ == "OK", "COPY to Trash")
typ, data = imap.append("Drafts", "(\\Draft)", None, b"Subject: draft\r\n\r\nunfinished\r\n")
check(typ == "OK" and b"APPENDUID" in data[0], "APPEND with APPENDUID")
typ, data = imap.status("Drafts", "(MESSAGES UIDNEXT)")
check(b"MESSAGES 1" in data[0] and b"UIDNEXT 2" in data[0], "STATUS Drafts")
imap.store("2", "+FLAGS", "(\\Deleted)")
typ, data = imap.expunge()
check(data == [b"2"], "EXPUNGE reports message 2")
typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
check(len(data) == 1 and b"\\Flagged" in data[0], "UID FETCH after EXPUNGE")
imap.create("Projects/2024")
typ, data = imap.list('""', "Projects/*")
check(b"Projects/2024" in data[0], "CREATE with hierarchy")
imap.logout()

pop = poplib.POP3(HOST, 1110, timeout=10)
pop.user(USER)
pop.pass_(PASSWORD)
check(pop.stat()[0] == 1, "POP3 sees the IMAP EXPUNGE")
pop.dele(1)
pop.quit()
check(wait_pop3_count(0) == 0, "DELE + QUIT empties the maildrop")
print(f"access_clients.py: all {checks} checks passed")
