#!/bin/bash
# mbox interop between Tern's IMAP/POP3 server and a real Dovecot 2.3, both ways, on one mail location
# `mbox:~/mail:INBOX=<spool>/%u` with the INBOX in a /var/mail-like spool (root:mail 2775, so the dotlock needs
# mail_privileged_group = mail):
#   1. Dovecot (doveadm) writes: mailboxes, messages, flags, keywords, an expunge, subscriptions.
#   2. Tern reads it over IMAP (a `tern dovecot` on 127.0.0.1): UIDs, flags, keywords, UIDVALIDITY, UIDNEXT and the
#      mailbox list must equal what `doveadm` reports.
#   3. Tern changes it over IMAP (STORE, EXPUNGE, APPEND, COPY, CREATE, SUBSCRIBE) after the MTA appended a
#      message to the spool file; Dovecot must read back Tern's view, and POP3 UIDLs and sizes must equal
#      doveadm's pop3.uidl and size.virtual.
# usage (as root): scripts/interop/mbox-dovecot.sh      environment: TERN_BIN (default: the debug build)
# needs: dovecot-core (Debian), python3, the group mail and the accounts dovecot and dovenull.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root (doveadm and Tern switch to the mail user)" >&2; exit 2; }
[ -x /usr/sbin/dovecot ] || { echo "no Dovecot (apt-get install dovecot-core)" >&2; exit 2; }
if [ -z "${TERN_BIN:-}" ]; then
    (cd "$REPO" && swift build --product tern >&2)
    TERN_BIN="$(cd "$REPO" && swift build --show-bin-path)/tern"
fi
IMAP_PORT=24043
POP3_PORT=24010

work=$(mktemp -d /tmp/tern-mbox-interop.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/bin" "$work/dovecot/run" "$work/dovecot/state" "$work/tern/run" "$work/tern/state" "$work/home" "$work/spool"
chmod 755 "$work/bin"
"$TERN_BIN" link "$work/bin" >/dev/null
chown 65534:65534 "$work/home"
chown root:mail "$work/spool"
chmod 2775 "$work/spool"
echo "carla:{PLAIN}secret:65534:65534::$work/home" >"$work/passwd"
common() { # base directory
    cat <<CONF
base_dir = $1/run
state_dir = $1/state
log_path = $1/dovecot.log
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = mbox:~/mail:INBOX=$work/spool/%u
mail_privileged_group = mail
passdb {
  driver = passwd-file
  args = $work/passwd
}
userdb {
  driver = passwd-file
  args = $work/passwd
}
namespace inbox {
  inbox = yes
}
CONF
}
{ common "$work/dovecot"; echo "protocols = none"; } >"$work/dovecot/dovecot.conf"
{
    common "$work/tern"
    cat <<CONF
protocols = imap pop3
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
} >"$work/tern/dovecot.conf"

stop() {
    if [ -f "$work/dovecot/run/master.pid" ]; then kill "$(cat "$work/dovecot/run/master.pid")" 2>/dev/null || true; fi
    timeout 30 "$work/bin/dovecot" -c "$work/tern/dovecot.conf" stop >/dev/null 2>&1 || true
}
trap stop EXIT
/usr/sbin/dovecot -c "$work/dovecot/dovecot.conf"
D="doveadm -c $work/dovecot/dovecot.conf"
fail=0
# shellcheck source=../lib/doveadm-views.sh
. "$HERE/../lib/doveadm-views.sh"
status_view() {
    $D -f flow mailbox status -u carla 'uidvalidity uidnext' "$1" |
        awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["uidvalidity"], v["uidnext"] }'
}
# What Postfix's local(8) appends to a spool file.
mta_append() { # subject
    printf 'From mta@example.org  Mon Nov 30 11:12:35 2026\nFrom: mta@example.org\nSubject: %s\n\n>From the MTA\n\n' "$1" \
        >>"$work/spool/carla"
}

