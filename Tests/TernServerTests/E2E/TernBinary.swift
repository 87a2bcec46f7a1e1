import Foundation
import Glibc

/// Where the `tern` executable under test is.
///
/// 1. `TERN_BIN` in the environment, when set (an absolute path to a `tern` binary).
/// 2. Otherwise the `tern` SwiftPM builds next to the test bundle: starting at the directory of the test
///    process's executable (`CommandLine.arguments[0]`, e.g. `.build/debug/ternPackageTests.xctest`), then
///    `Bundle.main`'s, each directory and its parents are searched for a regular, executable file `tern`.
///    `swift build --build-tests` and `swift test` build it there.
enum TernBinary {
    static let path: String? = locate()

    /// How the path was found, for failure messages.
    static let origin: String =
        ProcessInfo.processInfo.environment["TERN_BIN"].map { "TERN_BIN=\($0)" }
        ?? "searched upwards from \(CommandLine.arguments.first ?? "?")"

    private static func locate() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["TERN_BIN"], !explicit.isEmpty {
            return isExecutableFile(explicit) ? explicit : nil
        }
        var starts: [String] = []
        if let argv0 = CommandLine.arguments.first {
            starts.append(URL(fileURLWithPath: argv0).standardizedFileURL.resolvingSymlinksInPath().path)
        }
        starts.append(Bundle.main.bundleURL.path)
        if let executable = Bundle.main.executablePath { starts.append(executable) }
        for start in starts {
            var directory = URL(fileURLWithPath: start).deletingLastPathComponent()
            for _ in 0..<6 {
                let candidate = directory.appendingPathComponent("tern").path
                if isExecutableFile(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        // FileManager rather than stat(2): `struct stat`'s members resolve through a different module depending
        // on what else the test target imports.
        guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
        else { return false }
        return type == .typeRegular && access(path, X_OK) == 0
    }
}
