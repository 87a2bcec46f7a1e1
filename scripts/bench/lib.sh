# shellcheck shell=bash
# Shared part of the Tern-vs-Postfix benchmarks in scripts/bench (sourced, not run).
#
# The sourcing script sets CASES (and anything it wants to differ from the defaults below), sources this
# file, may set RELAYHOST / MAIN_CF_EXTRA (main.cf lines for both servers) and a bench_extra_cleanup
# function, defines `measure NAME SESSIONS SIZE COUNT [TIMEOUT]` (prints measure.py's result line), and
# then calls: bench_start_servers, bench_warm_up, bench_run_cases, bench_report TITLE ACCEPTED_LABEL.
#
# Environment common to all of them: TERN_BIN, PF_BIN_DIR, BENCH_ROOT, SERVERS, ROUNDS, WAIT_TIMEOUT,
# SMTP_SOURCE_OPTS, KEEP (see the scripts' headers). A script may set MYNETWORKS (default 127.0.0.0/8).

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_LIB_DIR/../.." && pwd)
# shellcheck source=../lib/master-cf.sh
. "$REPO/scripts/lib/master-cf.sh"
BENCH_SCRIPT=$(basename "$0")
ROOT=${BENCH_ROOT:-/tmp/tern-bench}
DOMAIN=bench.test
SENDER="sender@client.example"
TERN_PORT=22025
PF_PORT=22026
PF_BIN_DIR=${PF_BIN_DIR:-/usr/sbin}
SERVERS=${SERVERS:-"tern postfix"}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-240}
ROUNDS=${ROUNDS:-3}
SMTP_SOURCE_OPTS=${SMTP_SOURCE_OPTS:-}
MEASURE="$BENCH_LIB_DIR/measure.py"
RELAYHOST=""
MAIN_CF_EXTRA=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (Postfix start, privilege separation)"
SMTP_SOURCE=$(command -v smtp-source || true)
[ -n "$SMTP_SOURCE" ] || SMTP_SOURCE=/usr/sbin/smtp-source
[ -x "$SMTP_SOURCE" ] || die "smtp-source not found (apt-get install postfix)"
[ -x "$PF_BIN_DIR/postfix" ] || die "no Postfix in $PF_BIN_DIR"
command -v python3 >/dev/null || die "python3 needed"

# ---------------------------------------------------------------- tern binary
if [[ " $SERVERS " != *" tern "* ]]; then
    :
elif [ -z "${TERN_BIN:-}" ]; then
    log "building tern (release) in $REPO"
    (cd "$REPO" && timeout 3600 swift build -c release --product tern >&2) || die "swift build failed"
    TERN_BIN="$(cd "$REPO" && swift build -c release --show-bin-path)/tern"
fi
if [[ " $SERVERS " == *" tern "* ]]; then
    [ -x "$TERN_BIN" ] || die "TERN_BIN=$TERN_BIN is not executable"
    TERN_BIN=$(readlink -f "$TERN_BIN")
fi

# ---------------------------------------------------------------- per-server setup
srv_dir() { echo "$ROOT/$1"; }
srv_conf() { echo "$ROOT/$1/conf"; }
srv_queue() { echo "$ROOT/$1/queue"; }
srv_port() { [ "$1" = tern ] && echo $TERN_PORT || echo $PF_PORT; }
srv_bin() { [ "$1" = tern ] && echo "$ROOT/tern/bin" || echo "$PF_BIN_DIR"; }
srv_name() { [ "$1" = tern ] && echo Tern || echo Postfix; }

# Real Postfix: the default main.cf must list our config directory in alternate_config_directories
# (the set-gid postdrop/postqueue insist on it; postfix(1) checks it too).
prepare_default_main_cf() {
    local dir; dir=$(srv_conf postfix)
    if [ ! -e /etc/postfix/main.cf ]; then
        log "creating a minimal /etc/postfix/main.cf"
        cat > /etc/postfix/main.cf <<EOF
# minimal default configuration (created by tern's scripts/bench/$BENCH_SCRIPT)
compatibility_level = 3.6
alternate_config_directories = /tmp/pf-accept, $dir
inet_interfaces = loopback-only
EOF
        return
    fi
    local cur; cur=$("$PF_BIN_DIR/postconf" -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
    case ", $cur," in
        *", $dir,"* | *" $dir "*) ;;
        *) log "adding $dir to alternate_config_directories in /etc/postfix/main.cf"
           "$PF_BIN_DIR/postconf" -c /etc/postfix -e "alternate_config_directories = ${cur:+$cur, }$dir" ;;
    esac
}

