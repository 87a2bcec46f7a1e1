# The SORT/THREAD corpus: written as a Maildir for Dovecot and as Swift for Tern's tests.
import os, sys
M = []
def msg(mtime, headers, body="body\n"):
    M.append((mtime, headers + "\n" + body))

msg(1709540000, 'From: "Zed Zulu" <zed@zulu.example>\nTo: bob@b.example\nSubject: Re: Sort test\nDate: Mon, 04 Mar 2024 10:00:00 +0000\nMessage-ID: <m1@x>\nIn-Reply-To: <m0@x>\n')
msg(1709540100, 'From: alice@a.example\nTo: "Carl" <carl@c.example>\nCc: dave@d.example\nSubject: sort test\nDate: Mon, 04 Mar 2024 11:00:00 +0200\nMessage-ID: <m2@x>\n', "a longer body for message two\n" * 3)
msg(1709540200, 'From: =?UTF-8?Q?=C3=89mile?= <emile@e.example>\nTo: undisclosed-recipients:;\nSubject: Fwd: [list] Re: Sort test (fwd)\nDate: 4 Mar 2024 08:30 -0100\nMessage-ID: <m3@x>\nReferences: <m2@x>\n')
msg(1709400000, 'From: "bob" <Bob@b.example>\nTo: alice@a.example\nCc: "Zoe" <zoe@z.example>\nSubject: =?ISO-8859-1?Q?caf=E9?=\nMessage-ID: <m4@x>\n')
msg(1709540400, 'From: Bob Brown <bob@b.example>\nSubject: [blob]\nDate: Sun, 3 Mar 2024 23:59:59 GMT\nMessage-ID: <m5@x>\n', "x\n")
msg(1709540500, 'From: carl@c.example\nTo: "Ann" <ann@a.example>, bob@b.example\nSubject: Re: Re:  RE: re: Caf\xe9\nDate: not a date\nMessage-ID: <m6@x>\nReferences: <m4@x> <m5@x>\n')
msg(1709540600, 'From: "=?ISO-8859-1?Q?=E9mile?=" <a@x.example>\nSubject: FWD:[x] Fw: sort TEST\nDate: Tue, 5 Mar 2024 12:00:00 EST\nReferences: <m3@x>\nIn-Reply-To: <m2@x>\nMessage-ID: <m7@x>\n')
msg(1709540700, 'From: Hugo <hugo@h.example>\nSubject: [fwd: Sort test]\nDate: 05 Mar 24 12:00:00 -0500\nMessage-ID: <m8@x>\n')
msg(1709540800, 'Date: Sat, 2 Mar 2024 00:00:00 +0000\nMessage-ID: <m9@x>\nReferences: <m8@x>\n')
msg(1709540900, 'From: "\xc3\xbcmlaut" <u@x.example>\nSubject: \xc3\x9cmlaut\nDate: Wed, 6 Mar 2024 09:00:00 +0000\nMessage-ID: <m1@x>\n')
msg(1709541000, 'From: "\xc3\x9cmlaut" <u2@x.example>\nSubject: \xc3\xbcmlaut\nDate: Wed, 6 Mar 2024 09:00:00 +0000\nReferences: <m10a@x> <m11@x>\nMessage-ID: <m11@x>\n')
msg(1709541100, 'From: cy@c.example\nSubject: loop one\nDate: Thu, 7 Mar 2024 09:00:00 +0000\nMessage-ID: <c1@x>\nReferences: <c2@x>\n')
msg(1709541200, 'From: cy@c.example\nSubject: loop two\nDate: Thu, 7 Mar 2024 08:00:00 +0000\nMessage-ID: <c2@x>\nReferences: <c1@x>\n')
msg(1709541300, 'From: dan@d.example\nSubject: Re: [blob] Re: hello\nDate: Fri, 8 Mar 2024 09:00:00 +0000\nIn-Reply-To: foo <gone@x> bar\n')
msg(1709541400, 'From: dan@d.example\nSubject: hello\nDate: Fri, 8 Mar 2024 09:00:00 +0000\nMessage-ID: <h2@x>\n')
msg(1709541500, 'From: "Dan" <dan@d.example>\nSubject:   Re:hello  (fwd) (FWD)  \nDate: Fri, 8 Mar 2024 08:00:00 +0000\nMessage-ID: <h3@x>\n')
msg(1709541600, 'From: "" <empty@e.example>\nTo: Friends: a@x.example, b@y.example;\nSubject: Re: [a]\nDate: Sat, 9 Mar 2024 09:00:00 +0000\nMessage-ID: <g1@x>\nReferences: <nothere@x> <g0@x>\n', "big\n" * 400)
msg(1709541700, 'From: =?UTF-8?B?w4lsw6g=?= <el@e.example>\nTo: =?UTF-8?Q?Z=C3=BCrich?= <z@z.example>\nCc: _under@u.example\nSubject: [a][b] x\nDate: Sat, 9 Mar 2024 10:00:00 +0000\nMessage-ID: <g2@x>\nReferences: <nothere@x> <g0@x>\n')
msg(1709541800, 'From: "Quoted, Name" <q@q.example>\nTo: (comment) plain@p.example\nSubject: =?UTF-8?Q?Re=3A_Sort?= =?UTF-8?Q?_test?=\nDate: Sun, 10 Mar 2024 10:00:00 +0000\nIn-Reply-To: <m1@x>\nMessage-ID: <q1@x>\n')
msg(1709541900, 'From: Ärger <ae@x.example>\nSubject: \xef\xac\x81ne \xe2\x84\xab\nDate: Sun, 10 Mar 2024 11:00:00 +0000\nMessage-ID: <q2@x>\n')

def raw(text):
    return text.encode('latin-1') if all(ord(c) < 256 for c in text) else text.encode()

if sys.argv[1] == 'maildir':
    d = sys.argv[2]
    for sub in ('new', 'cur', 'tmp'): os.makedirs(os.path.join(d, sub), exist_ok=True)
    for i, (mtime, text) in enumerate(M):
        name = os.path.join(d, 'new', '%d.M%dP1.host' % (1000 + i, i))
        with open(name, 'wb') as f: f.write(raw(text))
        os.utime(name, (mtime, mtime))
else:
    out = ['/// The SORT/THREAD corpus (scripts/interop/sort-corpus.py writes the same messages for Dovecot).',
           '/// Bytes, not Strings: some headers carry raw Latin-1 and raw UTF-8, as real mail does.',
           'enum SortCorpus {', '    static let messages: [(mtime: Int, bytes: [UInt8])] = [']
    for mtime, text in M:
        b = raw(text)
        esc = ''.join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else ('\\n' if c == 10 else ('\\"' if c == 34 else ('\\\\' if c == 92 else '\\u{%x}' % c))) for c in b)
        # Swift strings are Unicode: non-ASCII bytes go in as a byte array.
        if all(c < 128 for c in b):
            out.append('        (%d, Array("%s".utf8)),' % (mtime, esc))
        else:
            out.append('        (%d, [%s]),' % (mtime, ', '.join(str(c) for c in b)))
    out += ['    ]', '}']
    print('\n'.join(out))
