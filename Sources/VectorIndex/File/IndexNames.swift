/// String ids for the vectors of an index file.
///
/// Every index searches by numeric id (a `UInt64` label per vector); users name their items by
/// strings ("python3-ipalib", a ticket key, a path). An index file may carry the mapping in its
/// "NAME" section, written in the same atomic save as the vectors, so the two can never disagree
/// after a crash. The mapping is keyed by label, so HNSW compaction (which renumbers nodes but
/// keeps labels) leaves it valid.
public struct IndexNames: Sendable, Equatable {
    /// The longest name, in UTF-8 bytes (a name is an id, not a document).
    public static let maxNameBytes = 1024

    private var byLabel: [UInt64: String] = [:]
    private var byName: [String: UInt64] = [:]

    /// An empty mapping.
    public init() {}

    /// How many names are held.
    public var count: Int { byLabel.count }

    /// The largest label with a name, if any (new labels are allocated after it).
    public var largestLabel: UInt64? { byLabel.keys.max() }

    /// The name of `label`, if it has one.
    public func name(of label: UInt64) -> String? { byLabel[label] }

    /// The label named `name`, if any.
    public func label(of name: String) -> UInt64? { byName[name] }

    /// Why a name cannot be added, or nil when it can: empty, too long, or already used.
    public func problem(with name: String, label: UInt64) -> String? {
        if name.isEmpty { return "an empty id" }
        if name.utf8.count > Self.maxNameBytes { return "an id longer than \(Self.maxNameBytes) bytes" }
        if byName[name] != nil { return "the id '\(name)' appears twice" }
        if byLabel[label] != nil { return "label \(label) already has a name" }
        return nil
    }

    /// Adds `name` for `label`; false (and nothing changed) when ``problem(with:label:)`` finds one.
    @discardableResult
    public mutating func insert(_ name: String, label: UInt64) -> Bool {
        guard problem(with: name, label: label) == nil else { return false }
        byLabel[label] = name
        byName[name] = label
        return true
    }

    /// Removes the name of `label` (after the vector is removed from the index).
    public mutating func remove(label: UInt64) {
        if let name = byLabel.removeValue(forKey: label) { byName[name] = nil }
    }

    /// The section's bytes: a u64 count, then per name (in label order) its u64 label, u32 byte
    /// length and UTF-8 bytes, all little-endian.
    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u64(UInt64(byLabel.count))
        for label in byLabel.keys.sorted() {
            let bytes = Array(byLabel[label]!.utf8)
            w.u64(label)
            w.u32(UInt32(bytes.count))
            w.bytes(bytes)
        }
        return w.data
    }

    /// The names of an open file, or nil when it has none; every length is checked against the
    /// section before it is used, so a crafted section gives an error, never a crash.
    static func read(_ c: IndexFileFormat.Contents) throws(IndexFileError) -> IndexNames? {
        guard c.hasSection("NAME") else { return nil }
        let b = UnsafeRawBufferPointer(try c.section("NAME", bytes: nil))
        guard b.count >= 8 else { throw c.error(.malformed("the id section is shorter than its count")) }
        let count = b.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        // Each entry takes at least 12 bytes (label and length; an empty name is refused below).
        guard count <= UInt64((b.count - 8) / 12) else { throw c.error(.malformed("the id section claims \(count) ids, more than it can hold")) }
        var names = IndexNames()
        var offset = 8
        for i in 0..<Int(count) {
            guard b.count - offset >= 12 else { throw c.error(.malformed("id \(i) runs past the end of its section")) }
            let label = b.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
            let length = Int(b.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self).littleEndian)
            offset += 12
            guard length <= b.count - offset else { throw c.error(.malformed("id \(i) runs past the end of its section")) }
            guard let name = String(validating: b[offset..<(offset + length)], as: UTF8.self) else {
                throw c.error(.malformed("id \(i) is not UTF-8"))
            }
            offset += length
            if let problem = names.problem(with: name, label: label) { throw c.error(.malformed("id \(i): \(problem)")) }
            names.insert(name, label: label)
        }
        guard offset == b.count else { throw c.error(.malformed("\(b.count - offset) bytes after the last id")) }
        return names
    }

    /// The string ids saved in an index file, or nil when its ids are numbers only.
    /// - Parameters:
    ///   - path: the index file.
    ///   - verifyChecksums: check every section's checksum first.
    public static func read(path: String, verifyChecksums: Bool = true) throws(IndexFileError) -> IndexNames? {
        try read(IndexFileFormat.Contents(path: path, verifyChecksums: verifyChecksums))
    }
}

/// The optional sections any kind of index file carries: the model fingerprint ("FPRT") and the
/// string ids ("NAME"). One place encodes and checks them for all four kinds.
enum Annotations {
    /// Calls `body` with the encoded optional sections (alive for the duration of the call).
    static func withSections<R>(fingerprint: String?, names: IndexNames?, path: String,
                                _ body: ([IndexFileFormat.Section]) throws(IndexFileError) -> R) throws(IndexFileError) -> R {
        if let fingerprint, fingerprint.utf8.count > Fingerprint.maxBytes {
            throw IndexFileError(.io("the fingerprint is longer than \(Fingerprint.maxBytes) bytes"), file: path)
        }
        let fp = Array((fingerprint ?? "").utf8)
        let nb = names?.encoded() ?? []
        return try withBytes(of: fp) { (fb) throws(IndexFileError) -> R in
            try withBytes(of: nb) { (b) throws(IndexFileError) -> R in
                var sections: [IndexFileFormat.Section] = []
                if fingerprint != nil { sections.append(.init(tag: "FPRT", bytes: fb)) }
                if names != nil { sections.append(.init(tag: "NAME", bytes: b)) }
                return try body(sections)
            }
        }
    }

    /// Checks the optional sections of a file being loaded.
    static func check(_ c: IndexFileFormat.Contents) throws(IndexFileError) {
        _ = try Fingerprint.read(c)
        _ = try IndexNames.read(c)
    }
}
