#!/bin/bash
# Real mail clients against Tern's IMAP and POP3 (the `tern demo` set-up: SMTP 127.0.0.1:2525, IMAP :1143,
# POP3 :1110, users alice@demo.test and bob@demo.test): Python's imaplib/poplib (access_clients.py), curl,
# fetchmail, mbsync and mutt in batch mode. Each prints ok/FAIL lines; the exit status is the number of
# failures. Usage: TERN_BIN=.build/debug/tern scripts/interop/access-clients.sh
set -uo pipefail
TERN_BIN=${TERN_BIN:-$(cd "$(dirname "$0")/../.." && swift build --show-bin-path)/tern}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/tern-clients.XXXXXX)
chmod 755 "$WORK"
failures=0
ok() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

for port in 2525 1143 1110; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "access-clients: port $port is in use"; exit 1; fi
done
"$TERN_BIN" demo "$WORK/demo" >"$WORK/demo.out" 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null; wait $DEMO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/1143) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && break
  sleep 0.2
done

send() {  # send SUBJECT RCPT
  python3 - "$1" "$2" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", 2525, timeout=10) as s:
    s.sendmail("sender@example.test", [sys.argv[2]], f"Subject: {sys.argv[1]}\r\nFrom: sender@example.test\r\n\r\nbody of {sys.argv[1]}\r\n")
PY
}
wait_count() {  # wait_count USER PASSWORD N: until the POP3 maildrop has N messages
  for _ in $(seq 100); do
    n=$(curl -s -u "$1:$2" pop3://127.0.0.1:1110/ | wc -l)
    [ "$n" -ge "$3" ] && return 0
    sleep 0.2
  done
  return 1
}

echo "== Python imaplib/poplib =="
python3 "$HERE/access_clients.py" || failures=$((failures + 1))

echo "== curl =="
A="alice@demo.test:alice-secret"
send curl-token alice@demo.test
check "message delivered for alice" "wait_count alice@demo.test alice-secret 1"
check "curl pop3 LIST" "curl -s -u $A pop3://127.0.0.1:1110/ | grep -q '^1 '"
check "curl pop3 RETR" "curl -s -u $A pop3://127.0.0.1:1110/1 | grep -q 'Subject: curl-token'"
check "curl imap SEARCH" "curl -s -u $A 'imap://127.0.0.1:1143/INBOX' -X 'SEARCH SUBJECT curl-token' | grep -q '^\* SEARCH 1'"
check "curl imap FETCH by UID" "curl -s -u $A 'imap://127.0.0.1:1143/INBOX;UID=1' | grep -q 'body of curl-token'"
check "curl imap LIST" "curl -s -u $A 'imap://127.0.0.1:1143/' | grep -q 'Trash'"

echo "== fetchmail =="
if command -v fetchmail >/dev/null; then
  cat >"$WORK/fetchmailrc" <<EOF2
poll 127.0.0.1 service 1110 protocol pop3 auth password
  user "alice@demo.test" password "alice-secret" is "$(id -un)" here
  keep
  mda "cat >> $WORK/fetchmail-pop3.mbox"
poll 127.0.0.1 service 1143 protocol imap auth password
  user "alice@demo.test" password "alice-secret" is "$(id -un)" here
  keep fetchall
  mda "cat >> $WORK/fetchmail-imap.mbox"
EOF2
  chmod 600 "$WORK/fetchmailrc"
  HOME=$WORK timeout 60 fetchmail -f "$WORK/fetchmailrc" --nosslcertck --sslproto '' -v >"$WORK/fetchmail.log" 2>&1
  check "fetchmail over POP3" "grep -q 'body of curl-token' $WORK/fetchmail-pop3.mbox 2>/dev/null"
  check "fetchmail over IMAP" "grep -q 'body of curl-token' $WORK/fetchmail-imap.mbox 2>/dev/null"
else
  fail "fetchmail not installed"
fi

echo "== mbsync =="
if command -v mbsync >/dev/null; then
  mkdir -p "$WORK/mbsync-mail"
  cat >"$WORK/mbsyncrc" <<EOF2
IMAPAccount tern
Host 127.0.0.1
Port 1143
User alice@demo.test
Pass alice-secret
SSLType None
AuthMechs LOGIN

IMAPStore tern-remote
Account tern

MaildirStore local
Path $WORK/mbsync-mail/
Inbox $WORK/mbsync-mail/INBOX
SubFolders Verbatim

Channel tern
Far :tern-remote:
Near :local:
Patterns *
Create Both
SyncState *
EOF2
  timeout 60 mbsync -c "$WORK/mbsyncrc" -a >"$WORK/mbsync.log" 2>&1
  check "mbsync pulls INBOX" "grep -rqs 'body of curl-token' $WORK/mbsync-mail/INBOX"
  check "mbsync creates the folders" "[ -d $WORK/mbsync-mail/Trash ]"
  # A local flag change goes back to the server: mark the message seen and deleted, sync, expunge.
  f=$(ls "$WORK"/mbsync-mail/INBOX/new/* "$WORK"/mbsync-mail/INBOX/cur/* 2>/dev/null | head -1)
  if [ -n "$f" ]; then
    base=$(basename "$f"); base=${base%%:2,*}
    mv "$f" "$WORK/mbsync-mail/INBOX/cur/$base:2,FS"
    timeout 60 mbsync -c "$WORK/mbsyncrc" -a >>"$WORK/mbsync.log" 2>&1
  fi
  check "mbsync pushes flags (\\Flagged on the server)" \
    "curl -s -u $A 'imap://127.0.0.1:1143/INBOX' -X 'SEARCH FLAGGED' | grep -q '^\* SEARCH 1'"
else
  fail "mbsync not installed"
fi

echo "== mutt (batch) =="
if command -v mutt >/dev/null && command -v script >/dev/null; then
  cat >"$WORK/muttrc" <<EOF2
set imap_user="alice@demo.test"
set imap_pass="alice-secret"
set folder="imap://127.0.0.1:1143/"
set spoolfile="+INBOX"
set header_cache=""
set confirmcreate=no
set confirmappend=no
set move=no
set ssl_starttls=no
set ssl_force_tls=no
set sleep_time=0
EOF2
  TERM=vt100 timeout 60 script -qec "mutt -n -F $WORK/muttrc -e 'push \"<tag-pattern>~s curl-token<enter><tag-prefix><copy-message>=Archive<enter><quit>\"'" /dev/null >"$WORK/mutt.out" 2>&1
  check "mutt copies a message to a new folder" \
    "curl -s -u $A 'imap://127.0.0.1:1143/Archive' -X 'STATUS Archive (MESSAGES)' | grep -q 'MESSAGES 1'"
else
  fail "mutt or script not installed"
fi

if [ $failures -ne 0 ]; then
  echo "access-clients: $failures failure(s); logs in $WORK kept"
  trap 'kill $DEMO 2>/dev/null; wait $DEMO 2>/dev/null' EXIT
fi
exit $failures
