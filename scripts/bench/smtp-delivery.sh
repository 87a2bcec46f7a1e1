#!/usr/bin/env bash
# SMTP-in -> Maildir delivery throughput: Tern vs. Debian's Postfix, side by side in one run.
#
# Both servers get the same main.cf (apart from paths and port) and the same master.cf, listen on
# 127.0.0.1 only (Tern :22025, Postfix :22026) and deliver to the Maildir of the system user `ternbench`
# (created if missing, home under /tmp/tern-bench-home). Postfix's smtp-source is the client.
# For each case and server: empty the Maildir, start the clock, run smtp-source, wait until COUNT
# files are in Maildir/new, stop the clock; msgs/s = COUNT / elapsed.
# The setup shared with outbound-relay.sh is in lib.sh, the timing in measure.py.
#
# usage (as root):  scripts/bench/smtp-delivery.sh
# environment:
#   TERN_BIN      tern binary (default: `swift build -c release` of the repo this script lives in)
#   PF_BIN_DIR    where Postfix's commands are (default /usr/sbin)
#   BENCH_ROOT    work area (default /tmp/tern-bench; wiped at start)
#   COUNT_SMALL   messages per 1 KiB case (default 4000)
#   COUNT_LARGE   messages per 100 KiB case (default 1000)
#   CASES         "SESSIONS:SIZE:COUNT ..." (default "1:1024:$COUNT_SMALL 20:1024:$COUNT_SMALL
#                 1:102400:$COUNT_LARGE 20:102400:$COUNT_LARGE")
#   SERVERS       "tern postfix" (default), or just one of them
#   ROUNDS        measurements per case and server (default 3); the servers take turns going first and
#                 the median is reported (a shared 2-CPU machine is noisy)
#   WAIT_TIMEOUT  seconds one measurement may take at most (default 240)
#   SMTP_SOURCE_OPTS  extra smtp-source options (default none: one connection per message;
#                 "-d" sends all of a session's messages over one connection)
#   KEEP=1        leave $BENCH_ROOT (logs, queues) in place after the run
set -euo pipefail

COUNT_SMALL=${COUNT_SMALL:-4000}
COUNT_LARGE=${COUNT_LARGE:-1000}
CASES=${CASES:-"1:1024:$COUNT_SMALL 20:1024:$COUNT_SMALL 1:102400:$COUNT_LARGE 20:102400:$COUNT_LARGE"}
# shellcheck source=scripts/bench/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_maildir_setup
measure() { measure_maildir "$@"; }

# ---------------------------------------------------------------- main
bench_start_servers
bench_warm_up
bench_run_cases
bench_report "SMTP -> Maildir delivery"
exit 0
