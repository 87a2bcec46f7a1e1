#!/bin/sh
# Maildir interop between Tern's TernMailbox and a real Dovecot 2.3, both ways:
#   1. Dovecot (doveadm) writes a Maildir: folders, messages, flags, keywords, an expunge, subscriptions.
#   2. Tern reads it (DovecotInteropTests with TERN_INTEROP_DIR): UIDs, flags, keywords, UIDVALIDITY and the
#      mailbox list must equal what `doveadm fetch` / `doveadm mailbox list` report.
#   3. Tern changes it (flags, keyword, expunge, append, MTA-style file in new/, copy, create, subscribe) and
#      Dovecot must read back exactly Tern's view, including RFC822 sizes.
# Needs root and Debian's dovecot-core (apt-get install -y dovecot-core). Runs a private Dovecot with no
# listeners (only its auth socket, for doveadm) under a temporary directory and stops it at the end.
# Usage: scripts/interop/maildir-dovecot.sh            (from the repository root)
set -eu
cd "$(dirname "$0")/../.."
command -v doveadm >/dev/null || { echo "doveadm not found: apt-get install -y dovecot-core" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (doveadm switches to the mail user)" >&2; exit 2; }

work=$(mktemp -d /tmp/tern-maildir-interop.XXXXXX)
chmod 755 "$work"
fail=0
# shellcheck source=../lib/private-dovecot.sh
. scripts/lib/private-dovecot.sh
# shellcheck source=../lib/doveadm-views.sh
. scripts/lib/doveadm-views.sh
start_private_dovecot </dev/null

# 1. Dovecot writes.
$D mailbox create -u carla Sent "Archive/2024" "Café"
$D mailbox subscribe -u carla INBOX Sent "Café"
for i in 1 2 3 4; do
    printf 'From: a@example\nSubject: dovecot %s\n\nline %s\n' "$i" "$i" | $D save -u carla -m INBOX
done
printf 'From: a@example\r\nSubject: sent\r\n\r\nbody\r\n' | $D save -u carla -m Sent
$D flags add -u carla '\Seen \Flagged' mailbox INBOX uid 1
$D flags add -u carla 'todo $Label1' mailbox INBOX uid 2
$D flags add -u carla '\Answered \Draft done' mailbox INBOX uid 3
$D expunge -u carla mailbox INBOX uid 4
fetch_view INBOX >"$work/dovecot-wrote-INBOX.txt"
fetch_view Sent >"$work/dovecot-wrote-Sent.txt"
$D -f flow mailbox status -u carla 'uidvalidity uidnext' INBOX |
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["uidvalidity"], v["uidnext"] }' \
    >"$work/dovecot-wrote-status.txt"
$D mailbox list -u carla | sort >"$work/dovecot-wrote-list.txt"

# 2. + 3. Tern reads, then writes.
TERN_INTEROP_DIR="$work" swift test --filter DovecotInteropTests >"$work/swift-test.log" 2>&1 ||
    { echo "FAIL swift test"; tail -30 "$work/swift-test.log"; exit 1; }
grep -q "roundTrip.*passed" "$work/swift-test.log" || { echo "FAIL Tern test did not run"; tail -30 "$work/swift-test.log"; exit 1; }
sort "$work/tern-read-list.txt" >"$work/tern-read-list.sorted"
check "Tern reads Dovecot's INBOX (UIDs, flags, keywords)" "$work/dovecot-wrote-INBOX.txt" "$work/tern-read-INBOX.txt"
check "Tern reads Dovecot's Sent" "$work/dovecot-wrote-Sent.txt" "$work/tern-read-Sent.txt"
check "Tern reads UIDVALIDITY and UIDNEXT" "$work/dovecot-wrote-status.txt" "$work/tern-read-status.txt"
check "Tern lists Dovecot's mailboxes" "$work/dovecot-wrote-list.txt" "$work/tern-read-list.sorted"

chown -R 65534:65534 "$work/home"
fetch_view INBOX >"$work/dovecot-read-INBOX.txt"
fetch_view Sent >"$work/dovecot-read-Sent.txt"
$D fetch -u carla 'uid size.physical size.virtual' mailbox INBOX all |
    awk '/^uid: / { u = $2 } /^size.physical: / { p = $2 } /^size.virtual: / { print u, p, $2 }' >"$work/dovecot-read-sizes.txt"
check "Dovecot reads Tern's INBOX (flags, keyword, expunge, append, new mail)" "$work/tern-wrote-INBOX.txt" "$work/dovecot-read-INBOX.txt"
check "Dovecot reads Tern's copy into Sent" "$work/tern-wrote-Sent.txt" "$work/dovecot-read-Sent.txt"
check "Dovecot reads the same sizes" "$work/tern-wrote-sizes.txt" "$work/dovecot-read-sizes.txt"
$D mailbox list -u carla -s | sort >"$work/dovecot-subscribed.txt"
printf 'Café\nINBOX\nSent\nTern/Made\n' >"$work/expected-subscribed.txt"
check "Dovecot reads Tern's subscriptions" "$work/expected-subscribed.txt" "$work/dovecot-subscribed.txt"
finish_private_dovecot
