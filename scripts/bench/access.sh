#!/bin/bash
# Tern vs Dovecot 2.3 for mail access, in one run, on the same machine and the same mailbox: IMAP
# operations per second (LOGIN/SELECT/FETCH/SEARCH/STORE mix on a 1000-message INBOX, 1 and 20 clients),
# POP3 retrieval throughput, and server memory per idle IMAP connection (IDLE sessions, Pss of the server's
# process tree). Run as root with Debian's dovecot-imapd/dovecot-pop3d installed.
#   TERN_BIN (default: release build), MESSAGES=1000, SECONDS_PER_CASE=20, IDLE_SESSIONS=200,
#   ROUNDS=1, SERVERS="tern dovecot"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT=${BENCH_ROOT:-/tmp/tern-access-bench}
MESSAGES=${MESSAGES:-1000}
SECONDS_PER_CASE=${SECONDS_PER_CASE:-20}
IDLE_SESSIONS=${IDLE_SESSIONS:-200}
SERVERS=${SERVERS:-"tern dovecot"}
# shellcheck source=scripts/bench/access-lib.sh
source "$HERE/access-lib.sh"

results=()
for server in $SERVERS; do
  make_instance "$server"
  ${START[$server]} "$ROOT/$server/dovecot.conf" || die "$server did not start"
  sleep 1
  imap=${IMAP_PORT[$server]}; pop3=${POP3_PORT[$server]}
  log "$server: warm-up (first SELECT builds the uidlist)"
  python3 "$HERE/access_load.py" imap "$imap" $USER_NAME $PASSWORD 1 2 >/dev/null
  for clients in 1 20; do
    r=$(python3 "$HERE/access_load.py" imap "$imap" $USER_NAME $PASSWORD "$clients" "$SECONDS_PER_CASE")
    log "$server imap clients=$clients: $r"; results+=("$server imap clients=$clients $r")
  done
  r=$(python3 "$HERE/access_load.py" pop3 "$pop3" $USER_NAME $PASSWORD 4 "$SECONDS_PER_CASE")
  log "$server pop3 clients=4: $r"; results+=("$server pop3 clients=4 $r")
  r=$(python3 "$HERE/access_load.py" idle "$imap" $USER_NAME $PASSWORD "$IDLE_SESSIONS" "$ROOT/$server/run/master.pid")
  log "$server idle: $r"; results+=("$server idle $r")
  stop_instance "$server"
done
report "access benchmark: $MESSAGES messages, ${SECONDS_PER_CASE}s per case, $IDLE_SESSIONS idle sessions"
