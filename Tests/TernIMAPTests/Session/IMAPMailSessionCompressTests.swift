import TernIMAP
import Testing

/// RFC 4978 COMPRESS as Dovecot 2.3.19 with imap_zlib answers it (checked against one); the compression
/// itself is the session worker's (TernServerTests).
@Suite struct IMAPMailSessionCompressTests {
    @Test func withoutTheCapabilityCompressIsUnknown() throws {
        let f = try SessionFixture()
        #expect(f.send("a COMPRESS DEFLATE\r\n") == "a BAD Error in IMAP command COMPRESS: Unknown command" + done)
    }

    @Test func compressDeflateStartsAfterItsOwnLine() throws {
        let f = try SessionFixture(capabilities: IMAPReplyText.postLoginCapabilities + ["COMPRESS=DEFLATE"])
        #expect(f.send("a CAPABILITY\r\n").contains(" REPLACE UIDONLY COMPRESS=DEFLATE\r\n"))
        #expect(f.send("b COMPRESS FOO\r\n") == "b NO Unknown compression mechanism" + done)
        #expect(f.send("c COMPRESS\r\n") == "c BAD Error in IMAP command COMPRESS: Invalid arguments" + done)
        // §3: the client compresses from the first octet after the command's CRLF; those bytes are not
        // parsed by the session but handed back.
        let answer = f.session.receive(Array("d COMPRESS DEFLATE\r\n\u{1}\u{2}compressed".utf8))
        #expect(String(decoding: answer.bytes, as: UTF8.self) == "d OK Begin compression" + done)
        #expect(answer.compressedInput == Array("\u{1}\u{2}compressed".utf8))
        #expect(!answer.close)
        // The worker now inflates what comes in; the session sees plain commands again.
        #expect(
            f.send("e COMPRESS DEFLATE\r\n")
                == "e NO [COMPRESSIONACTIVE] COMPRESSION=DEFLATE already enabled" + done)
        #expect(f.session.receive(Array("f NOOP\r\n".utf8)).compressedInput == nil)
    }
}
