#!/bin/bash
# The README's test command: build, unit and integration tests, then the shared conformance stages that
# Tern implements, run against the freshly built binary (those need root: they create test accounts).
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES="${TERN_CONFORMANCE_STAGES:-mta_core mta_outbound mta_policy access_core}"

swift build
swift test

CONFORMANCE=../shared/conformance
if [ ! -d "$CONFORMANCE" ]; then
  echo "test.sh: $CONFORMANCE not found; conformance stages skipped"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: not root; conformance stages ($STAGES) skipped (they create system accounts)"
  exit 0
fi
BIN=$(mktemp -d /tmp/tern-bin.XXXXXX)
chmod 755 "$BIN"   # the suite runs sendmail/mail as ordinary users
"$(swift build --show-bin-path)/tern" link "$BIN"
rc=0
for stage in $STAGES; do
  echo "== conformance: $stage =="
  (cd "$CONFORMANCE" && SUT_BIN_DIR="$BIN" timeout 1800 python3 -m pytest -p no:cacheprovider -m "$stage") || rc=$?
done
rm -rf "$BIN"
# Interop in a namespace with its own DNS (needs Debian's postfix and dnsmasq): outbound by MX with a
# second Tern and a real Postfix; access policy and relay tricks compared with a real Postfix.
if command -v dnsmasq >/dev/null && [ -x /usr/sbin/postfix ] && command -v unshare >/dev/null; then
  echo "== interop: outbound by MX (Tern -> Tern, Tern <-> Postfix) =="
  TERN_BIN="$(swift build --show-bin-path)/tern" timeout 900 scripts/interop/outbound-mx.sh || rc=$?
  echo "== interop: access policy with DNS lists, side by side with Postfix, and the open-relay test =="
  TERN_BIN="$(swift build --show-bin-path)/tern" timeout 600 scripts/interop/policy-dns.sh || rc=$?
else
  echo "test.sh: postfix or dnsmasq not installed; outbound and policy interop skipped"
fi
# `tern postgrey` against Debian's postgrey 1.37, request by request (needs the postgrey package).
if command -v postgrey >/dev/null; then
  echo "== interop: tern postgrey against Debian's postgrey =="
  TERN_BIN="$(swift build --show-bin-path)/tern" timeout 300 scripts/interop/postgrey-diff.sh || rc=$?
else
  echo "test.sh: postgrey not installed; postgrey differential check skipped"
fi
# SMTP AUTH over Dovecot's auth protocol with a real Dovecot and a real Postfix (needs dovecot-core and postfix).
if [ -x /usr/sbin/dovecot ] && [ -x /usr/sbin/postfix ]; then
  echo "== interop: SMTP AUTH, Tern smtpd <-> Dovecot auth and Postfix smtpd <-> Tern auth =="
  TERN_BIN="$(swift build --show-bin-path)/tern" timeout 300 scripts/interop/sasl-dovecot.sh || rc=$?
else
  echo "test.sh: dovecot or postfix not installed; SASL interop skipped"
fi
# mbox and Maildir locations, SORT, QUOTA, ACL and shared namespaces with a real Dovecot (needs dovecot-core).
if [ -x /usr/sbin/dovecot ]; then
  echo "== interop: mbox, Tern's IMAP/POP3 <-> Dovecot =="
  TERN_BIN="$(swift build --show-bin-path)/tern" timeout 300 scripts/interop/mbox-dovecot.sh || rc=$?
  # Maildir, SORT/THREAD, QUOTA, ACL and shared namespaces: the same files or sessions with the real Dovecot.
  for check in maildir sort quota acl shared; do
    echo "== interop: $check, Tern <-> Dovecot =="
    timeout 600 bash "scripts/interop/$check-dovecot.sh" || rc=$?
  done
else
  echo "test.sh: dovecot not installed; mbox, maildir, sort, quota, acl and shared interop skipped"
fi
# Real IMAP/POP3 clients (imaplib/poplib, curl, fetchmail, mbsync, mutt) against `tern demo`.
echo "== interop: mail clients against Tern's IMAP and POP3 =="
TERN_BIN="$(swift build --show-bin-path)/tern" timeout 600 scripts/interop/access-clients.sh || rc=$?
exit $rc