write_config() {  # name   (uses RELAYHOST and MAIN_CF_EXTRA)
    local name=$1 conf queue port d
    d=$(srv_dir "$name"); conf=$(srv_conf "$name"); queue=$(srv_queue "$name"); port=$(srv_port "$name")
    mkdir -p "$conf" "$queue" "$d/spool"
    chmod 1777 "$d/spool"
    cat > "$conf/main.cf" <<EOF
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = \$myhostname, localhost.\$mydomain, localhost, \$mydomain
inet_interfaces = 127.0.0.1
mynetworks = ${MYNETWORKS:-127.0.0.0/8}
queue_directory = $queue
data_directory = $d/data
maillog_file = $d/maillog
alias_maps = hash:$conf/aliases
alias_database = hash:$conf/aliases
home_mailbox = Maildir/
mail_spool_directory = $d/spool
relayhost = $RELAYHOST
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
append_dot_mydomain = no
recipient_delimiter = +
${MAIN_CF_EXTRA}# ---- housekeeping (implementation specific; a replacement may ignore) ----
compatibility_level = 3.6
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-bench
maillog_file_prefixes = /tmp, /var, /dev/stdout
inet_protocols = ipv4
biff = no
readme_directory = no
html_directory = no
# ---- end housekeeping ----
EOF
    write_master_cf "$conf/master.cf" "127.0.0.1:$port"
    printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' > "$conf/aliases"
}

