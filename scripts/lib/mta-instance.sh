# shellcheck shell=bash
# Test MTA instances (Tern's or the real Postfix's commands, same files) for the interop scripts. Sourced.
# Each instance lives in a directory DIR with DIR/conf (main.cf, master.cf, aliases), DIR/queue, DIR/data and
# DIR/maillog; BINDIR is where its postfix/postalias commands are (`tern link` output or /usr/sbin).
# The sourcing script defines die.

# The main.cf lines every test instance ends with: its paths, and Debian's Postfix directories.
mta_housekeeping() {  # dir
    printf '%s\n' \
        "queue_directory = $1/queue" \
        "data_directory = $1/data" \
        "maillog_file = $1/maillog" \
        "alias_maps = hash:$1/conf/aliases" \
        "alias_database = hash:$1/conf/aliases" \
        "compatibility_level = 3.6" \
        "daemon_directory = /usr/lib/postfix/sbin" \
        "command_directory = /usr/sbin" \
        "shlib_directory = /usr/lib/postfix" \
        "meta_directory = /etc/postfix" \
        "mail_owner = postfix" \
        "setgid_group = postdrop" \
        "maillog_file_prefixes = /tmp, /var"
}

# Builds the aliases, starts the instance and waits until HOST:PORT accepts connections.
mta_start() {  # name dir bindir host port
    local name=$1 d=$2 bin=$3 host=$4 port=$5 i
    MAIL_CONFIG="$d/conf" "$bin/postalias" "hash:$d/conf/aliases" || die "$name: postalias failed"
    MAIL_CONFIG="$d/conf" "$bin/postfix" -c "$d/conf" start < /dev/null > "$d/start.out" 2>&1 \
        || die "$name: start failed: $(cat "$d/start.out")"
    for i in $(seq 1 150); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0; sleep 0.2; done
    die "$name: $host:$port did not open"
}

mta_stop() {  # dir bindir
    [ -d "$1/conf" ] || return 0
    timeout 40 env MAIL_CONFIG="$1/conf" "$2/postfix" -c "$1/conf" stop < /dev/null > /dev/null 2>&1 || true
}

# Real Postfix insists that a non-default configuration directory is listed in the default main.cf.
postfix_allow_config_dir() {  # postfix-bindir conf-dir
    local current
    if [ ! -e /etc/postfix/main.cf ]; then
        printf 'compatibility_level = 3.6\nalternate_config_directories = %s\n' "$2" > /etc/postfix/main.cf
        return
    fi
    current=$("$1/postconf" -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
    case ", $current," in
        *", $2,"* | *" $2 "*) ;;
        *) "$1/postconf" -c /etc/postfix -e "alternate_config_directories = ${current:+$current, }$2" ;;
    esac
}
