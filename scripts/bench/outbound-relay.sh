#!/usr/bin/env bash
# Outbound relay throughput: Tern vs. Debian's Postfix, each relaying to the same smtp-sink, in one run.
#
# One Postfix smtp-sink on 127.0.0.1:22027 plays the remote next hop: it accepts everything, keeps
# nothing and counts messages (`-c`). Both servers get the same main.cf (apart from paths and port;
# the one smtp-delivery.sh uses plus `relayhost = [127.0.0.1]:22027` and the same destination
# concurrency settings) and the same master.cf, listen on 127.0.0.1 only (Tern :22025, Postfix :22026),
# and take mail from Postfix's smtp-source for user@remote.test, which they relay to the sink.
# For each case and server: wait until both queues are empty, start the clock, run smtp-source, wait
# until the sink has received COUNT more messages, stop the clock; msgs/s = COUNT / elapsed, i.e.
# messages delivered to the next hop per second.
# The setup shared with smtp-delivery.sh is in lib.sh, the timing in measure.py.
#
# usage (as root):  scripts/bench/outbound-relay.sh
# environment:
#   TERN_BIN      tern binary (default: `swift build -c release` of the repo this script lives in)
#   PF_BIN_DIR    where Postfix's commands are (default /usr/sbin)
#   BENCH_ROOT    work area (default /tmp/tern-bench; wiped at start)
#   CASES         "SESSIONS:SIZE:COUNT ..." (default "1:1024:2000 20:1024:4000 20:102400:1000")
#   SERVERS       "tern postfix" (default), or just one of them
#   ROUNDS        measurements per case and server (default 3); the servers take turns going first and
#                 the median is reported (a shared 2-CPU machine is noisy)
#   WAIT_TIMEOUT  seconds one measurement may take at most (default 240)
#   SMTP_SOURCE_OPTS  extra smtp-source options (default none: one connection per message;
#                 "-d" sends all of a session's messages over one connection)
#   SINK_PORT     port of the smtp-sink next hop (default 22027)
#   DEST_CONCURRENCY     default_destination_concurrency_limit for both servers (default 20, Postfix's)
#   INITIAL_CONCURRENCY  initial_destination_concurrency for both servers (default 5, Postfix's)
#   KEEP=1        leave $BENCH_ROOT (logs, queues, the sink's counter output) in place after the run
set -euo pipefail

CASES=${CASES:-"1:1024:2000 20:1024:4000 20:102400:1000"}
# shellcheck source=scripts/bench/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SINK_PORT=${SINK_PORT:-22027}
DEST_CONCURRENCY=${DEST_CONCURRENCY:-20}
INITIAL_CONCURRENCY=${INITIAL_CONCURRENCY:-5}
RCPT="user@remote.test"
SMTP_SINK=$(command -v smtp-sink || true)
[ -n "$SMTP_SINK" ] || SMTP_SINK=/usr/sbin/smtp-sink
[ -x "$SMTP_SINK" ] || die "smtp-sink not found (apt-get install postfix)"

RELAYHOST="[127.0.0.1]:$SINK_PORT"
MAIN_CF_EXTRA="default_destination_concurrency_limit = $DEST_CONCURRENCY
initial_destination_concurrency = $INITIAL_CONCURRENCY
"

# ---------------------------------------------------------------- the next hop
SINK_DIR="$ROOT/sink"
SINK_OUT="$SINK_DIR/counter"
SINK_PID=""

start_sink() {
    local i
    port_open "$SINK_PORT" && die "port $SINK_PORT is already in use"
    mkdir -p "$SINK_DIR"
    # -c: "sess=.. quit=.. mesg=N\r" after every message; -u: required as root; backlog 1024.
    "$SMTP_SINK" -c -u nobody -h sink.remote.test "127.0.0.1:$SINK_PORT" 1024 \
        < /dev/null > "$SINK_OUT" 2> "$SINK_DIR/stderr" &
    SINK_PID=$!
    for i in $(seq 1 50); do port_open "$SINK_PORT" && return 0; sleep 0.1; done
    die "smtp-sink did not open port $SINK_PORT: $(cat "$SINK_DIR/stderr")"
}

sink_messages() { PYTHONPATH="$BENCH_LIB_DIR" python3 -c 'import sys, measure; print(measure.sink_messages(sys.argv[1]))' "$SINK_OUT"; }

bench_extra_cleanup() {
    [ -n "$SINK_PID" ] || return 0
    kill "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
}

# measure name sessions size count [timeout] -> prints "elapsed=... delivered=..." line
measure() {
    local name=$1 sessions=$2 size=$3 count=$4 limit=${5:-$WAIT_TIMEOUT}
    local other
    for other in $SERVERS; do wait_queue_empty "$other" 60; done  # nothing else reaches the sink meanwhile
    kill -0 "$SINK_PID" 2>/dev/null || die "smtp-sink (pid $SINK_PID) is gone: $(cat "$SINK_DIR/stderr")"
    sync
    # shellcheck disable=SC2086
    python3 "$MEASURE" "sink:$SINK_OUT" "$count" "$limit" -- \
        "$SMTP_SOURCE" $SMTP_SOURCE_OPTS -s "$sessions" -l "$size" -m "$count" \
        -f "$SENDER" -t "$RCPT" "127.0.0.1:$(srv_port "$name")"
}

# ---------------------------------------------------------------- main
bench_start_servers
start_sink
log "smtp-sink (pid $SINK_PID) on 127.0.0.1:$SINK_PORT is the relayhost"
bench_warm_up
bench_run_cases
for s in $SERVERS; do wait_queue_empty "$s" 30; done
bench_report "SMTP -> relayhost [127.0.0.1]:$SINK_PORT (smtp-sink), delivered to the next hop"
sleep 1  # postlogd writes Postfix's maillog a little after the fact
printf 'check: smtp-sink received %s messages in all; status=sent lines in the mail logs:' "$(sink_messages)"
for s in $SERVERS; do printf ' %s %s' "$s" "$(grep -c 'status=sent' "$(srv_dir "$s")/maillog" || true)"; done
echo
exit 0
