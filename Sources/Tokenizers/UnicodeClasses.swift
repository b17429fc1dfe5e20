/// Character classes and mappings exactly as HuggingFace `tokenizers` applies them, decoded once
/// from the tables in `UnicodeTables.swift` (probed from the library; see that file).
///
/// Scalars are handled as `UInt32` code points throughout the tokenizer: comparing and hashing
/// Swift `String`s would apply canonical equivalence ("é" == "e\u{301}"), which the library does
/// not do.
struct UnicodeClasses: Sendable {
    /// Flag bits of a scalar.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// Removed by clean_text: NUL, U+FFFD, control, format and private-use characters.
        static let removedByClean = Flags(rawValue: 1)
        /// Whitespace that clean_text replaces by a space.
        static let cleanSpace = Flags(rawValue: 2)
        /// A CJK ideograph that handle_chinese_chars surrounds with spaces.
        static let chinese = Flags(rawValue: 4)
        /// Whitespace for the BERT pre-tokenizer (splits, and is dropped).
        static let whitespace = Flags(rawValue: 8)
        /// Punctuation for the BERT pre-tokenizer (a word of its own).
        static let punctuation = Flags(rawValue: 16)
        /// A nonspacing mark, removed by strip_accents.
        static let nonspacingMark = Flags(rawValue: 32)
    }

    /// The process-wide tables (decoded on first use; a global is initialised once, thread-safely).
    static let shared = UnicodeClasses()

    private let runStarts: [UInt32]
    private let runFlags: [UInt8]
    private let asciiFlags: [UInt8]
    private let lowercase: [UInt32: [UInt32]]
    private let strip: [UInt32: [UInt32]]

    private init() {
        var starts: [UInt32] = [], flags: [UInt8] = []
        for run in Self.fields(unicodeFlagRuns, separator: ",") {
            let parts = run.split(separator: ":")
            starts.append(UInt32(parts[0], radix: 16)!)
            flags.append(UInt8(parts[1], radix: 16)!)
        }
        runStarts = starts
        runFlags = flags
        lowercase = Self.mapping(unicodeLowercaseMap)
        strip = Self.mapping(unicodeStripMap)
        var ascii = [UInt8](repeating: 0, count: 128)
        for c in 0..<128 { ascii[c] = Self.search(UInt32(c), starts, flags) }
        asciiFlags = ascii
    }

    private static func fields(_ table: String, separator: Character) -> [Substring] {
        table.filter { $0 != "\n" }.split(separator: separator)[...].map { $0 }
    }

    private static func mapping(_ table: String) -> [UInt32: [UInt32]] {
        var map: [UInt32: [UInt32]] = [:]
        for entry in table.filter({ $0 != "\n" }).split(separator: ";") {
            let parts = entry.split(separator: ":")
            let key = UInt32(parts[0], radix: 16)!
            map[key] = parts.count > 1 ? parts[1].split(separator: ",").map { UInt32($0, radix: 16)! } : []
        }
        return map
    }

    private static func search(_ c: UInt32, _ starts: [UInt32], _ flags: [UInt8]) -> UInt8 {
        // The last run starting at or before c.
        var lo = 0, hi = starts.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if starts[mid] <= c { lo = mid } else { hi = mid }
        }
        return flags[lo]
    }

    @inline(__always)
    func flags(_ c: UInt32) -> Flags {
        if c < 128 { return Flags(rawValue: asciiFlags[Int(c)]) }
        return Flags(rawValue: Self.search(c, runStarts, runFlags))
    }

    /// Appends the lowercase form of `c` (one or more scalars, as Rust's `char::to_lowercase`).
    @inline(__always)
    func appendLowercase(_ c: UInt32, to out: inout [UInt32]) {
        if c < 128 {
            out.append(c >= 65 && c <= 90 ? c + 32 : c)
        } else if let mapped = lowercase[c] {
            out.append(contentsOf: mapped)
        } else {
            out.append(c)
        }
    }

    /// Appends `c` without its accents: the canonical decomposition with nonspacing marks dropped.
    @inline(__always)
    func appendStripped(_ c: UInt32, to out: inout [UInt32]) {
        if c < 128 { out.append(c); return }
        if flags(c).contains(.nonspacingMark) { return }
        if c >= 0xAC00 && c <= 0xD7A3 {
            // Hangul syllables decompose by formula (Unicode §3.12) into leading consonant, vowel and
            // optional trailing consonant jamo; none of them is a mark.
            let s = c - 0xAC00
            out.append(0x1100 + s / 588)
            out.append(0x1161 + (s % 588) / 28)
            if s % 28 != 0 { out.append(0x11A7 + s % 28) }
        } else if let mapped = strip[c] {
            out.append(contentsOf: mapped)
        } else {
            out.append(c)
        }
    }
}