run_srv() {  # name command args...  (daemon-leaving commands: output to a file, not a pipe)
    local name=$1; shift
    local cmd=$1; shift
    MAIL_CONFIG=$(srv_conf "$name") "$(srv_bin "$name")/$cmd" "$@" < /dev/null > "$(srv_dir "$name")/cmd.out" 2>&1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

master_pid() {  # name -> pid of that instance's master, if alive
    local f; f="$(srv_queue "$1")/pid/master.pid"
    [ -r "$f" ] || return 1
    local pid; pid=$(tr -dc 0-9 < "$f")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_server() {  # name
    local name=$1 conf i
    conf=$(srv_conf "$name")
    if [ "$name" = postfix ]; then
        prepare_default_main_cf
    fi
    run_srv "$name" postalias "hash:$conf/aliases" || die "$name: postalias failed: $(cat "$(srv_dir "$name")/cmd.out")"
    run_srv "$name" postfix -c "$conf" start || die "$name: postfix start failed: $(cat "$(srv_dir "$name")/cmd.out")"
    for i in $(seq 1 300); do port_open "$(srv_port "$name")" && return 0; sleep 0.1; done
    die "$name: port $(srv_port "$name") did not open within 30 s"
}

stop_server() {  # name
    local name=$1 pid i
    pid=$(master_pid "$name") || return 0
    timeout 40 env MAIL_CONFIG="$(srv_conf "$name")" "$(srv_bin "$name")/postfix" -c "$(srv_conf "$name")" stop \
        < /dev/null > /dev/null 2>&1 || true
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    log "$name: master $pid still alive after stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

STARTED=""
cleanup() {
    local s
    for s in $STARTED; do stop_server "$s"; done
    if declare -F bench_extra_cleanup > /dev/null; then bench_extra_cleanup; fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

queue_count() {  # name -> files in incoming/active/deferred/maildrop/hold
    local q; q=$(srv_queue "$1")
    find "$q/incoming" "$q/active" "$q/deferred" "$q/maildrop" "$q/hold" -type f 2>/dev/null | wc -l
}

wait_queue_empty() {  # name timeout
    local i n
    for i in $(seq 1 $(( $2 * 10 ))); do
        n=$(queue_count "$1"); [ "$n" -eq 0 ] && return 0; sleep 0.1
    done
    log "$1: queue still holds $n messages after $2 s; deleting them"
    run_srv "$1" postsuper -c "$(srv_conf "$1")" -d ALL || true
    sleep 1
}

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Stops leftovers, wipes $ROOT, writes both configurations and starts the servers.
bench_start_servers() {
    local s pid p
    for s in $SERVERS; do
        pid=$(master_pid "$s" 2>/dev/null) && { log "$s: stopping a leftover instance (pid $pid)"; stop_server "$s"; }
    done
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    for p in $TERN_PORT $PF_PORT; do port_open $p && die "port $p is already in use"; done

    if [[ " $SERVERS " == *" tern "* ]]; then
        mkdir -p "$ROOT/tern/bin"
        "$TERN_BIN" link "$ROOT/tern/bin" > /dev/null || die "tern link failed"
    fi
    for s in $SERVERS; do
        write_config "$s"
        log "starting $(srv_name "$s") on 127.0.0.1:$(srv_port "$s")"
        STARTED="$STARTED $s"
        start_server "$s"
    done
}

# A few messages through each server (first deliveries create caches, processes, ...).
bench_warm_up() {
    local s r
    for s in $SERVERS; do
        r=$(measure "$s" 2 1024 20 60)
        [ "$(field timeout "$r")" = 0 ] || die "$s: warm-up did not deliver 20 messages: $r (see $(srv_dir "$s")/maillog)"
    done
}

# Every case ROUNDS times per server, the servers taking turns going first; fills RATE[server,case]
# (median, `*` if a round timed out), RATE[server,case,acc] (median accepted/s) and RATE[server,case,all].
declare -A RATE
bench_run_cases() {
    local c sessions size count order round s r el dl cel
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    RESULTS="$ROOT/results.txt"
    : > "$RESULTS"
    for c in $CASES; do
        IFS=: read -r sessions size count <<<"$c"
        order="$SERVERS"
        local -A RUNS=() ACCS=() TIMEOUTS=()
        for round in $(seq 1 "$ROUNDS"); do
            for s in $order; do
                log "$(srv_name "$s"): $sessions session(s), $size bytes, $count messages (round $round/$ROUNDS)"
                r=$(measure "$s" "$sessions" "$size" "$count")
                log "  $r"
                echo "$s $c round=$round $r" >> "$RESULTS"
                el=$(field elapsed "$r"); dl=$(field delivered "$r")
                RUNS[$s]+=" $(awk -v n="$dl" -v t="$el" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')"
                [ "$(field timeout "$r")" = 1 ] && TIMEOUTS[$s]=1
                # accepted (queued) rate, from when smtp-source finished
                cel=$(field client_elapsed "$r")
                [ "$(field client_rc "$r")" = 0 ] && ACCS[$s]+=" $(awk -v n="$count" -v t="$cel" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')"
            done
            order=$(echo "$order" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')  # the other goes first next
        done
        for s in $SERVERS; do
            RATE[$s,$c]="$(median <<<"${RUNS[$s]}")${TIMEOUTS[$s]:+*}"
            RATE[$s,$c,acc]=$(median <<<"${ACCS[$s]:-}")
            RATE[$s,$c,all]=${RUNS[$s]# }
        done
    done
}

bench_report() {  # title
    local c sessions size count label t p ratio s
    echo
    echo "load average before/after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) CPUs)"
    echo "$1, msgs/s (higher is better); smtp-source ${SMTP_SOURCE_OPTS:-(new connection per message)}"
    printf '%-26s %10s %10s %8s   %s\n' "case" "Tern" "Postfix" "ratio" "(accepted/s: Tern / Postfix)"
    for c in $CASES; do
        IFS=: read -r sessions size count <<<"$c"
        label="$sessions sess x $((size / 1024)) KiB x $count"
        t=${RATE[tern,$c]:--}; p=${RATE[postfix,$c]:--}
        ratio=$(awk -v a="${t%\*}" -v b="${p%\*}" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a / b; else print "-" }')
        printf '%-26s %10s %10s %8s   %s / %s\n' "$label" "$t" "$p" "$ratio" "${RATE[tern,$c,acc]:--}" "${RATE[postfix,$c,acc]:--}"
    done
    echo "median of $ROUNDS rounds; ratio = Tern / Postfix.  * = timed out after ${WAIT_TIMEOUT}s (rate = delivered / elapsed)."
    echo "all rounds:"
    for c in $CASES; do
        for s in $SERVERS; do printf '  %-22s %-8s %s\n' "$c" "$s" "${RATE[$s,$c,all]:-}"; done
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "raw results: $RESULTS; logs: $ROOT/*/maillog"; fi
}

# ---------------------------------------------------------------- delivery into a Maildir
# The system user ternbench (created if missing, home under /tmp/tern-bench-home) receives the messages
# (RCPT) in its Maildir. `measure_maildir NAME SESSIONS SIZE COUNT [TIMEOUT]` empties the Maildir, runs
# smtp-source against server NAME and prints measure.py's line once COUNT messages are in Maildir/new.
bench_maildir_setup() {
    local home_root=/tmp/tern-bench-home
    BUSER=ternbench
    RCPT="$BUSER@$DOMAIN"
    mkdir -p "$home_root"
    chmod 755 "$home_root"
    if ! id "$BUSER" >/dev/null 2>&1; then
        useradd -M -d "$home_root/$BUSER" -s /usr/sbin/nologin "$BUSER" || die "useradd $BUSER failed"
    fi
    local home; home=$(getent passwd "$BUSER" | cut -d: -f6)
    mkdir -p "$home"
    chown "$BUSER:" "$home"
    chmod 755 "$home"
    MAILDIR="$home/Maildir"
}

reset_maildir() {
    rm -rf "$MAILDIR" 2>/dev/null || { sleep 1; rm -rf "$MAILDIR"; }
    mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
    chown -R "$BUSER:" "$MAILDIR"
    chmod -R 700 "$MAILDIR"
}

measure_maildir() {
    local name=$1 sessions=$2 size=$3 count=$4 limit=${5:-$WAIT_TIMEOUT}
    local other
    for other in $SERVERS; do wait_queue_empty "$other" 60; done  # no stray deliveries into the Maildir
    reset_maildir
    sync
    # shellcheck disable=SC2086
    python3 "$MEASURE" "$MAILDIR/new" "$count" "$limit" -- \
        "$SMTP_SOURCE" $SMTP_SOURCE_OPTS -s "$sessions" -l "$size" -m "$count" \
        -f "$SENDER" -t "$RCPT" "127.0.0.1:$(srv_port "$name")"
}
