import Foundation
import Glibc

@testable import TernDelivery

/// Scratch directories and message sources for the mailbox writer tests.
enum MailboxTestSupport {
    /// A fresh directory under /tmp, world-searchable so that a throwaway test user can reach its children.
    static func makeDirectory(_ name: String = #function) -> String {
        let cleaned = name.filter { $0.isLetter || $0.isNumber }
        var template = Array("/tmp/tern-mailbox-\(cleaned)-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(path, 0o755)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A descriptor positioned at the start of `text`, backed by an unlinked temporary file.
    static func contentFD(_ text: String) -> Int32 {
        contentFD(Array(text.utf8))
    }

    static func contentFD(_ bytes: [UInt8]) -> Int32 {
        var template = Array("/tmp/tern-content-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    static func mode(_ path: String) -> mode_t {
        var st = stat()
        _ = stat(path, &st)
        return st.st_mode & 0o7777
    }

    static func size(_ path: String) -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { return -1 }
        return Int(st.st_size)
    }

    static func owner(_ path: String) -> uid_t {
        var st = stat()
        _ = stat(path, &st)
        return st.st_uid
    }

    /// A lock policy that does not make tests wait whole seconds.
    static let fastLocks = MailboxLockPolicy(methods: [.fcntl, .dotlock], attempts: 3, delaySeconds: 0.05)
}
