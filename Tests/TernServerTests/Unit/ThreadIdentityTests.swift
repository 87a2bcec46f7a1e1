import CTernSys
import Foundation
import NIOPosix
import Testing

/// The per-thread filesystem identity the root master uses to write users' mailboxes.
@Suite(.enabled(if: geteuid() == 0 && getpwnam("nobody") != nil, "needs root and a `nobody` account"))
struct ThreadIdentityTests {
    @Test func fileCreatedUnderBorrowedIdentityBelongsToTheUserAndOtherThreadsStayRoot() async throws {
        let nobody = try #require(getpwnam("nobody")).pointee
        let directory = NSTemporaryDirectory() + "tern-identity-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o777)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let uid = nobody.pw_uid
        let gid = nobody.pw_gid
        let (owner, rootFileDenied) = try await pool.runIfActive { () -> (uid_t, Bool) in
            var groups = [gid]
            #expect(tern_thread_become(uid, gid, &groups, 1) == 0)
            defer { #expect(tern_thread_restore_root() == 0) }
            let fd = open(directory + "/mine", O_CREAT | O_WRONLY, 0o600)
            var info = stat()
            fstat(fd, &info)
            close(fd)
            // A root-only file is out of reach while the thread is the user.
            let denied = open("/etc/shadow", O_RDONLY) < 0
            return (info.st_uid, denied)
        }
        try await pool.shutdownGracefully()
        #expect(owner == uid)
        #expect(rootFileDenied)
        // The process itself, and this thread, kept root.
        let shadow = open("/etc/shadow", O_RDONLY)
        #expect(shadow >= 0)
        close(shadow)
    }
}
