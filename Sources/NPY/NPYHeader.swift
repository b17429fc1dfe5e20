/// The parsed header dictionary of a `.npy` file.
///
/// NumPy writes a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
/// The parser accepts exactly that grammar (either quote style, optional trailing commas, spaces) and
/// nothing else: anything unexpected is an error rather than a guess, because a misread shape means
/// silently wrong data.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Renders the dict the way NumPy does, so NumPy reads it back unchanged.
    var dictLiteral: String {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(dims), }"
    }

    static func parse(_ bytes: some Collection<UInt8>) throws(NPYError) -> NPYHeader {
        var p = Parser(bytes: Array(bytes))
        return try p.parseHeader()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ why: String) -> NPYError { NPYError(.malformedHeader(why), file: nil) }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(NPYError) {
        skipSpace()
        guard i < bytes.count, bytes[i] == c else {
            throw fail("expected '\(Character(Unicode.Scalar(c)))' at byte \(i)")
        }
        i += 1
    }

    /// Consumes `c` if it comes next (after spaces).
    private mutating func accept(_ c: UInt8) -> Bool {
        skipSpace()
        if i < bytes.count, bytes[i] == c { i += 1; return true }
        return false
    }

    private mutating func string() throws(NPYError) -> String {
        skipSpace()
        guard i < bytes.count, bytes[i] == 0x27 || bytes[i] == 0x22 else { throw fail("expected a quoted string at byte \(i)") }
        let quote = bytes[i]
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != quote {
            // Escapes never occur in the keys and dtypes we accept, so refuse them instead of decoding.
            guard bytes[i] != 0x5C, bytes[i] >= 0x20, bytes[i] < 0x7F else { throw fail("unexpected character in a string at byte \(i)") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return s
    }

    private mutating func word() -> String {
        skipSpace()
        let start = i
        while i < bytes.count, (bytes[i] >= 0x41 && bytes[i] <= 0x5A) || (bytes[i] >= 0x61 && bytes[i] <= 0x7A) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private mutating func integer() throws(NPYError) -> Int {
        skipSpace()
        let start = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        // Python 2 NumPy wrote long integers with an L suffix.
        let digits = bytes[start..<i]
        if i < bytes.count, bytes[i] == 0x4C { i += 1 }
        guard !digits.isEmpty else { throw fail("expected a non-negative integer at byte \(start)") }
        guard digits.count <= 18 else { throw fail("dimension too large at byte \(start)") }
        var v = 0
        for d in digits { v = v * 10 + Int(d - 0x30) }
        return v
    }

    private mutating func tuple() throws(NPYError) -> [Int] {
        try expect(0x28)  // (
        var dims: [Int] = []
        if accept(0x29) { return dims }
        while true {
            dims.append(try integer())
            guard dims.count <= 32 else { throw fail("too many dimensions") }
            if accept(0x29) { return dims }
            try expect(0x2C)
            if accept(0x29) { return dims }
        }
    }

    mutating func parseHeader() throws(NPYError) -> NPYHeader {
        try expect(0x7B)  // {
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        while true {
            if accept(0x7D) { break }
            let key = try string()
            try expect(0x3A)  // :
            switch key {
            case "descr":
                guard descr == nil else { throw fail("duplicate key 'descr'") }
                skipSpace()
                // Structured dtypes are written as a list, not a string.
                guard i < bytes.count, bytes[i] == 0x27 || bytes[i] == 0x22 else { throw fail("'descr' is not a simple dtype string") }
                descr = try string()
            case "fortran_order":
                guard fortran == nil else { throw fail("duplicate key 'fortran_order'") }
                switch word() {
                case "True": fortran = true
                case "False": fortran = false
                default: throw fail("'fortran_order' must be True or False")
                }
            case "shape":
                guard shape == nil else { throw fail("duplicate key 'shape'") }
                shape = try tuple()
            default:
                throw fail("unexpected key '\(key)'")
            }
            if accept(0x7D) { break }
            try expect(0x2C)
        }
        skipSpace()
        guard i == bytes.count else { throw fail("unexpected bytes after the dictionary at byte \(i)") }
        guard let descr, let fortran, let shape else {
            throw fail("missing key(s): " + [descr == nil ? "descr" : nil, fortran == nil ? "fortran_order" : nil, shape == nil ? "shape" : nil]
                .compactMap { $0 }.joined(separator: ", "))
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }
}
