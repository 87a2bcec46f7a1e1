#!/bin/bash
# Tern vs Dovecot 2.3 on a large mailbox, in one run, same machine, same Maildir (default 50,000 messages):
# SEARCH TEXT/BODY (Dovecot without FTS; Tern with its full-text index, `mail_plugins = fts` and
# `plugin { fts = squat }`: the first search builds it), SORT and THREAD where advertised, and the
# bandwidth COMPRESS=DEFLATE saves on FETCH 1:1000 BODY.PEEK[] (imap_zlib on for both). One client, one
# run per measurement (the first SEARCH may build caches). Run as root with Debian's dovecot-imapd installed.
#   TERN_BIN (default: release build), MESSAGES=50000, SERVERS="tern dovecot", KEEP=1 keeps BENCH_ROOT
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/tern-imap-large}
MESSAGES=${MESSAGES:-50000}
SERVERS=${SERVERS:-"tern dovecot"}
BENCH_NAME=imap-large
ZLIB='protocol imap {
  mail_plugins = $mail_plugins imap_zlib
}'
declare -A PLUGINS=([tern]="zlib fts" [dovecot]="zlib")
# shellcheck source=scripts/bench/access-lib.sh
source "$HERE/access-lib.sh"

results=()
for server in $SERVERS; do
  EXTRA_CONF="mail_plugins = \$mail_plugins ${PLUGINS[$server]}
$ZLIB
plugin {
  fts = squat
}"
  make_instance "$server"
  ${START[$server]} "$ROOT/$server/dovecot.conf" || die "$server did not start"
  sleep 1
  log "$server: measuring"
  while read -r line; do
    log "$server $line"; results+=("$server $line")
  done < <(timeout 3600 python3 "$HERE/imap_large.py" "${IMAP_PORT[$server]}" $USER_NAME $PASSWORD)
  stop_instance "$server"
done
report "imap-large benchmark: $MESSAGES messages, one client"
