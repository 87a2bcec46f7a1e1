import Foundation
import Testing

@testable import TernMailbox

/// A temporary directory removed at the end of the test, optionally filled with the Dovecot-written fixture.
final class TemporaryMaildir {
    let path: String

    init(fixture: Bool = false) throws {
        let base = NSTemporaryDirectory() + "tern-mailbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base + "/Maildir"
        if fixture {
            try FileManager.default.copyItem(atPath: Self.fixturePath("dovecot-maildir"), toPath: path)
            // git keeps no empty directories: give every folder its cur/new/tmp back.
            for folder in [path]
                + (try FileManager.default.contentsOfDirectory(atPath: path)).filter({ $0.hasPrefix(".") }).map({
                    path + "/" + $0
                })
            {
                for sub in ["cur", "new", "tmp"] {
                    try FileManager.default.createDirectory(
                        atPath: folder + "/" + sub, withIntermediateDirectories: true)
                }
            }
        } else {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
            }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: Self.parent(path)) }

    static func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    static func fixturePath(_ name: String) -> String {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath(name))))
    }

    /// Drops a message into new/ the way Tern's MTA (or Postfix) does: no S= or W= in the name.
    @discardableResult
    func deliver(_ text: String, name: String, folder: String? = nil, mtime: Int? = nil) throws -> String {
        let dir = (folder.map { path + "/" + $0 } ?? path) + "/new/"
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + name))
        if let mtime {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(mtime))], ofItemAtPath: dir + name)
        }
        return dir + name
    }

    func files(_ sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + sub)) ?? []).sorted()
    }

    func read(_ relative: String) -> String {
        (try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)) ?? ""
    }
}

extension Mailbox {
    func readAll(uid: UInt32) throws -> String {
        var reader = try openMessage(uid: uid)
        var bytes: [UInt8] = []
        while true {
            let chunk = try reader.read(upTo: 7)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func append(_ text: String, flags: MessageFlags = [], keywords: [String] = [], date: Int? = nil) throws -> UInt32 {
        let appender = try beginAppend(flags: flags, keywords: keywords, internalDate: date)
        try appender.write(Array(text.utf8))
        return try appender.commit()
    }
}
