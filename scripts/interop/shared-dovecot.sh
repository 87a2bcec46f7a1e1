#!/bin/bash
# Shared namespaces between Tern and a real Dovecot 2.3 on one set of files: Dovecot's documented setup
# (`namespace { type = shared  prefix = shared/%%u/  location = maildir:%%h/Maildir:INDEXPVT=~/Maildir/shared/%%u }`,
# the acl plugin, acl_shared_dict = file:). carla owns INBOX and Work (some messages \Seen) and shares them with
# bob through doveadm acl (which writes the dict). Then the same IMAP sessions run against the real Dovecot and,
# on a copy of the same files, against Tern (`tern dovecot` with the same dovecot.conf): bob's NAMESPACE, LIST,
# SELECT, FETCH FLAGS, STORE +FLAGS \Seen (private to bob), SEARCH, STATUS, SUBSCRIBE, LSUB, a second session of
# bob that reads his flags back, and carla's view of her own flags; then, with bob logged in, dave shares a
# mailbox with him (SETACL): bob's LIST, STATUS and EXAMINE in the same session see it (the dict read again,
# dave looked up in the userdb). The transcripts must be equal, except for:
#   - timings in the tagged OKs, and the order of LIST replies (compared sorted);
#   - SELECT's [HIGHESTMODSEQ] and [MAILBOXID] lines, which Tern sends for every mailbox (docs/compatibility.md).
# Needs root, Debian's dovecot-core, python3 and a built Tern (swift build).
# Usage: scripts/interop/shared-dovecot.sh            (from anywhere)
set -eu
cd "$(dirname "$0")/../.."
command -v doveadm >/dev/null || { echo "doveadm not found: apt-get install -y dovecot-core" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (both servers switch to the mail user)" >&2; exit 2; }
[ -x .build/debug/tern ] || { echo "build Tern first: swift build" >&2; exit 2; }
PORT=${SHARED_INTEROP_PORT:-24752}
if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then echo "port $PORT is in use" >&2; exit 2; fi

work=$(mktemp -d /tmp/tern-shared-interop.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/bin" "$work/bob" "$work/dave"
chown 65534:65534 "$work/bob" "$work/dave"
.build/debug/tern link "$work/bin" >/dev/null
# Every user's session rewrites the dict (SETACL; a new file and a rename, so in a directory it may write).
mkdir -p "$work/dict"
chown 65534:65534 "$work/dict"
# shellcheck source=../lib/private-dovecot.sh
. scripts/lib/private-dovecot.sh
start_private_dovecot <<CONF
protocols = imap
disable_plaintext_auth = no
namespace shared {
  type = shared
  separator = /
  prefix = shared/%%u/
  location = maildir:%%h/Maildir:INDEXPVT=~/Maildir/shared/%%u
  subscriptions = no
  list = children
}
mail_plugins = \$mail_plugins acl
protocol imap {
  mail_plugins = \$mail_plugins imap_acl
}
plugin {
  acl = vfile
  acl_shared_dict = file:$work/dict/shared-mailboxes
}
service imap-login {
  inet_listener imap {
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
echo "bob:{PLAIN}secret:65534:65534::$work/bob" >>"$work/passwd"
echo "dave:{PLAIN}secret:65534:65534::$work/dave" >>"$work/passwd"
fail=0

# carla's mailboxes, flags and ACLs, written by Dovecot.
$D mailbox create -u carla Work
for i in 1 2 3; do
    printf 'From: a@example\nSubject: inbox %s\n\nbody\n' "$i" | $D save -u carla -m INBOX
    printf 'From: a@example\nSubject: work %s\n\nbody\n' "$i" | $D save -u carla -m Work
done
$D flags add -u carla '\Seen' mailbox INBOX uid 1
$D flags add -u carla '\Seen \Flagged' mailbox Work uid 2
$D acl set -u carla INBOX user=bob lookup read write-seen write
$D acl set -u carla Work user=bob lookup read write-seen
# dave's Later, shared only during bob's session.
$D mailbox create -u dave Later
printf 'From: a@example\nSubject: later\n\nbody\n' | $D save -u dave -m Later
grep -qx 'shared/shared-boxes/user/bob/carla' "$work/dict/shared-mailboxes" ||
    { echo "FAIL Dovecot did not write the dict"; fail=1; }
# Both servers start from these files.
mkdir "$work/start"
cp -a "$work/home" "$work/bob" "$work/dave" "$work/dict" "$work/start/"

sessions() { # transcript file
    python3 - "$PORT" >"$1" <<'PY'
import re, socket, sys

port = int(sys.argv[1])
SESSIONS = [
    ("bob", ['NAMESPACE', 'LIST "" "*"', 'SELECT shared/carla', 'FETCH 1:* (FLAGS)', 'STORE 2 +FLAGS (\\Seen)',
             'STORE 3 +FLAGS (\\Flagged)', 'FETCH 1:* (FLAGS)', 'SEARCH UNSEEN', 'SEARCH SEEN',
             'STATUS shared/carla/Work (MESSAGES UNSEEN)', 'SELECT shared/carla/Work', 'STORE 1 +FLAGS (\\Seen)',
             'STORE 2 -FLAGS (\\Seen)', 'FETCH 1:* (FLAGS)', 'SUBSCRIBE shared/carla/Work',
             'SUBSCRIBE shared/carla', 'LSUB "" "*"', 'LIST (SUBSCRIBED) "" "*"', 'LSUB "" "%"',
             'LSUB "" "shared/%"', 'LIST (SUBSCRIBED) "" "shared/%"']),
    ("bob", ['STATUS shared/carla (MESSAGES UNSEEN)', 'EXAMINE shared/carla', 'FETCH 1:* (FLAGS)',
             'SEARCH UNSEEN', 'STATUS shared/carla/Work (MESSAGES UNSEEN)']),
    ("carla", ['NAMESPACE', 'LIST "" "*"', 'SELECT INBOX', 'FETCH 1:* (FLAGS)', 'STORE 1 +FLAGS (\\Seen)',
               'STATUS Work (MESSAGES UNSEEN)']),
]

# Steps of two sessions open at once: dave shares Later while bob is logged in (before bob's first LIST:
# Dovecot reads the dict at a session's first LIST only, Tern whenever it changed; docs/compatibility.md).
LATER = [("bob", 'NOOP'), ("dave", 'SETACL Later bob lr'), ("bob", 'LIST "" "*"'), ("bob", 'LIST "" "shared/%"'),
         ("bob", 'STATUS shared/dave/Later (MESSAGES)'), ("bob", 'EXAMINE shared/dave/Later')]

def normalize(lines):
    out, block = [], []
    for line in lines:
        line = re.sub(r" \(\d+\.\d+( \+ \d+\.\d+)+ secs\)\.$", ".", line)
        if re.match(r"\* OK \[(HIGHESTMODSEQ|MAILBOXID) ", line):
            continue
        if line.startswith(("* LIST ", "* LSUB ")):
            block.append(line)
            continue
        out += sorted(block) + [line]
        block = []
    return out + sorted(block)

def connect(user):
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = conn.makefile("rb")
    reader.readline()
    run(conn, reader, "l", f"LOGIN {user} secret")  # LOGIN's capabilities differ (Tern's own list)
    return conn, reader

def run(conn, reader, tag, command):
    conn.sendall(f"{tag} {command}\r\n".encode())
    lines = []
    while True:
        line = reader.readline().decode(errors="replace").rstrip("\r\n")
        lines.append(line)
        if not line or line.startswith(tag + " "):
            return normalize(lines)

for user, commands in SESSIONS:
    conn, reader = connect(user)
    print(f"== {user}")
    for n, command in enumerate(commands + ["LOGOUT"]):
        print(f"C: {command}")
        for line in run(conn, reader, f"a{n + 1}", command):
            print("S: " + line)
    conn.close()

print("== bob and dave")
users = {user: connect(user) for user in ("bob", "dave")}
for n, (user, command) in enumerate(LATER):
    print(f"C: {user}: {command}")
    for line in run(*users[user], f"b{n}", command):
        print("S: " + line)
for conn, reader in users.values():
    conn.close()
PY
}

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

wait_port || { echo "FAIL Dovecot does not listen on $PORT"; fail=1; }
sessions "$work/dovecot.txt" || { echo "FAIL session with Dovecot"; fail=1; }
cp -a "$work/bob" "$work/dovecot-bob"
dovecot_pid=$(cat "$work/run/master.pid")
stop_private_dovecot
# Its listener goes with the master, which may take a moment after the sessions.
for _ in $(seq 100); do kill -0 "$dovecot_pid" 2>/dev/null || break; sleep 0.1; done
# Both masters log their SIGTERM as a warning; other warnings count.
sed -i '/master: Warning: Killed with signal 15/d' "$work/dovecot.log"

# Tern on the same files as they were before Dovecot's sessions.
rm -rf "$work/home" "$work/bob" "$work/dave" "$work/dict"
cp -a "$work/start/home" "$work/start/bob" "$work/start/dave" "$work/start/dict" "$work/"
"$work/bin/dovecot" -c "$conf"
stop_tern() { timeout 30 "$work/bin/dovecot" -c "$conf" stop >/dev/null 2>&1 || true; }
trap stop_tern EXIT
wait_port || { echo "FAIL Tern does not listen on $PORT"; fail=1; }
sessions "$work/tern.txt" || { echo "FAIL session with Tern"; fail=1; }
stop_tern
sed -i '/master: Warning: Killed with signal 15/d' "$work/dovecot.log"

if diff -u "$work/dovecot.txt" "$work/tern.txt" >"$work/diff.txt"; then
    echo "ok   the same replies from Dovecot and Tern ($(grep -c '^C: ' "$work/tern.txt") commands)"
else
    echo "FAIL replies differ (- Dovecot, + Tern):"; cat "$work/diff.txt"; fail=1
fi
# bob's private \Seen: Dovecot's in its dovecot.index.pvt files, Tern's in tern.pvt, both under INDEXPVT.
for box in INBOX Work; do
    [ -n "$(ls "$work/dovecot-bob/Maildir/shared/carla/.$box/" 2>/dev/null | grep '^dovecot.index.pvt')" ] ||
        { echo "FAIL no Dovecot private index for $box"; fail=1; }
    [ -f "$work/bob/Maildir/shared/carla/.$box/tern.pvt" ] || { echo "FAIL no tern.pvt for $box"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok   private flags under INDEXPVT (bob/Maildir/shared/carla/.INBOX, .Work)"
# bob's SUBSCRIBEs to carla's mailboxes went to his own subscriptions file, written alike.
if cmp -s "$work/dovecot-bob/Maildir/subscriptions" "$work/bob/Maildir/subscriptions"; then
    echo "ok   bob's subscriptions file is Dovecot's"
else
    echo "FAIL bob's subscriptions file:"; diff "$work/dovecot-bob/Maildir/subscriptions" "$work/bob/Maildir/subscriptions"; fail=1
fi
finish_private_dovecot
