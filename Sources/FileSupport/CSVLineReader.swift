#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits CSV bytes into lines and fields (RFC 4180 quoting, no newlines inside quotes), calling
/// back with byte ranges so that ten million rows are read without a String per field.
public struct CSVLineReader {
    /// The whole file's bytes; the caller keeps them alive while the reader is used.
    public let bytes: UnsafeRawBufferPointer
    /// The file's name, used in every ``InputError``.
    public let file: String

    /// Creates a reader over bytes the caller owns (usually a memory-mapped file).
    /// - Parameters:
    ///   - bytes: The CSV text as UTF-8; must stay valid for as long as the reader is used.
    ///   - file: The file's name, for error messages.
    public init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// A field of the current line: its bytes with quotes removed ("" unescaped into `unquoted`).
    public struct Field: Sendable {
        /// Start offset of an unquoted field in ``CSVLineReader/bytes`` (0 for a quoted one).
        public var start: Int
        /// End offset (exclusive) of an unquoted field in ``CSVLineReader/bytes`` (0 for a quoted one).
        public var end: Int
        /// The content of a quoted field, quotes removed and `""` unescaped; nil for an unquoted field.
        public var unquoted: [UInt8]?
    }

    /// Calls `body(lineNumber, fields)` for every non-blank line; `fields` is reused between calls.
    public func forEachLine(_ body: (Int, inout [Field]) throws(InputError) -> Void) throws(InputError) {
        var position = 0
        var lineNumber = 0
        var fields = [Field]()
        // A UTF-8 byte-order mark is not part of the first column's name.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        while position < bytes.count {
            lineNumber += 1
            var end = position
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > position, bytes[end - 1] == 0x0D { end -= 1 }
            if end > position {
                try split(position, end, lineNumber, into: &fields)
                try body(lineNumber, &fields)
            }
            position = next
        }
    }

    private func split(_ start: Int, _ end: Int, _ line: Int, into fields: inout [Field]) throws(InputError) {
        fields.removeAll(keepingCapacity: true)
        var i = start
        while true {
            if i < end, bytes[i] == 0x22 {
                var value = [UInt8]()
                i += 1
                var closed = false
                while i < end {
                    if bytes[i] == 0x22 {
                        if i + 1 < end, bytes[i + 1] == 0x22 { value.append(0x22); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    value.append(bytes[i])
                    i += 1
                }
                guard closed else {
                    throw InputError(file: file, line: line, field: "column \(fields.count + 1)", message: "unterminated quoted field (quoted fields may not span lines)")
                }
                guard i == end || bytes[i] == 0x2C else {
                    throw InputError(file: file, line: line, field: "column \(fields.count + 1)", message: "unexpected character after a closing quote")
                }
                fields.append(Field(start: 0, end: 0, unquoted: value))
            } else {
                let fieldStart = i
                while i < end, bytes[i] != 0x2C { i += 1 }
                fields.append(Field(start: fieldStart, end: i, unquoted: nil))
            }
            if i >= end { break }
            i += 1  // the comma
            if i == end { fields.append(Field(start: end, end: end, unquoted: nil)); break }
        }
    }

    /// The field's text, with surrounding spaces removed.
    public func string(_ f: Field) -> String {
        if let u = f.unquoted { return String(decoding: u, as: UTF8.self) }
        var s = f.start, e = f.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[s..<e]), as: UTF8.self)
    }

    /// The field's only byte after trimming spaces, or `nil` if it has none or several.
    @inline(__always)
    public func singleByte(_ f: Field) -> UInt8? {
        if let u = f.unquoted { return u.count == 1 ? u[0] : nil }
        var s = f.start, e = f.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        return e - s == 1 ? bytes[s] : nil
    }

    /// The field's raw bytes (unquoted fields only), as `string` would trim them.
    public func bytes(_ f: Field) -> [UInt8] {
        var s = f.start, e = f.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        return Array(bytes[s..<e])
    }

    /// Whether an unquoted field's bytes are exactly `known` (no trimming: a padded value takes the slow path).
    @inline(__always)
    public func equals(_ f: Field, _ known: [UInt8]) -> Bool {
        guard f.end - f.start == known.count else { return false }
        var i = f.start
        for b in known {
            if bytes[i] != b { return false }
            i += 1
        }
        return true
    }

    /// Parses a decimal number; `nil` if the text is not one. Non-finite spellings are reported by the caller.
    public func double(_ f: Field) -> Double? {
        if let u = f.unquoted { return Self.parseDouble(u[...]) }
        var s = f.start, e = f.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        return Self.parseDouble(UnsafeRawBufferPointer(rebasing: bytes[s..<e]))
    }

    /// Only `[+-]digits[.digits][(e|E)[+-]digits]` is accepted: strtod alone would also take hex,
    /// "nan", "inf" and leading spaces, which are not numbers a scores file should contain.
    public static func parseDouble<C: Collection>(_ text: C) -> Double? where C.Element == UInt8 {
        let n = text.count
        guard n > 0, n < 64 else { return nil }
        var sawDigit = false
        var state = 0  // 0 sign/int, 1 fraction, 2 exponent sign, 3 exponent digits
        var exponentDigits = false
        var first = true
        for c in text {
            defer { first = false }
            switch c {
            case 0x30...0x39:
                if state >= 2 { exponentDigits = true; state = 3 } else { sawDigit = true }
            case 0x2B, 0x2D:
                if !(first || state == 2) { return nil }
                if state == 2 { state = 3 }
            case 0x2E:
                if state != 0 { return nil }
                state = 1
            case 0x65, 0x45:
                if state >= 2 || !sawDigit { return nil }
                state = 2
            default:
                return nil
            }
        }
        guard sawDigit, state < 2 || exponentDigits else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            var k = 0
            for c in text { buf[k] = CChar(bitPattern: c); k += 1 }
            buf[n] = 0
            return strtod(buf.baseAddress!, nil)
        }
    }
}
