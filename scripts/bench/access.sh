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
USER_NAME=benchuser
PASSWORD=bench-Secret
log() { printf '[access-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x /usr/sbin/dovecot ] || [[ " $SERVERS " != *" dovecot "* ]] || die "Dovecot not installed"
if [ -z "${TERN_BIN:-}" ]; then
  log "building tern (release)"
  (cd "$REPO" && swift build -c release --product tern >&2) || die "swift build failed"
  TERN_BIN="$(cd "$REPO" && swift build -c release --show-bin-path)/tern"
fi
ulimit -n 65536 || true

declare -A IMAP_PORT=([tern]=22411 [dovecot]=22421) POP3_PORT=([tern]=22412 [dovecot]=22422)
declare -A START=([tern]="$TERN_BIN dovecot -c" [dovecot]="/usr/sbin/dovecot -c")

owner_uid=$(id -u nobody); owner_gid=$(id -g nobody)
make_instance() {  # make_instance NAME
  local d=$ROOT/$1
  rm -rf "$d"; mkdir -p "$d/run" "$d/state"; chmod 755 "$ROOT" "$d"
  echo "$USER_NAME:{PLAIN}$PASSWORD:$owner_uid:$owner_gid::$d/home::" >"$d/users"
  cp -a "$ROOT/template-home" "$d/home"
  cat >"$d/dovecot.conf" <<EOC
protocols = imap pop3
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
default_process_limit = 5000
default_client_limit = 10000
first_valid_uid = $owner_uid
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/users
}
namespace inbox {
  inbox = yes
  separator = /
}
protocol imap {
  mail_max_userip_connections = 100000
}
protocol pop3 {
  mail_max_userip_connections = 100000
}
service imap-login {
  inet_listener imap {
    port = ${IMAP_PORT[$1]}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${POP3_PORT[$1]}
  }
  inet_listener pop3s {
    port = 0
  }
}
EOC
}

log "making a $MESSAGES-message Maildir"
rm -rf "$ROOT"; mkdir -p "$ROOT/template-home/Maildir/"{cur,new,tmp}
python3 - "$ROOT/template-home/Maildir/cur" "$MESSAGES" <<'PY'
import sys, random
random.seed(7)
words = "alpha beta gamma delta report invoice meeting lunch server backup status weekly".split()
for i in range(1, int(sys.argv[2]) + 1):
    body = "\n".join(" ".join(random.choice(words) for _ in range(12)) for _ in range(random.randint(5, 60)))
    text = (f"From: Sender {i % 17} <sender{i % 17}@example.test>\nTo: benchuser@bench.test\n"
            f"Subject: message {i} {random.choice(words)}\nDate: Mon, 02 Sep 2024 10:{i % 60:02d}:00 +0000\n"
            f"Message-ID: <{i}@bench.test>\n\n{body}\n")
    open(f"{sys.argv[1]}/{1700000000 + i}.M{i}P1.bench:2,{'S' if i % 3 else ''}", "w").write(text)
PY
chown -R nobody:nogroup "$ROOT/template-home"

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
  ${START[$server]} "$ROOT/$server/dovecot.conf" stop || true
  sleep 1
done
echo "== access benchmark: $MESSAGES messages, ${SECONDS_PER_CASE}s per case, $IDLE_SESSIONS idle sessions =="
printf '%s\n' "${results[@]}"
[ -n "${KEEP:-}" ] || rm -rf "$ROOT"
