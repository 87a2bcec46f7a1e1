#!/usr/bin/env bash
# SMTP AUTH across implementations, both ways, over Dovecot's auth protocol (smtpd_sasl_type = dovecot):
#   1. Tern's smtpd against a real Dovecot 2.3 auth socket;
#   2. a real Postfix smtpd against Tern's auth service (`tern dovecot`, the same dovecot.conf).
# Each side: AUTH PLAIN with an initial response and AUTH LOGIN succeed (235), a wrong password gets
# `535 5.7.8 Error: authentication failed`, and the smtpd logs the failure with `sasl_username=`.
#
# usage (as root):  scripts/interop/sasl-dovecot.sh
# environment:  TERN_BIN (default: the debug build of this repo), PF_BIN_DIR (default /usr/sbin),
#               KEEP=1 keeps the work area /tmp/tern-sasl-interop.
# needs: dovecot-core (Debian), postfix, python3; the accounts dovecot and dovenull.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT=/tmp/tern-sasl-interop
PF_BIN_DIR=${PF_BIN_DIR:-/usr/sbin}
# shellcheck source=../lib/master-cf.sh
. "$REPO/scripts/lib/master-cf.sh"
# shellcheck source=../lib/mta-instance.sh
. "$REPO/scripts/lib/mta-instance.sh"

log() { printf '[sasl-interop %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (Dovecot and Postfix)"
[ -x /usr/sbin/dovecot ] || die "no Dovecot (apt-get install dovecot-core)"
[ -x "$PF_BIN_DIR/postfix" ] || die "no Postfix in $PF_BIN_DIR"
if [ -z "${TERN_BIN:-}" ]; then
    (cd "$REPO" && swift build --product tern >&2) || die "swift build failed"
    TERN_BIN="$(cd "$REPO" && swift build --show-bin-path)/tern"
fi
TERN_BIN=$(readlink -f "$TERN_BIN")

rm -rf "$ROOT"
mkdir -p "$ROOT/bin"
chmod 755 "$ROOT" "$ROOT/bin"
"$TERN_BIN" link "$ROOT/bin" > /dev/null

# dovecot.conf for both auth servers: a passwd-file user, the auth socket inside the MTA's queue_directory
# (private/auth) as Debian's tutorials set it up.
write_dovecot_conf() {  # dir socket
    local d=$1
    mkdir -p "$d/run" "$d/state"
    echo "carla:{PLAIN}secret:65534:65534::/nonexistent" > "$d/passwd"
    chmod 644 "$d/passwd"
    cat > "$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = passwd-file
  args = $d/passwd
}
service auth {
  unix_listener $2 {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

write_mta() {  # name port
    local d="$ROOT/$1"
    mkdir -p "$d/conf" "$d/queue"
    cat > "$d/conf/main.cf" <<EOF
myhostname = mx.sasl.test
mydomain = sasl.test
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.99/32
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
defer_transports = smtp
$(mta_housekeeping "$d")
EOF
    write_master_cf "$d/conf/master.cf" "127.0.0.1:$2"
    printf 'postmaster: root\n' > "$d/conf/aliases"
}

bin_of() { [ "$1" = postfix ] && echo "$PF_BIN_DIR" || echo "$ROOT/bin"; }

start_mta() { mta_start "$1" "$ROOT/$1" "$(bin_of "$1")" 127.0.0.1 "$2"; }  # name port

stop_all() {
    local name
    for name in tern postfix; do mta_stop "$ROOT/$name" "$(bin_of "$name")"; done
    [ -f "$ROOT/dovecot/run/master.pid" ] && kill "$(cat "$ROOT/dovecot/run/master.pid")" 2>/dev/null || true
    [ -d "$ROOT/ternauth" ] && timeout 40 "$ROOT/bin/dovecot" -c "$ROOT/ternauth/dovecot.conf" stop \
        > /dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$ROOT"
}
trap stop_all EXIT

postfix_allow_config_dir "$PF_BIN_DIR" "$ROOT/postfix/conf"

FAILED=0
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; FAILED=1; }

wait_for_socket() {  # path
    local i
    for i in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.1; done
    return 1
}

# AUTH PLAIN (initial response), AUTH LOGIN and a wrong password against PORT; prints one line per try.
auth_tries() {  # port
    python3 - "$1" <<'EOF'
import base64, smtplib, sys
port = int(sys.argv[1])
def attempt(mechanism, password):
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as s:
        s.ehlo()
        try:
            if mechanism == "PLAIN":
                token = base64.b64encode(b"\0carla\0" + password.encode()).decode()
                code, text = s.docmd("AUTH", "PLAIN " + token)
            else:
                code, text = s.docmd("AUTH", "LOGIN")
                code, text = s.docmd(base64.b64encode(b"carla").decode())
                code, text = s.docmd(base64.b64encode(password.encode()).decode())
            return f"{code} {text.decode()}"
        finally:
            s.docmd("QUIT")
print(attempt("PLAIN", "secret"))
print(attempt("LOGIN", "secret"))
print(attempt("PLAIN", "wrong"))
EOF
}

check_tries() {  # description port maillog
    local out
    out=$(auth_tries "$2" 2>&1) || true
    if [ "$(sed -n 1p <<<"$out")" = "235 2.7.0 Authentication successful" ] \
        && [ "$(sed -n 2p <<<"$out")" = "235 2.7.0 Authentication successful" ] \
        && [[ "$(sed -n 3p <<<"$out")" == "535 5.7.8 Error: authentication failed"* ]]; then
        pass "$1: PLAIN and LOGIN accepted, wrong password refused"
    else
        fail "$1: $out"
    fi
    sleep 1
    if grep -Eq "warning: [^ ]+\[127\.0\.0\.1\]: SASL PLAIN authentication failed: .*sasl_username=carla" "$3" \
        && grep -q " auth=0/1 quit=1 commands=2/3" "$3"; then
        pass "$1: smtpd logged the failure as fail2ban's postfix-sasl filter expects"
    else
        fail "$1: smtpd log lines missing in $3"
    fi
}

# ---------------------------------------------------------------- 1. Tern's smtpd, Dovecot's auth
# The MTA first (it makes queue_directory/private), then the auth server's socket in it.
write_mta tern 22125
start_mta tern 22125
write_dovecot_conf "$ROOT/dovecot" "$ROOT/tern/queue/private/auth"
/usr/sbin/dovecot -c "$ROOT/dovecot/dovecot.conf" || die "dovecot did not start"
wait_for_socket "$ROOT/tern/queue/private/auth" || die "no Dovecot auth socket"
check_tries "Tern smtpd -> Dovecot auth" 22125 "$ROOT/tern/maillog"

# ---------------------------------------------------------------- 2. Postfix's smtpd, Tern's auth
write_mta postfix 22126
start_mta postfix 22126
write_dovecot_conf "$ROOT/ternauth" "$ROOT/postfix/queue/private/auth"
"$ROOT/bin/dovecot" -c "$ROOT/ternauth/dovecot.conf" > "$ROOT/ternauth/start.out" 2>&1 \
    || die "tern dovecot did not start: $(cat "$ROOT/ternauth/start.out")"
wait_for_socket "$ROOT/postfix/queue/private/auth" || die "no Tern auth socket"
check_tries "Postfix smtpd -> Tern auth" 22126 "$ROOT/postfix/maillog"

if [ "$FAILED" = 0 ]; then log "all SASL interop checks passed"; else log "some SASL interop checks FAILED"; fi
exit "$FAILED"
