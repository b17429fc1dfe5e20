/// One tensor's entry as read from the header, before the offsets are checked against each other.
struct HeaderEntry {
    var name: String
    var dtype: SafeTensorsDType
    var shape: [Int]
    var begin: Int
    var end: Int
}

/// The parsed JSON header: tensor entries in the order they appear, and the `__metadata__` strings.
struct ParsedHeader {
    var entries: [HeaderEntry]
    var metadata: [String: String]
}

/// A strict, non-recursive parser for the safetensors JSON header.
///
/// It accepts exactly the schema of the format — one object whose values are either tensor entries
/// (`dtype` string, `shape` array of integers, `data_offsets` array of two integers) or, under
/// `__metadata__`, an object of strings — and standard JSON syntax around it (RFC 8259 strings with
/// escapes, whitespace, numbers), then only whitespace after the closing brace. Because the schema
/// has a fixed depth the parser never recurses, so no input can exhaust the stack, and every index
/// is checked against the end of the buffer before it is read.
///
/// Compared with the reference implementation it is stricter where the reference is silent:
/// duplicate keys (tensor names, entry fields, metadata keys) and unknown entry fields are errors
/// rather than last-one-wins or ignored.
struct HeaderParser {
    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private var i = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(SafeTensorsError) -> ParsedHeader {
        if let bad = firstInvalidUTF8(bytes) {
            throw SafeTensorsError.invalidHeader(file: file, byteOffset: bad, reason: "the header is not valid UTF-8")
        }
        var parser = HeaderParser(bytes: bytes, file: file)
        return try parser.parseHeader()
    }

    // MARK: Grammar

