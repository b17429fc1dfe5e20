/// A token vocabulary: id → token and token → id, where tokens are compared as UTF-8 bytes.
///
/// Byte comparison is what the library does (Rust strings compare bytes); Swift's `String`
/// equality would also merge canonically equivalent spellings ("é" and "e\u{301}"). Lookups take a
/// byte slice, so WordPiece can try substrings of a word without building strings. The table is
/// open addressing over one contiguous byte buffer: no per-token allocation.
public struct Vocabulary: Sendable {
    /// Token strings by id (ids without a token, in sparse vocabularies, hold "").
    public let tokens: [String]
    private let bytes: [UInt8]
    private let offsets: [Int32]    // token id i: bytes[offsets[i]..<offsets[i + 1]]
    private let slots: [Int32]      // id + 1, or 0 for an empty slot
    private let mask: Int
    /// The longest token, in bytes.
    public let maxTokenBytes: Int

    /// A vocabulary from `(token, id)` pairs. When a token appears twice the later id wins, as when
    /// the library reads `vocab.txt`; ids need not be dense.
    /// - Parameters:
    ///   - entries: Tokens with their ids; entries with a negative id are ignored.
    public init(_ entries: [(token: String, id: Int)]) {
        let size = (entries.map(\.id).max() ?? -1) + 1
        var tokens = [String](repeating: "", count: size)
        var present = [Bool](repeating: false, count: size)
        for (t, id) in entries where id >= 0 {
            tokens[id] = t
            present[id] = true
        }
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(size + 1)
        var longest = 0
        for t in tokens {
            bytes.append(contentsOf: t.utf8)
            offsets.append(Int32(bytes.count))
            longest = max(longest, t.utf8.count)
        }
        var capacity = 16
        while capacity < 2 * max(size, 1) { capacity *= 2 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        // Later entries win: insert in order and overwrite the slot of an equal key.
        bytes.withUnsafeBufferPointer { all in
            for (_, id) in entries where id >= 0 && present[id] {
                let key = UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])])
                var h = Self.hash(key) & mask
                while true {
                    let s = Int(slots[h])
                    if s == 0 { slots[h] = Int32(id + 1); break }
                    let other = UnsafeBufferPointer(rebasing: all[Int(offsets[s - 1])..<Int(offsets[s])])
                    if other.elementsEqual(key) {
                        slots[h] = Int32(id + 1)
                        break
                    }
                    h = (h + 1) & mask
                }
            }
        }
        self.tokens = tokens
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
        maxTokenBytes = longest
    }

    /// Number of ids (the largest id + 1).
    public var count: Int { tokens.count }

    /// The id of `token`, if it is in the vocabulary.
    public func id(for token: String) -> Int? {
        var t = token
        return t.withUTF8 { id(forBytes: $0) }
    }

    /// The id of the token whose UTF-8 bytes are `key`.
    @inline(__always)
    func id(forBytes key: UnsafeBufferPointer<UInt8>) -> Int? {
        var h = Self.hash(key) & mask
        return bytes.withUnsafeBufferPointer { all in
            while true {
                let s = Int(slots[h])
                if s == 0 { return nil }
                let start = Int(offsets[s - 1]), end = Int(offsets[s])
                if end - start == key.count && (key.count == 0 || memcmpEqual(all.baseAddress! + start, key.baseAddress!, key.count)) {
                    return s - 1
                }
                h = (h + 1) & mask
            }
        }
    }

    /// FNV-1a, 64-bit: short keys, good spread, no allocation.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
