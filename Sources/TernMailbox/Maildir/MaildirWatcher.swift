import Foundation
import Synchronization

/// Change notifications for IDLE (Dovecot's mailbox_idle_check with inotify): a session that idles watches
/// its mailbox's new/ and cur/, and is woken when a message arrives, is expunged or changes flags (a
/// rename in cur/). One inotify descriptor and one reading thread serve every session of a process, so an
/// idle session costs neither a thread nor a timer that fires every second. Without inotify (`make()` is
/// nil) sessions fall back to polling.
public final class MaildirWatcher: Sendable {
    /// A registration; `cancel` ends it.
    public struct Watch: Sendable, Hashable {
        fileprivate let descriptors: [Int32]
        fileprivate let id: UInt64
    }

    /// What changes a mailbox's messages: files created, renamed or deleted in new/ and cur/ (a flag change
    /// is a rename), and the directory itself going away.
    static let mask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

    private let fd: Int32
    private let state = Mutex<(next: UInt64, callbacks: [Int32: [UInt64: @Sendable () -> Void]])>((1, [:]))

    private init(fd: Int32) { self.fd = fd }

    /// A watcher with its reading thread; nil when inotify is not available (then sessions poll).
    public static func make() -> MaildirWatcher? {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let watcher = MaildirWatcher(fd: fd)
        let thread = Thread { watcher.readEvents() }
        thread.name = "tern-maildir-watcher"
        thread.start()
        return watcher
    }

    /// Calls `changed` (on the watcher's thread) whenever something changes in one of `directories`; nil
    /// when a directory cannot be watched (the caller polls instead).
    public func watch(_ directories: [String], _ changed: @escaping @Sendable () -> Void) -> Watch? {
        var descriptors: [Int32] = []
        for directory in directories {
            let descriptor = inotify_add_watch(fd, directory, Self.mask)
            guard descriptor >= 0 else { return nil }
            descriptors.append(descriptor)
        }
        return state.withLock { state in
            let id = state.next
            state.next += 1
            for descriptor in descriptors { state.callbacks[descriptor, default: [:]][id] = changed }
            return Watch(descriptors: descriptors, id: id)
        }
    }

    public func cancel(_ watch: Watch) {
        let unused = state.withLock { state in
            var unused: [Int32] = []
            for descriptor in watch.descriptors {
                state.callbacks[descriptor]?[watch.id] = nil
                if state.callbacks[descriptor]?.isEmpty == true {
                    state.callbacks[descriptor] = nil
                    unused.append(descriptor)
                }
            }
            return unused
        }
        // The kernel gives the same descriptor to every watch of one directory: remove it with the last one.
        for descriptor in unused { inotify_rm_watch(fd, descriptor) }
    }

    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            var changed = Set<Int32>()
            var overflow = false
            buffer.withUnsafeBytes { raw in
                var offset = 0
                // struct inotify_event: wd, mask, cookie, len, then `len` bytes of name.
                while offset + 16 <= count {
                    let descriptor = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let eventMask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    if eventMask & UInt32(IN_Q_OVERFLOW) != 0 { overflow = true }
                    if descriptor >= 0 { changed.insert(descriptor) }
                    offset += 16 + length
                }
            }
            let callbacks = state.withLock { state in
                // After an overflow every session looks again.
                let descriptors = overflow ? Array(state.callbacks.keys) : Array(changed)
                var unique: [UInt64: @Sendable () -> Void] = [:]
                for descriptor in descriptors {
                    for (id, callback) in state.callbacks[descriptor] ?? [:] { unique[id] = callback }
                }
                return Array(unique.values)
            }
            for callback in callbacks { callback() }
        }
    }
}

extension MaildirMailbox {
    /// The directories whose changes IDLE watches.
    public var changeDirectories: [String] { [folder.new, folder.cur] }
}

extension Mailbox {
    /// The directories whose changes IDLE watches: a Maildir's (also seen through private flags); none for an
    /// mbox, which is polled.
    public var watchedDirectories: [String] {
        let maildir = (self as? PrivateFlagsMailbox)?.inner ?? self
        return (maildir as? MaildirMailbox)?.changeDirectories ?? []
    }
}
