#!/usr/bin/env bash
# Outbound interop by MX: a Tern instance sends mail to a second Tern instance and to a real Postfix, found
# through MX and A records that dnsmasq serves, all inside a private network + mount namespace. The
# machine's /etc/resolv.conf is never changed (scripts/lib/test-dns.sh).
#
#   127.0.0.1:25   tern1   the sender (domain tern1.test; bounces come back to its own mailboxes)
#   127.0.0.2:25   tern2   mx.tern2.test, MX for tern2.test, multi.test (second MX) and amx.test (A record only)
#   127.0.0.3:25   postfix mx.postfix.test, MX for postfix.test; STARTTLS with a test CA's certificate
#   127.0.0.53:53  dnsmasq
#   127.0.0.9      down.multi.test, the first MX of multi.test: nothing listens there
#
# Checks: MX delivery Tern -> Tern and Tern -> Postfix (with TLS, `Trusted TLS connection established`),
# the next MX when the first refuses connections, A fallback without MX, a bounce for a domain that does not
# exist, and Postfix -> Tern by MX.
#
# usage (as root):  scripts/interop/outbound-mx.sh
# environment:  TERN_BIN (default: the debug build of this repo), PF_BIN_DIR (default /usr/sbin),
#               KEEP=1 keeps the work area /tmp/tern-interop.
# needs: unshare, ip, dnsmasq (Debian: dnsmasq-base), postfix, openssl, python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT=/tmp/tern-interop
PF_BIN_DIR=${PF_BIN_DIR:-/usr/sbin}
# shellcheck source=../lib/master-cf.sh
. "$REPO/scripts/lib/master-cf.sh"
# shellcheck source=../lib/mta-instance.sh
. "$REPO/scripts/lib/mta-instance.sh"
# shellcheck source=../lib/test-dns.sh
. "$REPO/scripts/lib/test-dns.sh"

log() { printf '[interop %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${TERN_TEST_DNS_INSIDE:-}" ]; then
    for tool in openssl python3; do command -v $tool >/dev/null || die "$tool not found"; done
    [ -x "$PF_BIN_DIR/postfix" ] || die "no Postfix in $PF_BIN_DIR"
    if [ -z "${TERN_BIN:-}" ]; then
        (cd "$REPO" && swift build --product tern >&2) || die "swift build failed"
        TERN_BIN="$(cd "$REPO" && swift build --show-bin-path)/tern"
    fi
    export TERN_BIN=$(readlink -f "$TERN_BIN")
fi
TEST_DNS_ADDRESSES="127.0.0.2 127.0.0.3"  # Postfix wants them listed
test_dns_enter "$@"

# ---------------------------------------------------------------- inside the namespaces
rm -rf "$ROOT"
mkdir -p "$ROOT/bin"
chmod 755 "$ROOT" "$ROOT/bin"
test_dns_start "$ROOT" \
    --mx-host=tern2.test,mx.tern2.test,10 --host-record=mx.tern2.test,127.0.0.2 \
    --mx-host=postfix.test,mx.postfix.test,10 --host-record=mx.postfix.test,127.0.0.3 \
    --mx-host=tern1.test,mx.tern1.test,10 --host-record=mx.tern1.test,127.0.0.1 \
    --mx-host=multi.test,down.multi.test,5 --mx-host=multi.test,mx.tern2.test,10 \
    --host-record=down.multi.test,127.0.0.9 --host-record=amx.test,127.0.0.2 \
    || die "dnsmasq did not start"

FAILED=0
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; FAILED=1; }

# ---------------------------------------------------------------- certificates (test CA)
(
    cd "$ROOT"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Interop CA' 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout pf.key -out pf.csr -subj '/CN=mx.postfix.test' 2>/dev/null
    printf 'subjectAltName=DNS:mx.postfix.test\n' > ext.cnf
    openssl x509 -req -in pf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out pf.pem -days 2 -extfile ext.cnf 2>/dev/null
    chmod 644 ca.pem pf.pem
    chmod 600 pf.key
)

# ---------------------------------------------------------------- instances
"$TERN_BIN" link "$ROOT/bin" > /dev/null
OWNER_UID=$(id -u postfix)
OWNER_GID=$(id -g postfix)

