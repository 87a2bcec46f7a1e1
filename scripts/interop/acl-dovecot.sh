#!/bin/sh
# dovecot-acl files shared between Tern and a real Dovecot 2.3 (acl plugin, vfile backend), both ways:
#   1. Dovecot writes ACLs (doveadm acl set/add, and hand-written files it is given); Tern's `doveadm acl get`
#      and `doveadm acl rights` must print exactly what Dovecot's print.
#   2. Tern writes ACLs (its doveadm acl set/add/remove/delete); Dovecot must read back the same.
# Negative entries (`-user=x`) come through the hand-written files: doveadm takes `-user` as an option.
# Needs root, Debian's dovecot-core and a built Tern (swift build). Runs a private Dovecot with no listeners
# (only its auth socket, for doveadm) under a temporary directory and stops it at the end.
# Usage: scripts/interop/acl-dovecot.sh            (from the repository root)
set -eu
cd "$(dirname "$0")/../.."
command -v doveadm >/dev/null || { echo "doveadm not found: apt-get install -y dovecot-core" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (doveadm switches to the mail user)" >&2; exit 2; }
[ -x .build/debug/tern ] || { echo "build Tern first: swift build" >&2; exit 2; }

work=$(mktemp -d /tmp/tern-acl-interop.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/bin"
.build/debug/tern link "$work/bin" >/dev/null
# shellcheck source=../lib/private-dovecot.sh
. scripts/lib/private-dovecot.sh
start_private_dovecot <<'CONF'
mail_plugins = $mail_plugins acl
plugin {
  acl = vfile
}
CONF
T="$work/bin/doveadm -c $conf"
fail=0
same() { # what, mailbox
    $D acl "$1" -u carla "$2" >"$work/dovecot.out" 2>&1 || true
    $T acl "$1" -u carla "$2" >"$work/tern.out" 2>&1 || true
    if cmp -s "$work/dovecot.out" "$work/tern.out"; then
        echo "ok   acl $1 $2 ($3)"
    else
        echo "FAIL acl $1 $2 ($3)"; diff "$work/dovecot.out" "$work/tern.out" || true; fail=1
    fi
}

$D mailbox create -u carla Shared Hand1 Hand2 Hand3 Hand4 Tern
# 1. Dovecot writes, Tern reads.
$D acl set -u carla Shared user=bob lookup read
$D acl add -u carla Shared user=bob insert
$D acl set -u carla Shared owner lookup read admin
$D acl set -u carla INBOX anyone lookup
for box in Shared INBOX; do same get $box "Dovecot wrote"; same rights $box "Dovecot wrote"; done
m="$work/home/Maildir"
printf '# comment\n\nuser=bob rl\nanyone lr\n-user=bob r\nauthenticated i\ngroup=staff w\nowner lrwstipekxa\n' >"$m/.Hand1/dovecot-acl"
printf 'user=carla lrwi\n-user=carla w\n' >"$m/.Hand2/dovecot-acl"
printf 'owner lr\nuser=carla i\n' >"$m/.Hand3/dovecot-acl"
printf 'anyone lr\nuser=carla i\n' >"$m/.Hand4/dovecot-acl"
chown -R 65534:65534 "$work/home"
for box in Hand1 Hand2 Hand3 Hand4; do same get $box "hand-written"; same rights $box "hand-written"; done

# 2. Tern writes, Dovecot reads.
$T acl set -u carla Tern user=bob lookup read write-seen
$T acl add -u carla Tern user=bob insert expunge
$T acl remove -u carla Tern user=bob write-seen
$T acl set -u carla Tern group=staff lookup
$T acl set -u carla Tern owner lookup read insert admin
same get Tern "Tern wrote"; same rights Tern "Tern wrote"
$T acl delete -u carla Shared user=bob
same get Tern "Tern deleted"; same get Shared "Tern deleted"
expected="group=staff l
owner ailr
user=bob eilr"
if [ "$(cat "$m/.Tern/dovecot-acl")" = "$expected" ]; then echo "ok   Tern's file is Dovecot's format"; else
    echo "FAIL Tern's file:"; cat "$m/.Tern/dovecot-acl"; fail=1; fi
finish_private_dovecot
