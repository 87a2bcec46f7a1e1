import Foundation
import TernIMAP
import Testing

/// RFC 8970 PREVIEW and Dovecot's SNIPPET (FUZZY). The corpus's answers are Dovecot 2.3.19's, byte for byte
/// (captured with APPEND and `FETCH 1:* PREVIEW` on a loopback Dovecot).
@Suite struct IMAPMailSessionPreviewTests {
    /// The message's bytes: each scalar of `text` is one byte (so 8-bit charsets can be written down).
    static func bytes(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8($0.value) } }

    static func deliver(_ f: SessionFixture, _ messages: [String]) throws {
        let new = f.root + "/new"
        try FileManager.default.createDirectory(atPath: new, withIntermediateDirectories: true)
        for (index, message) in messages.enumerated() {
            let name = String(format: "%d.M%dP1.host", 1_000_000_000 + index, index)
            try Data(bytes(message)).write(to: URL(fileURLWithPath: new + "/" + name))
        }
    }

    /// HTML is converted in pieces of 4096 bytes; a construct cut at a piece's end (here `</style>`) waits for
    /// the next one. Dovecot 2.3.19's answer to the same message.
    @Test func htmlCutBetweenPieces() throws {
        let f = try SessionFixture()
        let html = "Subject: h\r\nContent-Type: text/html\r\n\r\n<style>" + String(repeating: "a", count: 4082)
            + "</style>caf&eacute; <!-- x -- >y --><b class=\"a>b\">bold</b>&lt;<script>s</script>"
            + String(repeating: "word ", count: 60) + "\r\n"
        try Self.deliver(f, [html])
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("a FETCH 1 PREVIEW\r\n")
                == "* 1 FETCH (PREVIEW {201}\r\ncaf\u{E9} y --> bold <" + String(repeating: " word", count: 36)
                + " wo)\r\na OK Fetch completed" + done)
    }

    @Test func corpusMatchesDovecot() throws {
        let f = try SessionFixture()
        try Self.deliver(f, Self.corpus.map(\.message))
        f.send("s SELECT INBOX\r\n")
        var expected = ""
        for (index, entry) in Self.corpus.enumerated() { expected += "* \(index + 1) FETCH (\(entry.preview))\r\n" }
        let reply = f.send("f FETCH 1:* PREVIEW\r\n")
        #expect(reply == expected + "f OK Fetch completed" + done)
        if reply != expected + "f OK Fetch completed" + done {
            for (index, entry) in Self.corpus.enumerated() {
                let one = f.send("g FETCH \(index + 1) PREVIEW\r\n")
                #expect(one == "* \(index + 1) FETCH (\(entry.preview))\r\ng OK Fetch completed" + done, "\(entry.name)")
            }
        }
    }

    /// RFC 8970 §6's LAZY example: previews not made yet are NIL, and made on a FETCH without LAZY.
    @Test func lazyAnswersNilUntilMade() throws {
        let f = try SessionFixture()
        try Self.deliver(f, [
            "Subject: 1\r\n\r\nPreview text for message 1\r\n", "Subject: 2\r\n\r\nPreview text for message 2\r\n",
            "Subject: 3\r\n\r\n", "Subject: 4\r\n\r\nPreview text for message 4\r\n",
        ])
        f.send("s SELECT INBOX\r\n")
        #expect(
            f.send("a FETCH 1,3:4 PREVIEW\r\n")
                == "* 1 FETCH (PREVIEW \"Preview text for message 1\")\r\n* 3 FETCH (PREVIEW \"\")\r\n"
                + "* 4 FETCH (PREVIEW \"Preview text for message 4\")\r\na OK Fetch completed" + done)
        #expect(
            f.send("B1 FETCH 1:4 (PREVIEW (LAZY))\r\n")
                == "* 1 FETCH (PREVIEW \"Preview text for message 1\")\r\n* 2 FETCH (PREVIEW NIL)\r\n"
                + "* 3 FETCH (PREVIEW \"\")\r\n* 4 FETCH (PREVIEW \"Preview text for message 4\")\r\n"
                + "B1 OK Fetch completed" + done)
        #expect(
            f.send("B2 FETCH 2 (PREVIEW)\r\n")
                == "* 2 FETCH (PREVIEW \"Preview text for message 2\")\r\nB2 OK Fetch completed" + done)
        #expect(
            f.send("B3 FETCH 2 (PREVIEW (LAZY))\r\n")
                == "* 2 FETCH (PREVIEW \"Preview text for message 2\")\r\nB3 OK Fetch completed" + done)
    }

    /// Dovecot's SNIPPET and the FUZZY / LAZY=FUZZY modifiers, and its answers to modifiers it does not know.
    @Test func snippetAndModifiers() throws {
        let f = try SessionFixture()
        try Self.deliver(f, ["Subject: x\r\n\r\nHello   world,\r\n\r\n  this is\ta test.\r\n"])
        f.send("s SELECT INBOX\r\n")
        #expect(f.send("a FETCH 1 (SNIPPET (LAZY=FUZZY))\r\n") == "* 1 FETCH (SNIPPET (FUZZY NIL))\r\na OK Fetch completed" + done)
        let text = "\"Hello world, this is a test.\""
        #expect(
            f.send("b FETCH 1 (PREVIEW UID SNIPPET (FUZZY) FLAGS)\r\n")
                == "* 1 FETCH (PREVIEW \(text) UID 1 SNIPPET (FUZZY \(text)) FLAGS (\\Recent))\r\nb OK Fetch completed" + done)
        #expect(f.send("c FETCH 1 SNIPPET\r\n") == "* 1 FETCH (SNIPPET (FUZZY \(text)))\r\nc OK Fetch completed" + done)
        #expect(f.send("d FETCH 1 PREVIEW (FUZZY)\r\n") == "* 1 FETCH (PREVIEW (FUZZY \(text)))\r\nd OK Fetch completed" + done)
        #expect(f.send("e FETCH 1 PREVIEW ()\r\n") == "* 1 FETCH (PREVIEW \(text))\r\ne OK Fetch completed" + done)
        #expect(f.send("f UID FETCH 1 (PREVIEW (lazy))\r\n") == "* 1 FETCH (UID 1 PREVIEW \(text))\r\nf OK Fetch completed" + done)
        #expect(
            f.send("g FETCH 1 PREVIEW (FOO)\r\n")
                == "g BAD Error in IMAP command FETCH: 'FOO' is not a supported PREVIEW modifier" + done)
        #expect(
            f.send("h FETCH 1 SNIPPET (FOO)\r\n")
                == "h BAD Error in IMAP command FETCH: 'FOO' is not a supported PREVIEW modifier" + done)
        #expect(f.send("i FETCH 1 PREVIEW LAZY\r\n") == "i BAD Error in IMAP command FETCH: Invalid arguments" + done)
    }

    /// Previews are kept in `tern.preview`: a later FETCH does not read the message again, and another
    /// session's PREVIEW (LAZY) finds them.
    @Test func previewsAreCached() throws {
        let f = try SessionFixture()
        try Self.deliver(f, ["Subject: x\r\n\r\nfirst text\r\n", "Subject: y\r\n\r\nsecond text\r\n"])
        f.send("s SELECT INBOX\r\n")
        #expect(f.send("a FETCH 1 PREVIEW\r\n") == "* 1 FETCH (PREVIEW \"first text\")\r\na OK Fetch completed" + done)
        // The file changes behind Tern's back (a Maildir file never does): the preview stays as made.
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: f.root + "/cur").sorted().first)
        try Data("Subject: x\r\n\r\nchanged text\r\n".utf8).write(to: URL(fileURLWithPath: f.root + "/cur/" + name))
        #expect(f.send("b FETCH 2 PREVIEW\r\n") == "* 2 FETCH (PREVIEW \"second text\")\r\nb OK Fetch completed" + done)
        #expect(f.send("c FETCH 1 PREVIEW\r\n") == "* 1 FETCH (PREVIEW \"first text\")\r\nc OK Fetch completed" + done)
        #expect(FileManager.default.fileExists(atPath: f.root + "/tern.preview"))
        let other = IMAPMailSession(
            store: f.store, configuration: IMAPMailSession.Configuration(user: "tuser", clock: { 0 }))
        _ = other.receive(Array("s SELECT INBOX\r\n".utf8))
        let reply = String(decoding: other.receive(Array("d FETCH 1:2 (PREVIEW (LAZY))\r\n".utf8)).bytes, as: UTF8.self)
        #expect(
            reply == "* 1 FETCH (PREVIEW \"first text\")\r\n* 2 FETCH (PREVIEW \"second text\")\r\nd OK Fetch completed"
                + done)
    }

    static let corpus: [(name: String, message: String, preview: String)] = [
        ("m1", "From: a@example.com\r\nTo: b@example.com\r\nSubject: plain\r\n\r\nHello   world,\r\n\r\n  this is\ta test.\r\n> quoted line\r\nafter quote\r\n",
         "PREVIEW \"Hello world, this is a test. after quote\""),
        ("m2", "From: a@example.com\r\nSubject: qp latin1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus K=F6ln, =\r\nsoft break here.\r\n",
         "PREVIEW {35}\r\nGr\u{FC}\u{DF}e aus K\u{F6}ln, soft break here."),
        ("m3", "From: a@example.com\r\nSubject: long\r\n\r\nword0 lorem0 lorem1 lorem2 lorem3 lorem4 lorem5 lorem6 lorem7 lorem8 lorem9 lorem10 lorem11 lorem12 lorem13 lorem14 lorem15 lorem16 lorem17 lorem18 lorem19 lorem20 lorem21 lorem22 lorem23 lorem24 lorem25 lorem26 lorem27 lorem28 lorem29 lorem30 lorem31 lorem32 lorem33 lorem34 lorem35 lorem36 lorem37 lorem38 lorem39 lorem40 lorem41 lorem42 lorem43 lorem44 lorem45 lorem46 lorem47 lorem48 lorem49 lorem50 lorem51 lorem52 lorem53 lorem54 lorem55 lorem56 lorem57 lorem58 lorem59 lorem60 lorem61 lorem62 lorem63 lorem64 lorem65 lorem66 lorem67 lorem68 lorem69 lorem70 lorem71 lorem72 lorem73 lorem74 lorem75 lorem76 lorem77 lorem78 lorem79\r\n",
         "PREVIEW \"word0 lorem0 lorem1 lorem2 lorem3 lorem4 lorem5 lorem6 lorem7 lorem8 lorem9 lorem10 lorem11 lorem12 lorem13 lorem14 lorem15 lorem16 lorem17 lorem18 lorem19 lorem20 lorem21 lorem22 lorem23 lorem24 lore\""),
        ("m4", "From: a@example.com\r\nSubject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><title>T</title><style>p {color:red}</style></head><body><p>Hello &amp; welcome&nbsp;to <b>HTML</b>&lt;x&gt;</p>\r\n<blockquote>quoted</blockquote><p>caf&eacute; &#233; &#x41;</p><script>var x=1;</script>end</body></html>\r\n",
         "PREVIEW {45}\r\nT Hello & welcome\u{A0}to HTML <x> caf\u{E9} \u{E9} A end"),
        ("m5", "From: a@example.com\r\nSubject: alt\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\npreamble text\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZSBiYXNlNjQgdGV4dApsaW5lIHR3bw==\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>html part</p>\r\n--XX--\r\n",
         "PREVIEW {28}\r\nGr\u{FC}\u{DF}e base64 text line two"),
        ("m6", "From: a@example.com\r\nSubject: mixed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=YY\r\n\r\n--YY\r\nContent-Type: application/pdf\r\n\r\nPDFDATA\r\n--YY\r\nContent-Type: text/plain\r\n\r\nsecond part text\r\n--YY--\r\n",
         "PREVIEW \"second part text\""),
        ("m7", "From: a@example.com\r\nSubject: only quote\r\n\r\n> only quoted text here\r\n>> more\r\n",
         "PREVIEW \">only quoted text here > more\""),
        ("m8", "From: a@example.com\r\nSubject: empty\r\n\r\n",
         "PREVIEW \"\""),
        ("m9", "From: a@example.com\r\nSubject: img\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n",
         "PREVIEW \"\""),
        ("m10", "From: a@example.com\r\nSubject: rel\r\nContent-Type: multipart/related; boundary=ZZ\r\n\r\n--ZZ\r\nContent-Type: multipart/alternative; boundary=AA\r\n\r\n--AA\r\nContent-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<div>Nested =93smart=94 quotes \u{E9}</div><br>next&nbsp;&nbsp;line\r\n--AA--\r\n--ZZ--\r\n",
         "PREVIEW {41}\r\nNested \u{201C}smart\u{201D} quotes \u{E9} next\u{A0}\u{A0}line"),
        ("m11", "From: a@example.com\r\nSubject: utf8 long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \u{C3}\u{A4}\u{C3}\u{B6}\u{C3}\u{BC}\u{E2}\u{82}\u{AC} \r\n",
         "PREVIEW {399}\r\n\u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC} \u{E4}\u{F6}\u{FC}\u{20AC}"),
        ("m12", "From: a@example.com\r\nSubject: 200 exact\r\n\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b c\r\n",
         "PREVIEW \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
        ("m13", "From: a@example.com\r\nSubject: rfc822\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body text\r\n",
         "PREVIEW \"\""),
        ("m14", "From: a@example.com\r\nSubject: ctrl\r\n\r\nhas\u{1}control\u{7F} and \"quotes\" and \\backslash\r\n",
         "PREVIEW \"has\u{1}control\u{7F} and \\\"quotes\\\" and \\\\backslash\""),
        ("n1", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>html first</p>\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain second\r\n--XX--\r\n",
         "PREVIEW \"plain second\""),
        ("n2", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\none\r\n--XX\r\nContent-Type: text/html\r\n\r\n<i>two</i>\r\n--XX\r\n\r\nthree\r\n--XX--\r\n",
         "PREVIEW \"one\""),
        ("n3", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n\r\n> abc\r\nx y\r\n",
         "PREVIEW \"x y\""),
        ("n4", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n> not quote<br>\r\n> line2 &foo bar &unknown; &#233 x &verylongentityname; q &AMP; &#X42; &#66;<!-- comment -- > still -->after<![CDATA[cd<b>]]>z<a href=\"x>y\">link</a>\r\n",
         "PREVIEW \">not quote line2 foo bar #233 x verylongentityname; q B still -->aftercd<b>z link\""),
        ("n5", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\r\n  \r\n--XX\r\nContent-Type: text/plain\r\n\r\nafter empty\r\n--XX--\r\n",
         "PREVIEW \"\""),
        ("n6", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-unknown-cs\r\n\r\nunknown charset \u{E9}t\u{E9}\r\n",
         "PREVIEW {23}\r\nunknown charset \u{FFFD}t\u{FFFD}"),
        ("n7", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nraw 8bit \u{E9}t\u{E9} and utf8 \u{C3}\u{A9}\r\n",
         "PREVIEW {28}\r\nraw 8bit \u{FFFD}t\u{FFFD} and utf8 \u{E9}"),
        ("n8", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/enriched\r\n\r\n<bold>enriched</bold>\r\n",
         "PREVIEW \"<bold>enriched</bold>\""),
        ("n9", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner text\r\n--XX\r\nContent-Type: text/plain\r\n\r\nouter after\r\n--XX--\r\n",
         "PREVIEW \"outer after\""),
        ("n10", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n\u{EF}\u{BB}\u{BF}BOM text\tx\u{B}v\u{C}f\r\n",
         "PREVIEW \"BOM text x v f\""),
        ("n11", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64@@@\r\n",
         "PREVIEW \"\""),
        ("n13", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: TEXT/HTML; charset=\"UTF-8\"\r\n\r\n<STYLE type=x>a{}</STYLE><SCRIPT>x</SCRIPT>A<blockquote type=cite>q<blockquote>qq</blockquote>q2</blockquote>B</p>\r\n",
         "PREVIEW \"A B\""),
        ("n14", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n> q1\r\n\r\n>q2\r\n",
         "PREVIEW \">q1 q2\""),
        ("n15", "From: a@example.com\r\nSubject: no blank line",
         "PREVIEW \"\""),
        ("n16", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain\r\n\r\ndeep plain\r\n--YY--\r\n--XX--\r\n",
         "PREVIEW \"deep plain\""),
        ("o1", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--XX\r\nContent-Type: text/enriched\r\n\r\nenriched\r\n--XX--\r\n",
         "PREVIEW \"html\""),
        ("o2", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/enriched\r\n\r\nenriched\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain\r\n--XX--\r\n",
         "PREVIEW \"enriched\""),
        ("o3", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html\r\n\r\nh1\r\n--XX\r\nContent-Type: text/html\r\n\r\nh2\r\n--XX--\r\n",
         "PREVIEW \"h1\""),
        ("o4", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/calendar\r\n\r\ncal\r\n--XX\r\nContent-Type: text/html\r\n\r\nh2\r\n--XX--\r\n",
         "PREVIEW \"cal\""),
        ("o5", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=XX\r\n\r\n--XX\r\n\r\nSubject: x\r\n\r\ndigest body\r\n--XX\r\nContent-Type: text/plain\r\n\r\nplain in digest\r\n--XX--\r\n",
         "PREVIEW \"Subject: x digest body\""),
        ("o6", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached text\r\n--XX\r\nContent-Type: text/html\r\n\r\nbody html\r\n--XX--\r\n",
         "PREVIEW \"attached text\""),
        ("o7", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\u{1B}$B$3$s$K$A$O\u{1B}(B world\r\n",
         "PREVIEW {21}\r\n\u{3053}\u{3093}\u{306B}\u{3061}\u{306F} world"),
        ("o8", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ qp =C3=A9 =\r\nend=\r\n",
         "PREVIEW {17}\r\nbad =ZZ qp \u{E9} end"),
        ("o9", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary body\r\n",
         "PREVIEW \"\""),
        ("o10", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nnul\u{0}byte and   \r\n\r\n \u{C2}\u{A0}nbsp\r\n",
         "PREVIEW {18}\r\nnulbyte and \u{A0}nbsp"),
        ("o11", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>html after empty plain</p>\r\n--XX--\r\n",
         "PREVIEW \"\""),
        ("o12", "From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>only html</p>\r\n--XX\r\nContent-Type: text/plain\r\n\r\nlate plain\r\n--XX--\r\n",
         "PREVIEW \"late plain\""),
    ]
}
