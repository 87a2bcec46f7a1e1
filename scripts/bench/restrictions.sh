#!/usr/bin/env bash
# What the tutorials' full restriction list costs per message: Tern vs. Debian's Postfix with the same
# main.cf, in one run.
#
# Both servers run twice, in a private network + mount namespace whose dnsmasq answers every DNS question
# (scripts/lib/test-dns.sh; the machine's resolv.conf is not touched):
#   minimal    smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
#   tutorial   smtpd_helo_required, the helo, sender, relay and recipient restriction lists of the common
#              tutorials (FQDN and syntax checks, reject_unknown_sender_domain / _recipient_domain /
#              _reverse_client_hostname, reject_unlisted_recipient, reject_unauth_pipelining, a DNSBL, an
#              RHSBL for sender and HELO, check_client_access / check_sender_access tables) and a
#              header_checks table.
# The client (smtp-source from 127.0.0.1, HELO client.example, sender@client.example) is outside
# mynetworks, so every restriction is evaluated for every message; the DNS answers are NXDOMAIN for the
# lists and an MX for client.example. Messages go to a Maildir as in smtp-delivery.sh.
# The report shows, per case, msgs/s for both profiles and the time per message the tutorial list adds
# (1/rate(tutorial) - 1/rate(minimal), in ms; at N sessions that is wall-clock time per message, not CPU).
#
# usage (as root):  scripts/bench/restrictions.sh
# environment:  as smtp-delivery.sh (TERN_BIN, PF_BIN_DIR, BENCH_ROOT, SERVERS, ROUNDS (default 1 here),
#               WAIT_TIMEOUT, KEEP); CASES (default "1:1024:1000 20:1024:3000").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/test-dns.sh
. "$HERE/../lib/test-dns.sh"
test_dns_enter "$@"
DNS_ROOT=/tmp/tern-bench-dns
rm -rf "$DNS_ROOT"
test_dns_start "$DNS_ROOT" --mx-host=client.example,mx.client.example,10 \
    --address=/mx.client.example/127.0.0.60 --mx-host=bench.test,mail.bench.test,10 \
    --address=/mail.bench.test/127.0.0.1 \
    || { echo "dnsmasq did not start" >&2; exit 1; }

CASES=${CASES:-"1:1024:1000 20:1024:3000"}
ROUNDS=${ROUNDS:-1}
SMTP_SOURCE_OPTS="-M client.example"
MYNETWORKS=127.0.0.99/32
# shellcheck source=scripts/bench/lib.sh
source "$HERE/lib.sh"
bench_extra_cleanup() { test_dns_stop "$DNS_ROOT"; }
bench_maildir_setup
measure() { measure_maildir "$@"; }

TABLES=/tmp/tern-bench-tables
mkdir -p "$TABLES"
chmod 755 "$TABLES"
printf '192.0.2.0/24 REJECT spam source\n198.51.100.7 OK\n' > "$TABLES/client_access"
printf '/^spammer@/ REJECT\n/@bad\\.example$/ REJECT no thanks\n' > "$TABLES/sender_access"
printf '/^Subject: .*viagra/ REJECT\n/^X-Mailer: BadMailer/ REJECT\n/^Received: .*\\[192\\.0\\.2\\./ WARN\n' \
    > "$TABLES/header_checks"
TUTORIAL="smtpd_helo_required = yes
smtpd_client_restrictions = permit_mynetworks, check_client_access cidr:$TABLES/client_access,
    reject_rbl_client zen.test
smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender, reject_unknown_sender_domain,
    check_sender_access regexp:$TABLES/sender_access, reject_rhsbl_sender dbl.test
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_pipelining, reject_non_fqdn_recipient,
    reject_unknown_recipient_domain, reject_unlisted_recipient, reject_unknown_reverse_client_hostname,
    reject_rhsbl_helo dbl.test
header_checks = regexp:$TABLES/header_checks
"

declare -A PROFILE_RATE
for profile in minimal tutorial; do
    if [ "$profile" = tutorial ]; then MAIN_CF_EXTRA=$TUTORIAL; else MAIN_CF_EXTRA=""; fi
    log "profile $profile"
    bench_start_servers
    bench_warm_up
    bench_run_cases
    for key in "${!RATE[@]}"; do PROFILE_RATE[$profile,$key]=${RATE[$key]}; done
    for s in $SERVERS; do stop_server "$s"; done
done

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) CPUs); median of $ROUNDS round(s)"
echo "Restriction cost: msgs/s delivered (higher is better) and ms added per message by the tutorial list"
printf '%-24s %-8s %10s %10s %12s   %s\n' "case" "server" "minimal" "tutorial" "+ms/msg" "(accepted/s: minimal / tutorial)"
for c in $CASES; do
    IFS=: read -r sessions size count <<<"$c"
    for s in $SERVERS; do
        m=${PROFILE_RATE[minimal,$s,$c]:--}; t=${PROFILE_RATE[tutorial,$s,$c]:--}
        cost=$(awk -v a="${m%\*}" -v b="${t%\*}" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", 1000 / b - 1000 / a; else print "-" }')
        printf '%-24s %-8s %10s %10s %12s   %s / %s\n' "$sessions sess x $((size / 1024)) KiB x $count" \
            "$(srv_name "$s")" "$m" "$t" "$cost" \
            "${PROFILE_RATE[minimal,$s,$c,acc]:--}" "${PROFILE_RATE[tutorial,$s,$c,acc]:--}"
    done
done
echo "* = timed out after ${WAIT_TIMEOUT}s."
exit 0
