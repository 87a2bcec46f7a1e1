# A private Dovecot with no listeners (only its auth socket, for doveadm) for the interop scripts: user carla
# (uid 65534) with her home in $work/home, Maildir in ~/Maildir. Set work and pass extra dovecot.conf lines on
# stdin; sets conf and D (doveadm -c), and stops Dovecot when the script exits.
start_private_dovecot() {
    conf="$work/dovecot.conf"
    mkdir -p "$work/run" "$work/state" "$work/home"
    chown 65534:65534 "$work/home"
    {
        cat <<CONF
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $work/passwd
}
userdb {
  driver = passwd-file
  args = $work/passwd
}
namespace inbox {
  inbox = yes
  separator = /
}
CONF
        cat
    } >"$conf"
    echo "carla:{PLAIN}secret:65534:65534::$work/home" >"$work/passwd"
    trap stop_private_dovecot EXIT
    dovecot -c "$conf"
    D="doveadm -c $conf"
}

stop_private_dovecot() {
    if [ -f "$work/run/master.pid" ]; then kill "$(cat "$work/run/master.pid")" 2>/dev/null || true; fi
}

# Checks Dovecot's log for errors, then prints PASS or FAILED and exits 0 or 1.
finish_private_dovecot() {
    if grep -E 'Error|Panic|Warning' "$work/dovecot.log" | grep -v 'auth: Error: passwd-file' >"$work/errors.txt"; then
        echo "FAIL Dovecot logged errors:"; cat "$work/errors.txt"; fail=1
    else
        echo "ok   Dovecot logged no errors or warnings"
    fi
    [ "$fail" = 0 ] && { echo "PASS (files in $work)"; exit 0; }
    echo "FAILED (files in $work)"; exit 1
}
