import Foundation

/// A strict RFC 8259 parser for request bodies and stored metadata, written here rather than
/// using `JSONDecoder` because the service must:
/// - refuse an object that names a key twice (`JSONDecoder` keeps one silently, so
///   `{"threshold": 0.9, "threshold": -1}` meant whatever the decoder picked);
/// - keep integers beyond ±2⁵³ exact (``JSONValue/integer(_:)``), which a Double rounds;
/// - bound nesting (``maxDepth``), so that `[[[[…` cannot exhaust the stack.
enum StrictJSONParser {
    /// What is wrong, where: the message names the offset, and the key for duplicates.
    struct Failure: Error {
        let message: String
        /// The path of a duplicated key (`items[0].id`), for the error's `field`.
        var field: String?
    }

    static let maxDepth = 256

    static func parse(_ data: Data) throws(Failure) -> JSONValue {
        let bytes = [UInt8](data)
        var p = Parser(bytes: bytes)
        p.skipWhitespace()
        let value = try p.value(depth: 0, path: "")
        p.skipWhitespace()
        guard p.i == bytes.count else { throw p.fail("unexpected text after the JSON value") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ what: String) -> Failure { Failure(message: "\(what) at byte \(i)") }

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(Failure) -> JSONValue {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
            i += w.count
            return value
        }

        mutating func value(depth: Int, path: String) throws(Failure) -> JSONValue {
            guard depth < StrictJSONParser.maxDepth else { throw fail("nesting deeper than \(StrictJSONParser.maxDepth) levels") }
            guard i < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[i] {
            case UInt8(ascii: "{"): return try object(depth: depth, path: path)
            case UInt8(ascii: "["): return try array(depth: depth, path: path)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character")
            }
        }

        mutating func object(depth: Int, path: String) throws(Failure) -> JSONValue {
            i += 1
            var fields: [String: JSONValue] = [:]
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object(fields)
            }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key in quotes") }
                let key = try string()
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                guard fields[key] == nil else {
                    throw Failure(message: "the key '\(keyPath)' appears twice in one object (at byte \(i))", field: keyPath)
                }
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipWhitespace()
                fields[key] = try value(depth: depth + 1, path: keyPath)
                skipWhitespace()
                guard i < bytes.count else { throw fail("unexpected end of input in an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                i += 1
                return .object(fields)
            }
        }

        mutating func array(depth: Int, path: String) throws(Failure) -> JSONValue {
            i += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1, path: "\(path)[\(items.count)]"))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unexpected end of input in an array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                i += 1
                return .array(items)
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        mutating func string() throws(Failure) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                switch c {
                case UInt8(ascii: "\""):
                    i += 1
                    // Invalid UTF-8 in the raw bytes is refused rather than repaired.
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    i += 1
                    guard i < bytes.count else { throw fail("unterminated escape") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                                throw fail("a lone surrogate in a \\u escape")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate in a \\u escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw fail("a lone surrogate in a \\u escape")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("invalid escape")
                    }
                default:
                    guard c >= 0x20 else { throw fail("a control character inside a string (escape it)") }
                    out.append(c)
                    i += 1
                }
            }
        }

        mutating func number() throws(Failure) -> JSONValue {
            let start = i
            // The digits are also gathered into a decimal mantissa and exponent, for the fast path below.
            var mantissa: UInt64 = 0, digitCount = 0, fractionDigits = 0
            func digits(_ p: inout Parser, fraction: Bool = false) -> Int {
                let s = p.i
                while p.i < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.i]) {
                    if digitCount < 19 { mantissa = mantissa &* 10 &+ UInt64(p.bytes[p.i] &- UInt8(ascii: "0")) }
                    digitCount += 1
                    if fraction { fractionDigits += 1 }
                    p.i += 1
                }
                return p.i - s
            }
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            guard i < bytes.count else { throw fail("invalid number") }
            if bytes[i] == UInt8(ascii: "0") {
                i += 1
            } else {
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            var integral = true
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                integral = false
                guard digits(&self, fraction: true) > 0 else { throw fail("invalid number: digits must follow '.'") }
            }
            var exponent = 0, exponentDigits = 0
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                integral = false
                var sign = 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                    if bytes[i] == UInt8(ascii: "-") { sign = -1 }
                    i += 1
                }
                while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
                    if exponentDigits < 6 { exponent = exponent * 10 + Int(bytes[i] - UInt8(ascii: "0")) }
                    exponentDigits += 1
                    i += 1
                }
                guard exponentDigits > 0 else { throw fail("invalid number: digits must follow the exponent") }
                exponent *= sign
            }
            // Clinger's fast path: a mantissa of at most 2⁵³ and a power of ten of at most 10²²
            // are both exact doubles, so one multiplication or division rounds once, correctly —
            // the same double as parsing the text. Most numbers a client sends (embeddings, "k")
            // take it; strtod took a tenth of the service's time on vector searches.
            let scale = exponent - fractionDigits
            if digitCount <= 19, exponentDigits <= 6, mantissa <= 1 << 53, (-22...22).contains(scale) {
                let m = Double(mantissa)
                let d = scale < 0 ? m / Self.powersOfTen[-scale] : m * Self.powersOfTen[scale]
                return .number(negative ? -d : d)
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if integral, let exact = Int64(text), exact.magnitude > 1 << 53 { return .integer(exact) }
            // A literal beyond Double's range (1e400) is refused as JSONDecoder refused it: as
            // infinity it could not be written back as JSON.
            guard let d = Double(text), d.isFinite else { throw fail("a number out of range") }
            return .number(d)
        }

        /// 10⁰ … 10²², each exactly a double.
        static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }
    }
}
