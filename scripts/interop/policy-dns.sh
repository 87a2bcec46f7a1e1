#!/usr/bin/env bash
# Access policy against real DNS answers, Tern side by side with the real Postfix: both get the same
# main.cf (the tutorials' restriction lists with DNSBL, DNSWL, RHSBL, unknown-domain and client-name
# checks, a restriction class) inside a private network + mount namespace whose dnsmasq serves the test
# zones. The machine's /etc/resolv.conf is never changed (scripts/lib/test-dns.sh).
#
#   127.0.0.20:25  Tern      mx.policy.test    127.0.0.30:25  Postfix   mx.policy.test
#   127.0.0.1      a client in mynetworks      127.0.0.5  on bl.test       127.0.0.6  on bl.test and wl.test
#   127.0.0.7      PTR host7.test, confirmed   127.0.0.8  PTR liar.test, whose A record points elsewhere
#   127.0.0.9      an ordinary outside client  127.0.0.53 dnsmasq
#
# Checks (scripts/interop/policy_sessions.py): every session's replies are the same from both servers,
# the open-relay cases (`%` hack, `!` paths, quoted local parts, source routes, `@[ip]`, upper case,
# trailing dots) are refused from outside mynetworks, and afterwards the logs show that nothing but the
# mynetworks client's message was queued for a remote destination and that both servers logged the same
# NOQUEUE rejections and delivery results.
#
# usage (as root):  scripts/interop/policy-dns.sh
# environment:  TERN_BIN (default: the debug build of this repo), PF_BIN_DIR (default /usr/sbin),
#               KEEP=1 keeps the work area /tmp/tern-policy-dns.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT=/tmp/tern-policy-dns
PF_BIN_DIR=${PF_BIN_DIR:-/usr/sbin}
# shellcheck source=../lib/master-cf.sh
. "$REPO/scripts/lib/master-cf.sh"
# shellcheck source=../lib/mta-instance.sh
. "$REPO/scripts/lib/mta-instance.sh"
# shellcheck source=../lib/test-dns.sh
. "$REPO/scripts/lib/test-dns.sh"

log() { printf '[policy-dns %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${TERN_TEST_DNS_INSIDE:-}" ]; then
    [ -x "$PF_BIN_DIR/postfix" ] || die "no Postfix in $PF_BIN_DIR"
    if [ -z "${TERN_BIN:-}" ]; then
        (cd "$REPO" && swift build --product tern >&2) || die "swift build failed"
        TERN_BIN="$(cd "$REPO" && swift build --show-bin-path)/tern"
    fi
    export TERN_BIN=$(readlink -f "$TERN_BIN")
fi
TEST_DNS_ADDRESSES="127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.20 127.0.0.30"
test_dns_enter "$@"

# ---------------------------------------------------------------- inside the namespaces
rm -rf "$ROOT"
mkdir -p "$ROOT/bin"
chmod 755 "$ROOT" "$ROOT/bin"
test_dns_start "$ROOT" \
    --address=/5.0.0.127.bl.test/127.0.0.2 --txt-record=5.0.0.127.bl.test,"Listed by bl.test" \
    --address=/6.0.0.127.bl.test/127.0.0.2 --address=/6.0.0.127.wl.test/127.0.0.2 \
    --ptr-record=7.0.0.127.in-addr.arpa,host7.test --address=/host7.test/127.0.0.7 \
    --ptr-record=8.0.0.127.in-addr.arpa,liar.test --address=/liar.test/127.0.0.99 \
    --mx-host=good.test,mx.good.test,10 --address=/mx.good.test/127.0.0.50 \
    --address=/spammer.test/127.0.0.51 --address=/spammer.test.rhsbl.test/127.0.0.2 \
    --mx-host=remote.test,mx.remote.test,10 --address=/mx.remote.test/127.0.0.52 \
    --mx-host=policy.test,mx.policy.test,10 \
    || die "dnsmasq did not start"

"$TERN_BIN" link "$ROOT/bin" > /dev/null
OWNER_UID=$(id -u postfix)
OWNER_GID=$(id -g postfix)

write_instance() {  # name ip
    local name=$1 ip=$2 d="$ROOT/$1"
    mkdir -p "$d/conf" "$d/queue" "$d/vmail"
    chown "$OWNER_UID:$OWNER_GID" "$d/vmail"
    printf '127.0.0.7 strict\n127.0.0.8 strict\n' > "$d/conf/client_access"
    cat > "$d/conf/main.cf" <<EOF
myhostname = mx.policy.test
mydomain = policy.test
myorigin = \$mydomain
mydestination = localhost
inet_interfaces = $ip
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
virtual_mailbox_domains = policy.test
virtual_mailbox_base = $d/vmail
virtual_mailbox_maps = inline:{ user@policy.test=box/ }
virtual_uid_maps = static:$OWNER_UID
virtual_gid_maps = static:$OWNER_GID
defer_transports = smtp
# Tern's documented differences, out of the comparison: its mail_name and the missing CHUNKING.
smtpd_banner = \$myhostname ESMTP
smtpd_discard_ehlo_keywords = chunking
smtpd_helo_required = yes
smtpd_restriction_classes = strict
strict = reject_unknown_client_hostname
smtpd_client_restrictions = permit_mynetworks, check_client_access cidr:$d/conf/client_access,
    permit_dnswl_client wl.test, reject_rbl_client bl.test
smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender, reject_unknown_sender_domain,
    reject_rhsbl_sender rhsbl.test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unknown_recipient_domain,
    reject_unlisted_recipient, reject_rhsbl_helo rhsbl.test
$(mta_housekeeping "$d")
EOF
    write_master_cf "$d/conf/master.cf" "$ip:25"
    printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' > "$d/conf/aliases"
}

bin_of() { [ "$1" = postfix ] && echo "$PF_BIN_DIR" || echo "$ROOT/bin"; }

start_instance() { mta_start "$1" "$ROOT/$1" "$(bin_of "$1")" "$2" 25; }  # name ip

stop_all() {
    local name
    for name in tern postfix; do
        mta_stop "$ROOT/$name" "$(bin_of "$name")"
    done
    test_dns_stop "$ROOT"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$ROOT"
}
trap stop_all EXIT

postfix_allow_config_dir "$PF_BIN_DIR" "$ROOT/postfix/conf"

write_instance tern 127.0.0.20
write_instance postfix 127.0.0.30
log "starting Tern and Postfix"
start_instance tern 127.0.0.20
start_instance postfix 127.0.0.30

# ---------------------------------------------------------------- checks
FAILED=0
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; FAILED=1; }