# 1. Dovecot writes.
mta_append "first delivery"
chown 65534:mail "$work/spool/carla"
chmod 660 "$work/spool/carla"
$D mailbox create -u carla Sent "Archive/2024"
$D mailbox subscribe -u carla INBOX Sent
for i in 1 2 3; do
    printf 'From: a@example\nSubject: dovecot %s\n\nline %s\n\nFrom here on unquoted\n' "$i" "$i" | $D save -u carla -m INBOX
done
printf 'From: a@example\nSubject: sent\n\nbody\n' | $D save -u carla -m Sent
$D flags add -u carla '\Seen \Flagged' mailbox INBOX uid 1
$D flags add -u carla 'todo $Label1' mailbox INBOX uid 2
$D flags add -u carla '\Answered \Draft' mailbox INBOX uid 3
# Not the last message: Dovecot keeps UIDNEXT in its index and leaves X-IMAPbase behind (docs/compatibility.md).
$D expunge -u carla mailbox INBOX uid 3
fetch_view INBOX >"$work/dovecot-wrote-INBOX.txt"
fetch_view Sent >"$work/dovecot-wrote-Sent.txt"
{ status_view INBOX; status_view Sent; } >"$work/dovecot-wrote-status.txt"
$D mailbox list -u carla | sort >"$work/dovecot-wrote-list.txt"
kill "$(cat "$work/dovecot/run/master.pid")"
sleep 1

# 2. and 3. Tern reads, then writes, over IMAP and POP3.
"$work/bin/dovecot" -c "$work/tern/dovecot.conf"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$IMAP_PORT) 2>/dev/null && break; sleep 0.2; done
python3 - "$work" "$IMAP_PORT" "$POP3_PORT" <<'PY' || { echo "FAIL Tern session"; fail=1; }
import imaplib, poplib, re, sys
work, imap_port, pop3_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def view(imap):
    typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
    lines = []
    for item in data:
        if not item:
            continue
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        m = re.search(r"UID (\d+) FLAGS \(([^)]*)\)", text)
        flags = sorted(f for f in m.group(2).split() if f != "\\Recent")
        lines.append(" ".join([m.group(1)] + flags))
    return "".join(line + "\n" for line in lines)

def write(name, text):
    with open(f"{work}/{name}", "w") as f:
        f.write(text)

imap = imaplib.IMAP4("127.0.0.1", imap_port)
imap.login("carla", "secret")
status = ""
for box in ("INBOX", "Sent"):
    typ, data = imap.status(box, "(UIDVALIDITY UIDNEXT)")
    m = re.search(rb"UIDNEXT (\d+) UIDVALIDITY (\d+)|UIDVALIDITY (\d+) UIDNEXT (\d+)", data[0])
    status += f"{int(m.group(3) or m.group(2))} {int(m.group(4) or m.group(1))}\n"
write("tern-read-status.txt", status)
typ, data = imap.list()
write("tern-read-list.txt", "".join(sorted(d.decode().rsplit(" ", 1)[1].strip('"') + "\n" for d in data)))
imap.select("Sent", readonly=True)
write("tern-read-Sent.txt", view(imap))
imap.select("INBOX")
write("tern-read-INBOX.txt", view(imap))

# Postfix's local(8) appends to the spool file while the session has INBOX selected.
with open(f"{work}/spool/carla", "a") as spool:
    spool.write("From mta@example.org  Mon Nov 30 11:12:35 2026\nFrom: mta@example.org\nSubject: second delivery\n\n"
                ">From the MTA\n\n")
imap.noop()
uids = [int(line.split()[0]) for line in view(imap).splitlines()]
imap.uid("STORE", str(uids[0]), "+FLAGS", "(\\Answered fromtern)")
imap.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")
imap.expunge()
imap.append("INBOX", "(\\Seen \\Flagged $Label2)", None, b"From: tern@example\r\nSubject: appended by Tern\r\n\r\nbody\r\n\r\nFrom the body\r\n")
imap.noop()
appended = max(int(line.split()[0]) for line in view(imap).splitlines())
imap.uid("COPY", str(appended), "Sent")
imap.create("Tern/Made")
imap.subscribe("Tern/Made")
write("tern-wrote-INBOX.txt", view(imap))
imap.select("Sent")
write("tern-wrote-Sent.txt", view(imap))
imap.logout()

