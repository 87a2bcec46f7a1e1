import Foundation

/// `tern demo [DIR]`: placeholder until the demo configuration is written.
enum DemoCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        0
    }
}
