#!/bin/sh
# maildirsize interop between Tern and a real Dovecot 2.3 with `quota = maildir`, both ways:
#   1. Dovecot saves messages (and writes maildirsize); `doveadm quota get` of both must agree.
#   2. Tern expunges one (appending its line to maildirsize); Dovecot must read the new usage.
#   3. Tern recalculates (`quota recalc`) and writes the same file Dovecot's recalc writes.
#   4. A second root (`quota2 = count:Archive`) and a rule from the userdb (`userdb_quota2_rule` in
#      passwd-file): `doveadm quota get` of both lists both roots with the userdb's limit.
#   5. The dirsize and dict (`file:`) backends: Dovecot saves, Tern reads the same usage; Tern expunges
#      (taking from the dict's counters), Dovecot reads the same usage.
# Needs root and Debian's dovecot-core. Runs a private Dovecot with no listeners under a temporary directory.
# Usage: scripts/interop/quota-dovecot.sh            (from the repository root, after swift build)
set -eu
cd "$(dirname "$0")/../.."
command -v doveadm >/dev/null || { echo "doveadm not found: apt-get install -y dovecot-core" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (doveadm switches to the mail user)" >&2; exit 2; }
T="$PWD/.build/debug/tern"
[ -x "$T" ] || { echo "build first: swift build" >&2; exit 2; }

work=$(mktemp -d /tmp/tern-quota-interop.XXXXXX)
chmod 755 "$work"
fail=0
# shellcheck source=../lib/private-dovecot.sh
. scripts/lib/private-dovecot.sh
# shellcheck source=../lib/doveadm-views.sh
. scripts/lib/doveadm-views.sh
start_private_dovecot <<'CONF'
mail_plugins = $mail_plugins quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=10K
  quota_rule2 = *:messages=50
  quota2 = count:Archive
  quota2_rule = *:messages=100
  # Dovecot's count backend needs it.
  quota_vsizes = yes
}
CONF

# 1. Dovecot writes.
$D mailbox create -u carla Sent
for i in 1 2 3; do
    printf 'From: a@example\nSubject: dovecot %s\n\n%0500d\n' "$i" 0 | $D save -u carla -m INBOX
done
printf 'From: a@example\nSubject: sent\n\nbody\n' | $D save -u carla -m Sent
$D quota get -u carla >"$work/dovecot-get-1.txt"
"$T" doveadm -c "$conf" quota get -u carla >"$work/tern-get-1.txt"
check "Tern reads Dovecot's usage" "$work/dovecot-get-1.txt" "$work/tern-get-1.txt"

# 2. Tern expunges; Dovecot reads.
"$T" doveadm -c "$conf" expunge -u carla mailbox INBOX uid 1
"$T" doveadm -c "$conf" quota get -u carla >"$work/tern-get-2.txt"
$D quota get -u carla >"$work/dovecot-get-2.txt"
check "Dovecot reads Tern's expunge" "$work/tern-get-2.txt" "$work/dovecot-get-2.txt"
grep -q '^Quota name Type    Value Limit' "$work/tern-get-2.txt" && grep -q 'MESSAGE     3    50' "$work/tern-get-2.txt" ||
    { echo "FAIL usage after the expunge"; cat "$work/tern-get-2.txt"; fail=1; }

# 3. Both recalculate to the same file.
$D quota recalc -u carla
cp "$work/home/Maildir/maildirsize" "$work/dovecot-maildirsize"
"$T" doveadm -c "$conf" quota recalc -u carla
check "Tern's recalculated maildirsize is Dovecot's" "$work/dovecot-maildirsize" "$work/home/Maildir/maildirsize"

# 4. Two roots, the second's limit from the userdb (passwd-file is read again when it changes).
sleep 1
echo "carla:{PLAIN}secret:65534:65534::$work/home::userdb_quota2_rule=*:messages=7" >"$work/passwd"
$D quota get -u carla >"$work/dovecot-get-4.txt"
"$T" doveadm -c "$conf" quota get -u carla >"$work/tern-get-4.txt"
check "Tern lists both roots with the userdb's rule as Dovecot" "$work/dovecot-get-4.txt" "$work/tern-get-4.txt"
grep -q '^Archive    MESSAGE     3     7' "$work/tern-get-4.txt" ||
    { echo "FAIL the userdb's quota2_rule"; cat "$work/tern-get-4.txt"; fail=1; }

# 5. dirsize and dict:file, in a fresh private Dovecot.
stop_private_dovecot
for _ in $(seq 50); do [ -f "$work/run/master.pid" ] || break; sleep 0.2; done
if grep -E 'Error|Panic' "$work/dovecot.log" | grep -v 'auth: Error: passwd-file'; then
    echo "FAIL Dovecot logged errors before the restart"; fail=1
fi
mv "$work/dovecot.log" "$work/dovecot-1.log"
rm -rf "$work/home/Maildir"
start_private_dovecot <<'CONF'
mail_plugins = $mail_plugins quota
plugin {
  quota = dirsize:User quota
  quota_rule = *:storage=100K
  quota2 = dict:Dict quota::file:%h/quota.dict
  quota2_rule = *:messages=10
}
CONF
for i in 1 2 3; do
    printf 'From: a@example\nSubject: dict %s\n\n%0300d\n' "$i" 0 | $D save -u carla -m INBOX
done
$D quota get -u carla >"$work/dovecot-get-5.txt"
"$T" doveadm -c "$conf" quota get -u carla >"$work/tern-get-5.txt"
check "Tern reads Dovecot's dirsize and dict usage" "$work/dovecot-get-5.txt" "$work/tern-get-5.txt"
"$T" doveadm -c "$conf" expunge -u carla mailbox INBOX uid 1
grep -q '^2$' "$work/home/quota.dict" || { echo "FAIL Tern's expunge did not reach the dict"; cat "$work/home/quota.dict"; fail=1; }
"$T" doveadm -c "$conf" quota get -u carla >"$work/tern-get-6.txt"
$D quota get -u carla >"$work/dovecot-get-6.txt"
check "Dovecot reads Tern's dict and dirsize usage" "$work/tern-get-6.txt" "$work/dovecot-get-6.txt"

finish_private_dovecot
