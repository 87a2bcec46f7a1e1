#!/bin/bash
# Differential check of `tern postgrey` against Debian's postgrey 1.37 (package postgrey; its systemd
# service is not needed): both run on loopback ports with their default whitelists from /etc/postgrey and
# fresh databases, postgrey_diff.py replays the same requests at the same test times and reports replies
# that differ. Run as root (postgrey drops to its user). Usage: scripts/interop/postgrey-diff.sh
set -uo pipefail
TERN_BIN=${TERN_BIN:-$(cd "$(dirname "$0")/../.." && swift build --show-bin-path)/tern}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v postgrey >/dev/null || { echo "postgrey-diff: Debian's postgrey is not installed"; exit 1; }
WORK=$(mktemp -d /tmp/tern-postgrey-diff.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/postgrey" && chown postgrey "$WORK/postgrey"
PIDS=()
trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
A=$(free_port); B=$(free_port)
postgrey --inet=127.0.0.1:$A --dbdir="$WORK/postgrey" >"$WORK/postgrey.log" 2>&1 &
PIDS+=($!)
"$TERN_BIN" postgrey --inet=127.0.0.1:$B --dbdir="$WORK/tern" >"$WORK/tern.log" 2>&1 &
PIDS+=($!)
for port in $A $B; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
python3 "$HERE/postgrey_diff.py" $A $B
