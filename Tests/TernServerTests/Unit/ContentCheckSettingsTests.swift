import Foundation
import TernConfig
import TernCore
import TernMaps
import TernQueue
import Testing

@testable import TernServer

/// header_checks & co. from main.cf: defaults, shared tables, receive_override_options, errors.
@Suite struct ContentCheckSettingsTests {
    func checks(_ lines: String) throws -> ContentChecks {
        let config = try MainConfig.parse(text: lines)
        return try ContentChecks.make(config: config) { try MapOpener.open($0) }
    }

    @Test func mimeAndNestedDefaultToHeaderChecks() throws {
        let checks = try checks("header_checks = inline:{ {Subject: x=REJECT} }\nbody_checks_size_limit = 100\n")
        #expect(try checks.header?.lookup("Subject: x") == "REJECT")
        #expect(try checks.mimeHeader?.lookup("Subject: x") == "REJECT")
        #expect(try checks.nestedHeader?.lookup("Subject: x") == "REJECT")
        #expect(checks.body == nil)
        #expect(checks.bodySizeLimit == 100)
        #expect(checks.mimeHeader?.parameter == "mime_header_checks")
    }

    @Test func noHeaderBodyChecksTurnsThemOff() throws {
        let checks = try checks(
            "header_checks = inline:{ {Subject: x=REJECT} }\nreceive_override_options = no_header_body_checks\n")
        #expect(checks.isEmpty)
    }

    @Test func aMissingTableNamesTheParameter() throws {
        #expect(throws: (any Error).self) { try checks("body_checks = pcre:/nonexistent/body_checks\n") }
        do {
            _ = try checks("body_checks = pcre:/nonexistent/body_checks\n")
        } catch {
            #expect("\(error)".contains("body_checks: "), "\(error)")
        }
    }
}
