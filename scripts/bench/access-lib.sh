#!/bin/bash
# Shared by scripts/bench/access.sh and imap-large.sh: one Tern and one Dovecot instance (make_instance NAME)
# on the same generated Maildir of MESSAGES messages, each with its own dovecot.conf, users file and ports.
# The caller sets HERE, REPO, ROOT, MESSAGES, SERVERS and optionally BENCH_NAME and EXTRA_CONF (appended to
# both dovecot.conf files).
USER_NAME=benchuser
PASSWORD=bench-Secret
log() { printf '[%s %s] %s\n' "${BENCH_NAME:-access-bench}" "$(date +%H:%M:%S)" "$*" >&2; }
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
${EXTRA_CONF:-}
EOC
}

stop_instance() {  # stop_instance NAME
  ${START[$1]} "$ROOT/$1/dovecot.conf" stop || true
  sleep 1
}

report() {  # report TITLE: the results collected in `results`, then the work area goes unless KEEP is set
  echo "== $1 =="
  printf '%s\n' "${results[@]}"
  [ -n "${KEEP:-}" ] || rm -rf "$ROOT"
}

log "making a $MESSAGES-message Maildir"
rm -rf "$ROOT"; mkdir -p "$ROOT/template-home/Maildir/"{cur,new,tmp}
# Every third message answers an earlier one (Re: subject, In-Reply-To) for THREAD; one in 500 mentions a
# quokka, the rare word of imap-large.sh's SEARCH TEXT.
python3 - "$ROOT/template-home/Maildir/cur" "$MESSAGES" <<'PY'
import sys, random
random.seed(7)
words = "alpha beta gamma delta report invoice meeting lunch server backup status weekly".split()
for i in range(1, int(sys.argv[2]) + 1):
    body = "\n".join(" ".join(random.choice(words) for _ in range(12)) for _ in range(random.randint(5, 60)))
    if i % 500 == 0:
        body += "\nquokka sighting near the server room"
    parent = i - 1 - (i * 7919) % min(i - 1, 50) if i % 3 == 0 and i > 50 else None
    subject = f"Re: message {parent}" if parent else f"message {i} {random.choice(words)}"
    text = (f"From: Sender {i % 17} <sender{i % 17}@example.test>\nTo: benchuser@bench.test\n"
            f"Subject: {subject}\nDate: {(i * 13) % 28 + 1:02d} Sep 2024 {(i // 60) % 24:02d}:{i % 60:02d}:00 +0000\n"
            f"Message-ID: <{i}@bench.test>\n" + (f"In-Reply-To: <{parent}@bench.test>\n" if parent else "")
            + f"\n{body}\n")
    open(f"{sys.argv[1]}/{1700000000 + i}.M{i}P1.bench:2,{'S' if i % 3 else ''}", "w").write(text)
PY
chown -R nobody:nogroup "$ROOT/template-home"