pop = poplib.POP3("127.0.0.1", pop3_port)
pop.user("carla")
pop.pass_("secret")
sizes = dict(line.decode().split() for line in pop.list()[1])
uidls = dict(line.decode().split() for line in pop.uidl()[1])
write("tern-pop3.txt", "".join(f"{uidls[n]} {sizes[n]}\n" for n in sorted(sizes, key=int)))
pop.quit()
PY
timeout 30 "$work/bin/dovecot" -c "$work/tern/dovecot.conf" stop >/dev/null 2>&1 || true
sort "$work/tern-read-list.txt" -o "$work/tern-read-list.txt"
check "Tern reads Dovecot's INBOX (UIDs, flags, keywords)" "$work/dovecot-wrote-INBOX.txt" "$work/tern-read-INBOX.txt"
check "Tern reads Dovecot's Sent" "$work/dovecot-wrote-Sent.txt" "$work/tern-read-Sent.txt"
check "Tern reads UIDVALIDITY and UIDNEXT" "$work/dovecot-wrote-status.txt" "$work/tern-read-status.txt"
check "Tern lists Dovecot's mailboxes" "$work/dovecot-wrote-list.txt" "$work/tern-read-list.txt"

/usr/sbin/dovecot -c "$work/dovecot/dovecot.conf"
fetch_view INBOX >"$work/dovecot-read-INBOX.txt"
fetch_view Sent >"$work/dovecot-read-Sent.txt"
check "Dovecot reads Tern's INBOX (flags, keyword, expunge, append, new mail)" "$work/tern-wrote-INBOX.txt" "$work/dovecot-read-INBOX.txt"
check "Dovecot reads Tern's copy into Sent" "$work/tern-wrote-Sent.txt" "$work/dovecot-read-Sent.txt"
# pop3_uidl_format's default %08Xu%08Xv from doveadm's UIDs and UIDVALIDITY.
validity=$(status_view INBOX | cut -d' ' -f1)
$D fetch -u carla 'uid size.virtual' mailbox INBOX all |
    awk -v v="$validity" '/^uid: / { u = $2 } /^size.virtual: / { printf "%08X%08X %s\n", u, v, $2 }' >"$work/dovecot-pop3.txt"
check "POP3 UIDLs and sizes equal Dovecot's" "$work/dovecot-pop3.txt" "$work/tern-pop3.txt"
$D mailbox list -u carla -s | sort >"$work/dovecot-subscribed.txt"
printf 'INBOX\nSent\nTern/Made\n' >"$work/expected-subscribed.txt"
check "Dovecot reads Tern's subscriptions" "$work/expected-subscribed.txt" "$work/dovecot-subscribed.txt"
if grep -E 'Error|Panic|Warning' "$work/dovecot/dovecot.log" | grep -v -e 'auth: Error: passwd-file' -e 'Killed with signal 15' \
    >"$work/errors.txt"; then
    echo "FAIL Dovecot logged errors:"; cat "$work/errors.txt"; fail=1
else
    echo "ok   Dovecot logged no errors or warnings"
fi
if grep -E 'Error|Fatal|Panic' "$work/tern/dovecot.log" >"$work/tern-errors.txt"; then
    echo "FAIL Tern logged errors:"; cat "$work/tern-errors.txt"; fail=1
fi
[ -e "$work/spool/carla.lock" ] && { echo "FAIL a dotlock was left behind"; fail=1; }
[ "$fail" = 0 ] && { echo "PASS (files in $work)"; exit 0; }
echo "FAILED (files in $work)"; exit 1
