#!/bin/sh
# SORT/THREAD differential check: the same Maildir (scripts/interop/sort-corpus.py) served by the real
# Dovecot 2.3 and by Tern (`tern dovecot`, same dovecot.conf apart from paths and port); the same commands
# go to both and the answers must be equal. Needs root and Debian's dovecot-core.
# Usage: scripts/interop/sort-dovecot.sh [path/to/tern] [base-port]     (from the repository root)
set -eu
cd "$(dirname "$0")/../.."
tern=$(realpath "${1:-.build/debug/tern}")
port=${2:-23000}
command -v dovecot >/dev/null || { echo "dovecot not found: apt-get install -y dovecot-core" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
work=$(mktemp -d /tmp/tern-sort-interop.XXXXXX)
chmod 755 "$work"
setup() { # name port
    dir="$work/$1"
    mkdir -p "$dir/run" "$dir/state" "$dir/home"
    python3 scripts/interop/sort-corpus.py maildir "$dir/home/Maildir"
    chown -R 65534:65534 "$dir/home"
    echo "carla:{PLAIN}secret:65534:65534::$dir/home" >"$dir/passwd"
    cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $2
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
}
setup dovecot "$port"
setup tern "$((port + 1))"
stop() {
    for pidfile in "$work/dovecot/run/master.pid" "$work/tern/run/master.pid"; do
        if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    done
}
trap stop EXIT
dovecot -c "$work/dovecot/dovecot.conf"
"$tern" dovecot -c "$work/tern/dovecot.conf"
sleep 2
python3 - "$port" "$((port + 1))" <<'PY'
import socket, sys
commands = [
    "SORT (ARRIVAL) UTF-8 ALL", "SORT (DATE) UTF-8 ALL", "SORT (SUBJECT) UTF-8 ALL", "SORT (FROM) UTF-8 ALL",
    "SORT (TO) UTF-8 ALL", "SORT (CC) UTF-8 ALL", "SORT (SIZE) UTF-8 ALL", "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO) UTF-8 ALL", "SORT (REVERSE SUBJECT) UTF-8 ALL", "SORT (REVERSE DATE SUBJECT) UTF-8 ALL",
    "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL", "UID SORT RETURN (COUNT ALL) (SUBJECT) UTF-8 1:5",
    "THREAD REFERENCES UTF-8 ALL", "THREAD REFS UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "UID THREAD REFERENCES UTF-8 1:9", "THREAD REFS UTF-8 NOT ALL", "SEARCH FROM \"\u00e9mile\"",
    "SEARCH SUBJECT \"\u00fcmlaut\"", "SORT (FOO) UTF-8 ALL", "THREAD FOO UTF-8 ALL",
]
def answers(port):
    s = socket.create_connection(('127.0.0.1', port)); f = s.makefile('rb'); f.readline()
    def run(tag, cmd):
        s.sendall(f'{tag} {cmd}\r\n'.encode()); out = []
        while True:
            line = f.readline().decode('utf-8', 'replace').rstrip('\r\n')
            if line.startswith(tag + ' '):
                return out + [line.split(' (0.')[0]]
            out.append(line)
    run('l', 'LOGIN carla secret'); run('s', 'SELECT INBOX')
    return [run('t%d' % i, c) for i, c in enumerate(commands)]
failed = 0
for command, a, b in zip(commands, answers(int(sys.argv[1])), answers(int(sys.argv[2]))):
    if a == b:
        print('ok  ', command)
    else:
        failed = 1
        print('FAIL', command, '\n  dovecot:', a, '\n  tern:   ', b)
sys.exit(failed)
PY