python3 "$HERE/policy_sessions.py" 127.0.0.20 127.0.0.30 || FAILED=1

# What went to the deferred transport is what would have been relayed: only the mynetworks client's.
sleep 3
for name in tern postfix; do
    relayed=$(grep -o 'to=<[^>]*>, relay=none, .*status=deferred (deferred transport)' "$ROOT/$name/maillog" \
        | sed 's/,.*//' | sort -u | tr '\n' ' ')
    if [ "$relayed" = "to=<inside@remote.test> " ]; then
        pass "$name: only the mynetworks client's message was queued for a remote destination"
    else
        fail "$name: queued for remote destinations: ${relayed:-nothing} (expected to=<inside@remote.test>)"
    fi
done

# Least privilege: the process that holds the accepted SMTP connection is not root.
exec 7<>/dev/tcp/127.0.0.20/25
read -r -t 10 greeting <&7 || true
owners=$(ss -Htnp state established '( sport = :25 )' dst 127.0.0.0/8 2>/dev/null \
    | grep '127.0.0.20:25' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
exec 7>&-
users=""
for pid in $owners; do users+="$(ps -o user= -p "$pid") "; done
if [ -n "$owners" ] && [[ " $users" != *" root "* ]]; then
    pass "Tern's SMTP connections are served by an unprivileged process ($users)"
else
    fail "Tern's SMTP connection owners: ${users:-none found} (greeting: ${greeting:-none})"
fi

noqueue() { sed -n 's/.*NOQUEUE: //p' "$ROOT/$1/maillog" | sed 's/127\.0\.0\.[23]0/SELF/g' | sort; }
if diff <(noqueue tern) <(noqueue postfix) > "$ROOT/noqueue.diff"; then
    pass "both servers logged the same $(noqueue tern | wc -l) NOQUEUE rejections"
else
    fail "the NOQUEUE log lines differ (< Tern, > Postfix):"
    cat "$ROOT/noqueue.diff" >&2
fi

deliveries() {
    grep -o 'to=<.*status=[a-z]*' "$ROOT/$1/maillog" | sed 's/delay=[^,]*, delays=[^,]*, //' | sort
}
if diff <(deliveries tern) <(deliveries postfix) > "$ROOT/deliveries.diff"; then
    pass "both servers logged the same $(deliveries tern | wc -l) delivery results"
else
    fail "the delivery log lines differ (< Tern, > Postfix):"
    cat "$ROOT/deliveries.diff" >&2
fi

if [ "$FAILED" = 0 ]; then log "all policy checks passed"; else log "some policy checks FAILED"; fi
exit "$FAILED"
