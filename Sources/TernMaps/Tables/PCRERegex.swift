import CPCRE2

/// A compiled PCRE2 expression (pcre_table(5)), through the CPCRE2 shim over libpcre2-8.
/// Not Sendable: a table keeps its expressions behind a lock.
final class PCRERegex: TableRegex {
    private let compiled: OpaquePointer
    let subexpressionCount: Int

    /// - Throws: `error in regex at offset N: <pcre2 message>`, Postfix's dict_pcre wording.
    init(_ pattern: [UInt8], options: UInt32) throws(RegexCompileFailure) {
        var message = [CChar](repeating: 0, count: 256)
        var offset = 0
        // NUL-terminated so that an empty pattern still has an address; the length excludes the NUL.
        let result = (pattern + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                tern_pcre_compile(chars.baseAddress!, pattern.count, options, &message, message.count, &offset)
            }
        }
        guard let result else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RegexCompileFailure(message: "error in regex at offset \(offset): \(text)")
        }
        compiled = result
        subexpressionCount = Int(tern_pcre_capture_count(result))
    }

    deinit {
        tern_pcre_free(compiled)
    }

    func matches(_ text: [UInt8], groups: Int) -> (Bool, [Range<Int>?]) {
        let pairs = groups + 1
        var starts = [Int](repeating: -1, count: pairs)
        var ends = [Int](repeating: -1, count: pairs)
        let status = (text + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                tern_pcre_match(compiled, chars.baseAddress!, text.count, &starts, &ends, Int32(pairs))
            }
        }
        // A match error (match limit exceeded) counts as no match, as Postfix's dict_pcre does after its warning.
        guard status == 1 else { return (false, []) }
        guard groups > 0 else { return (true, []) }
        return (true, zip(starts, ends).map { $0 < 0 ? nil : $0..<$1 })
    }
}

extension RegexDialect {
    /// pcre_table(5): case-insensitive by default; `i` toggles, `m` `s` `x` `A` `E` `U` set PCRE2 options,
    /// `X` is accepted and ignored (PCRE_EXTRA has no PCRE2 equivalent). No `/p1/!/p2/` form.
    static let pcre = RegexDialect(type: "pcre", flags: Set("imsxAEUX".utf8), secondPattern: false) {
        (pattern, _) throws(RegexCompileFailure) -> any TableRegex in
        var options = UInt32(TERN_PCRE_CASELESS)
        for flag in pattern.flags {
            switch flag {
            case UInt8(ascii: "i"): options ^= UInt32(TERN_PCRE_CASELESS)
            case UInt8(ascii: "m"): options |= UInt32(TERN_PCRE_MULTILINE)
            case UInt8(ascii: "s"): options |= UInt32(TERN_PCRE_DOTALL)
            case UInt8(ascii: "x"): options |= UInt32(TERN_PCRE_EXTENDED)
            case UInt8(ascii: "A"): options |= UInt32(TERN_PCRE_ANCHORED)
            case UInt8(ascii: "E"): options |= UInt32(TERN_PCRE_DOLLAR_ENDONLY)
            case UInt8(ascii: "U"): options |= UInt32(TERN_PCRE_UNGREEDY)
            default: break
            }
        }
        return try PCRERegex(Array(pattern.text.utf8), options: options)
    }
}

/// A Perl-compatible expression for callers outside the tables: postgrey's whitelists are Perl `qr{...}i`
/// expressions. Not Sendable (it owns the compiled pattern); keep it inside the actor that matches.
public final class PerlPattern {
    private let regex: PCRERegex
    public let source: String

    /// - Throws: `error in regex at offset N: <pcre2 message>`.
    public init(_ pattern: String, caseless: Bool) throws(PerlPatternError) {
        source = pattern
        do {
            regex = try PCRERegex(Array(pattern.utf8), options: caseless ? UInt32(TERN_PCRE_CASELESS) : 0)
        } catch {
            throw PerlPatternError(message: error.message)
        }
    }

    public func matches(_ text: String) -> Bool {
        regex.matches(Array(text.utf8), groups: 0).0
    }

    /// `text` with every ASCII character other than letters, digits and `_` backslash-escaped, like Perl's
    /// `\Q` (non-ASCII bytes are never PCRE metacharacters).
    public static func quote(_ text: String) -> String {
        var quoted = ""
        for scalar in text.unicodeScalars {
            let plain = !scalar.isASCII || scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ("0"..."9").contains(scalar)
            if !plain { quoted.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted
    }
}

/// A pattern PCRE2 does not compile, with its message.
public struct PerlPatternError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