    private mutating func parseHeader() throws(SafeTensorsError) -> ParsedHeader {
        // As in the reference (since 0.4), the JSON must start right away with '{'.
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else {
            throw fail("the header must start with '{'")
        }
        i += 1
        var entries: [HeaderEntry] = []
        var metadata: [String: String]? = nil
        var seen: Set<String> = []
        skipWhitespace()
        if !consume(UInt8(ascii: "}")) {
            while true {
                skipWhitespace()
                let key = try parseString(what: "a tensor name")
                try expect(UInt8(ascii: ":"))
                if key == "__metadata__" {
                    guard metadata == nil else { throw fail("\"__metadata__\" appears more than once") }
                    metadata = try parseMetadata()
                } else {
                    guard seen.insert(key).inserted else { throw SafeTensorsError.duplicateName(file: file, tensor: key) }
                    entries.append(try parseEntry(name: key))
                }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "}")) { break }
                throw fail("expected ',' or '}' after the entry for \"\(key)\"")
            }
        }
        // The writer pads with spaces to 8-byte alignment; nothing else may follow.
        skipWhitespace()
        guard i == bytes.count else { throw fail("unexpected data after the closing '}'") }
        return ParsedHeader(entries: entries, metadata: metadata ?? [:])
    }

    private mutating func parseMetadata() throws(SafeTensorsError) -> [String: String] {
        skipWhitespace()
        if consumeLiteral("null") { return [:] }
        guard consume(UInt8(ascii: "{")) else {
            throw SafeTensorsError.invalidMetadata(file: file, key: nil, reason: "expected an object of strings at byte \(i)")
        }
        var result: [String: String] = [:]
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return result }
        while true {
            skipWhitespace()
            let key = try parseString(what: "a metadata key")
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw SafeTensorsError.invalidMetadata(file: file, key: key, reason: "the value must be a string (at byte \(i))")
            }
            let value = try parseString(what: "a metadata value")
            guard result.updateValue(value, forKey: key) == nil else {
                throw SafeTensorsError.invalidMetadata(file: file, key: key, reason: "the key appears more than once")
            }
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { return result }
            throw fail("expected ',' or '}' in __metadata__")
        }
    }

    private mutating func parseEntry(name: String) throws(SafeTensorsError) -> HeaderEntry {
        skipWhitespace()
        guard consume(UInt8(ascii: "{")) else {
            throw SafeTensorsError.invalidTensorEntry(file: file, tensor: name, reason: "expected an object at byte \(i)")
        }
        var dtype: SafeTensorsDType?
        var shape: [Int]?
        var offsets: [Int]?
        skipWhitespace()
        if !consume(UInt8(ascii: "}")) {
            while true {
                skipWhitespace()
                let field = try parseString(what: "a field name")
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                switch field {
                case "dtype":
                    guard dtype == nil else { throw entryError(name, "field \"dtype\" appears more than once") }
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw entryError(name, "\"dtype\" must be a string") }
                    let code = try parseString(what: "a dtype")
                    guard let d = SafeTensorsDType(rawValue: code) else {
                        throw SafeTensorsError.unknownDType(file: file, tensor: name, dtype: code)
                    }
                    dtype = d
                case "shape":
                    guard shape == nil else { throw entryError(name, "field \"shape\" appears more than once") }
                    shape = try parseIntegerArray(tensor: name, field: "shape")
                case "data_offsets":
                    guard offsets == nil else { throw entryError(name, "field \"data_offsets\" appears more than once") }
                    offsets = try parseIntegerArray(tensor: name, field: "data_offsets")
                default:
                    throw entryError(name, "unknown field \"\(field)\"")
                }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "}")) { break }
                throw entryError(name, "expected ',' or '}' at byte \(i)")
            }
        }
        guard let dtype else { throw entryError(name, "missing field \"dtype\"") }
        guard let shape else { throw entryError(name, "missing field \"shape\"") }
        guard let offsets else { throw entryError(name, "missing field \"data_offsets\"") }
        guard offsets.count == 2 else {
            throw SafeTensorsError.invalidOffsets(file: file, tensor: name, reason: "expected [begin, end], found \(offsets.count) numbers")
        }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// An array of non-negative integers that fit in `Int` (a `shape` or `data_offsets`).
    private mutating func parseIntegerArray(tensor: String, field: String) throws(SafeTensorsError) -> [Int] {
        guard consume(UInt8(ascii: "[")) else { throw entryError(tensor, "\"\(field)\" must be an array of integers") }
        var values: [Int] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return values }
        while true {
            skipWhitespace()
            values.append(try parseNonNegativeInteger(tensor: tensor, field: field))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { return values }
            throw entryError(tensor, "expected ',' or ']' in \"\(field)\" at byte \(i)")
        }
    }

    /// Reads one JSON number token and accepts it only as a non-negative integer that fits in `Int`.
    private mutating func parseNonNegativeInteger(tensor: String, field: String) throws(SafeTensorsError) -> Int {
        let start = i
        let negative = consume(UInt8(ascii: "-"))
        let digitsStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        let digitsEnd = i
        guard digitsEnd > digitsStart else { throw entryError(tensor, "\"\(field)\" must contain only integers (at byte \(start))") }
        var fractional = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let s = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            guard i > s else { throw fail("malformed number") }
            fractional = true
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let s = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            guard i > s else { throw fail("malformed number") }
            fractional = true
        }
        let token = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if digitsEnd - digitsStart > 1, bytes[digitsStart] == UInt8(ascii: "0") {
            throw fail("malformed number \(token) (leading zero)")
        }
        let reason: String?
        if fractional {
            reason = "\(token) is not an integer"
        } else if negative {
            reason = digitsEnd - digitsStart == 1 && bytes[digitsStart] == UInt8(ascii: "0") ? nil : "\(token) is negative"
        } else {
            reason = nil
        }
        var value = 0
        if reason == nil {
            for k in digitsStart..<digitsEnd {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[k] &- UInt8(ascii: "0")))
                if o1 || o2 { return try outOfRange(tensor: tensor, field: field, token: token) }
                value = a
            }
            return value
        }
        if field == "shape" {
            throw SafeTensorsError.invalidShape(file: file, tensor: tensor, reason: "dimension \(reason!)")
        }
        throw SafeTensorsError.invalidOffsets(file: file, tensor: tensor, reason: "offset \(reason!)")
    }

    private func outOfRange(tensor: String, field: String, token: String) throws(SafeTensorsError) -> Int {
        if field == "shape" {
            throw SafeTensorsError.invalidShape(file: file, tensor: tensor, reason: "dimension \(token) is too large")
        }
        throw SafeTensorsError.invalidOffsets(file: file, tensor: tensor, reason: "offset \(token) is too large")
    }

    /// A JSON string; escapes decoded, surrogate pairs joined, lone surrogates and raw control
    /// characters refused. The bytes have already been checked to be valid UTF-8.
    private mutating func parseString(what: String) throws(SafeTensorsError) -> String {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected \(what) (a string)") }
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character 0x\(String(b, radix: 16)) inside a string") }
            i += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("control character 0x\(String(b, radix: 16)) inside a string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone leading surrogate \\u\(String(scalar, radix: 16))")
                    }
                    i += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone trailing surrogate \\u\(String(scalar, radix: 16))")
                }
                // Valid by construction: not a surrogate, at most 0x10FFFF.
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar)!).utf8))
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
    }

    private mutating func parseHex4() throws(SafeTensorsError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    // MARK: Lexing helpers

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func consume(_ c: UInt8) -> Bool {
        if i < bytes.count, bytes[i] == c { i += 1; return true }
        return false
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { return false }
        i += n
        return true
    }

    private mutating func expect(_ c: UInt8) throws(SafeTensorsError) {
        skipWhitespace()
        guard consume(c) else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
    }

    private func fail(_ reason: String) -> SafeTensorsError {
        let context = i < bytes.count ? " (found '\(printable(bytes[i]))')" : " (found the end of the header)"
        return .invalidHeader(file: file, byteOffset: i, reason: reason + context)
    }

    private func entryError(_ tensor: String, _ reason: String) -> SafeTensorsError {
        .invalidTensorEntry(file: file, tensor: tensor, reason: reason)
    }

    private func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(Character(Unicode.Scalar(b))) : "\\x" + String(b, radix: 16)
    }

    // MARK: UTF-8

    /// The offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or `nil` when all are.
    static func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= low, b1 <= high else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}