write_instance() {  # name ip hostname domains extra-main.cf-lines
    local name=$1 ip=$2 host=$3 domains=$4 extra=$5 d="$ROOT/$1"
    mkdir -p "$d/conf" "$d/queue" "$d/vmail"
    chown "$OWNER_UID:$OWNER_GID" "$d/vmail"
    cat > "$d/conf/main.cf" <<EOF
myhostname = $host
mydomain = ${host#*.}
myorigin = \$mydomain
mydestination = \$myhostname, localhost
inet_interfaces = $ip
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = $domains
virtual_mailbox_base = $d/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$OWNER_UID
virtual_gid_maps = static:$OWNER_GID
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
syslog_name = $name
$(mta_housekeeping "$d")
$extra
EOF
    write_master_cf "$d/conf/master.cf" "$ip:25"
    printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' > "$d/conf/aliases"
}

bin_of() { [ "$1" = postfix ] && echo "$PF_BIN_DIR" || echo "$ROOT/bin"; }

start_instance() { mta_start "$1" "$ROOT/$1" "$(bin_of "$1")" "$2" 25; }  # name ip

stop_all() {
    local name
    for name in tern1 tern2 postfix; do
        mta_stop "$ROOT/$name" "$(bin_of "$name")"
    done
    test_dns_stop "$ROOT"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$ROOT"
}
trap stop_all EXIT

postfix_allow_config_dir "$PF_BIN_DIR" "$ROOT/postfix/conf"

write_instance tern1 127.0.0.1 mx.tern1.test tern1.test \
    "smtp_tls_security_level = may
smtp_tls_CAfile = $ROOT/ca.pem"
write_instance tern2 127.0.0.2 mx.tern2.test "tern2.test, multi.test, amx.test" ""
write_instance postfix 127.0.0.3 mx.postfix.test postfix.test \
    "smtpd_tls_cert_file = $ROOT/pf.pem
smtpd_tls_key_file = $ROOT/pf.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1"

log "starting tern1, tern2 and postfix"
start_instance tern1 127.0.0.1
start_instance tern2 127.0.0.2
start_instance postfix 127.0.0.3

# ---------------------------------------------------------------- helpers
send_tern1() {  # recipient token
    printf 'From: sender@tern1.test\nTo: %s\nSubject: %s\n\ninterop %s\n' "$1" "$2" "$2" \
        | MAIL_CONFIG="$ROOT/tern1/conf" "$ROOT/bin/sendmail" -C "$ROOT/tern1/conf" -f sender@tern1.test -i "$1"
}

wait_for() {  # description timeout command...
    local what=$1 limit=$2 i; shift 2
    for i in $(seq 1 $((limit * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

in_box() { grep -rlq -- "$2" "$ROOT/$1/vmail/box/new" 2>/dev/null; }
in_log() { grep -Eq -- "$2" "$ROOT/$1/maillog" 2>/dev/null; }

check_box() {  # name token description
    if wait_for "$3" 60 in_box "$1" "$2"; then pass "$3"; else fail "$3 (see $ROOT/$1/maillog)"; fi
}

check_log() {  # name regex description
    if wait_for "$3" 60 in_log "$1" "$2"; then pass "$3"; else fail "$3: no line matching /$2/ in $1's log"; fi
}

# ---------------------------------------------------------------- checks
t=tern2-$RANDOM$RANDOM
send_tern1 "user@tern2.test" "$t"
check_box tern2 "$t" "Tern -> Tern by MX (tern2.test MX mx.tern2.test)"
check_log tern1 "to=<user@tern2\.test>, relay=mx\.tern2\.test\[127\.0\.0\.2\]:25, .*status=sent" "tern1 logs the relay"

t=postfix-$RANDOM$RANDOM
send_tern1 "user@postfix.test" "$t"
check_box postfix "$t" "Tern -> Postfix by MX"
check_log tern1 "Trusted TLS connection established to mx\.postfix\.test\[127\.0\.0\.3\]:25: TLSv1\.[23]" \
    "Tern's STARTTLS to Postfix with the test CA: Trusted"
check_log postfix "TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.[23]" \
    "Postfix saw the TLS connection"

t=multi-$RANDOM$RANDOM
send_tern1 "user@multi.test" "$t"
check_box tern2 "$t" "second MX when the first (down.multi.test) refuses connections"

t=amx-$RANDOM$RANDOM
send_tern1 "user@amx.test" "$t"
check_box tern2 "$t" "A record when there is no MX (amx.test)"

t=nx-$RANDOM$RANDOM
send_tern1 "user@nxdomain.test" "$t"
check_log tern1 "to=<user@nxdomain\.test>, .*status=bounced \(Host or domain name not found" \
    "bounce for a domain that does not exist"
check_box tern1 "Undelivered Mail Returned to Sender" "the sender gets the non-delivery report"

t=pf2tern-$RANDOM$RANDOM
python3 - "$t" <<'EOF' || fail "SMTP submission to Postfix"
import smtplib, sys
token = sys.argv[1]
with smtplib.SMTP("127.0.0.3", 25, local_hostname="client.test", timeout=30) as s:
    s.sendmail("someone@postfix.test", ["user@tern2.test"], f"Subject: {token}\n\nfrom postfix {token}\n")
EOF
check_box tern2 "$t" "Postfix -> Tern by MX"
check_log postfix "to=<user@tern2\.test>, relay=mx\.tern2\.test\[127\.0\.0\.2\]:25, .*status=sent" "Postfix logs the relay to Tern"

if [ "$FAILED" = 0 ]; then log "all interop checks passed"; else log "some interop checks FAILED"; fi
exit "$FAILED"
