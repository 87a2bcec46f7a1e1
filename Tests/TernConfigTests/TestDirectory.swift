import Glibc

/// A scratch configuration directory under /tmp, removed by `remove()`.
struct TestDirectory {
    let path: String

    init(main: String, master: String? = nil) {
        var template = Array("/tmp/tern-config-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = made.map { String(cString: $0) } ?? "/tmp/tern-config-test-fallback"
        write("main.cf", main)
        if let master { write("master.cf", master) }
    }

    func write(_ name: String, _ text: String) {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func read(_ name: String) -> String {
        let fd = open(path + "/" + name, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    func remove() {
        for name in ["main.cf", "master.cf", "domains", "main.cf.tmp"] { unlink(path + "/" + name) }
        rmdir(path)
    }
}

/// The conformance suite's main.cf (acclib/sut.py BASE_MAIN + housekeeping.py) for directory `dir`.
func conformanceMainCF(_ dir: String) -> String {
    """
    # ---- housekeeping (implementation specific; a replacement may ignore) ----
    compatibility_level = 3.6
    daemon_directory = /usr/lib/postfix/sbin
    command_directory = /usr/sbin
    shlib_directory = /usr/lib/postfix
    meta_directory = /etc/postfix
    mail_owner = postfix
    setgid_group = postdrop
    syslog_name = postfix-acc
    maillog_file_prefixes = /tmp, /var, /dev/stdout
    inet_protocols = ipv4
    biff = no
    readme_directory = no
    html_directory = no
    # ---- end housekeeping ----
    # ---- behaviour under test ----
    myhostname = mail.acc.test
    mydomain = acc.test
    myorigin = $mydomain
    mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain
    inet_interfaces = 127.0.0.1
    mynetworks = 127.0.0.0/8
    queue_directory = /tmp/pf-accept-queue
    data_directory = /tmp/pf-accept-data
    maillog_file = \(dir)/maillog
    alias_maps = hash:\(dir)/aliases
    alias_database = hash:\(dir)/aliases
    home_mailbox = Maildir/
    mail_spool_directory = /tmp/pf-accept-spool
    relayhost =
    smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
    append_dot_mydomain = no
    recipient_delimiter = +
    message_size_limit = 20480000
    smtpd_banner = $myhostname ESMTP $mail_name

    """
}

/// The conformance suite's master.cf (acclib/sut.py MASTER_CF with the submission service).
let conformanceMasterCF = """
    # ==========================================================================
    # service type  private unpriv  chroot  wakeup  maxproc command + args
    #               (yes)   (yes)   (no)    (never) (100)
    # ==========================================================================
    127.0.0.1:21025 inet  n       -       n       -       -       smtpd
    127.0.0.1:21587 inet n       -       n       -       -       smtpd
      -o syslog_name=postfix/submission
      -o smtpd_tls_security_level=encrypt
      -o smtpd_sasl_auth_enable=yes
      -o smtpd_tls_auth_only=yes
      -o smtpd_client_restrictions=permit_sasl_authenticated,reject
      -o smtpd_relay_restrictions=permit_sasl_authenticated,reject

    pickup    unix  n       -       n       60      1       pickup
    cleanup   unix  n       -       n       -       0       cleanup
    qmgr      unix  n       -       n       300     1       qmgr
    tlsmgr    unix  -       -       n       1000?   1       tlsmgr
    rewrite   unix  -       -       n       -       -       trivial-rewrite
    bounce    unix  -       -       n       -       0       bounce
    smtp      unix  -       -       n       -       -       smtp
    relay     unix  -       -       n       -       -       smtp
            -o syslog_name=postfix/$service_name
    local     unix  -       n       n       -       -       local
    postlog   unix-dgram n  -       n       -       1       postlogd

    """
