# shellcheck shell=bash
# A private network + mount namespace with its own DNS, for scripts that need DNS answers (DNSBL zones,
# MX records, PTR records) without touching the machine: the namespace bind-mounts its own resolv.conf
# (nameserver 127.0.0.53, a dnsmasq) and a hosts file that knows only localhost.
#
# Sourced. Call `test_dns_enter "$@"` at the top of the script: outside the namespace it re-runs the
# script inside one (and does not return); inside it returns. Then `test_dns_start ROOT DNSMASQ-ARGS...`
# brings up lo with the 127.0.0.x addresses in TEST_DNS_ADDRESSES and starts dnsmasq, which answers
# authoritatively (NXDOMAIN / NODATA, never REFUSED) for .test, .example and the reverse zone of 127/8;
# `test_dns_stop ROOT` stops it.

test_dns_enter() {
    [ -n "${TERN_TEST_DNS_INSIDE:-}" ] && return 0
    [ "$(id -u)" = 0 ] || { echo "run as root (network namespace)" >&2; exit 1; }
    command -v unshare >/dev/null && command -v ip >/dev/null && command -v dnsmasq >/dev/null \
        || { echo "needs unshare, ip and dnsmasq (Debian: util-linux, iproute2, dnsmasq-base)" >&2; exit 1; }
    exec unshare --net --mount --fork env TERN_TEST_DNS_INSIDE=1 bash "$0" "$@"
}

test_dns_start() {  # root dnsmasq-args...
    local root=$1 address; shift
    mount --make-rprivate /
    ip link set lo up
    for address in ${TEST_DNS_ADDRESSES:-} 127.0.0.53; do ip addr add "$address/8" dev lo; done
    mkdir -p "$root"
    echo "nameserver 127.0.0.53" > "$root/resolv.conf"
    mount --bind "$root/resolv.conf" /etc/resolv.conf
    printf '127.0.0.1 localhost\n' > "$root/hosts"
    mount --bind "$root/hosts" /etc/hosts
    # Until the script sets its own EXIT trap (which must call test_dns_stop too), stop dnsmasq on exit.
    # shellcheck disable=SC2064
    trap "test_dns_stop '$root'" EXIT
    dnsmasq --no-resolv --no-hosts --listen-address=127.0.0.53 --bind-interfaces --port=53 \
        --pid-file="$root/dnsmasq.pid" --log-facility="$root/dnsmasq.log" \
        --local=/test/ --local=/example/ --local=/127.in-addr.arpa/ "$@"
}

test_dns_stop() {  # root
    [ -r "$1/dnsmasq.pid" ] && kill "$(cat "$1/dnsmasq.pid")" 2>/dev/null || true
}
