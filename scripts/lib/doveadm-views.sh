# Shared by the Dovecot interop scripts (maildir-dovecot.sh, mbox-dovecot.sh). They set D (the doveadm command
# with -c), work (the work directory) and fail=0 before using these.

# check NAME EXPECTED ACTUAL: prints ok or FAIL with the diff; a failure sets fail=1.
check() {
    if diff -u "$2" "$3" >"$work/diff.txt"; then echo "ok   $1"; else echo "FAIL $1"; cat "$work/diff.txt"; fail=1; fi
}

# fetch_view MAILBOX: doveadm fetch 'uid flags' → "uid flag flag..." with the flags sorted, without \Recent (a
# session property).
fetch_view() {
    $D fetch -u carla 'uid flags' mailbox "$1" all | awk '
        /^uid: / { uid = $2 }
        /^flags:/ { n = 0; delete f; for (i = 2; i <= NF; i++) if ($i != "\\Recent") f[++n] = $i
                    s = ""; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (f[j] < f[i]) { t = f[i]; f[i] = f[j]; f[j] = t }
                    for (i = 1; i <= n; i++) s = s " " f[i]
                    print uid s }'
}
