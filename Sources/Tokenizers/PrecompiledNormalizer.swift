import Foundation

/// SentencePiece's compiled normalisation rules (`Precompiled` in `tokenizer.json`, the
/// `precompiled_charsmap` of XLM-R and every model converted from a SentencePiece file).
///
/// The charsmap is a little-endian `UInt32` byte count, a double-array trie (Darts) of that many
/// bytes mapping UTF-8 sequences to offsets, then the replacement strings, NUL-terminated. As in the
/// library, text is normalised one extended grapheme cluster at a time: a cluster shorter than 6
/// UTF-8 bytes is looked up whole, and otherwise (or when the whole cluster has no entry) each of
/// its scalars on its own; a lookup takes the shortest entry that is a prefix of the bytes.
public struct PrecompiledNormalizer: Sendable, Equatable {
    private let units: [UInt32]
    private let normalized: [UInt8]

    /// Parses a charsmap.
    /// - Parameters:
    ///   - charsmap: The decoded bytes of `precompiled_charsmap`.
    ///   - file: The file's name in errors (default "<memory>").
    ///   - field: The field's path in errors (default "normalizer.precompiled_charsmap").
    public init(charsmap: [UInt8], file: String = "<memory>", field: String = "normalizer.precompiled_charsmap") throws(TokenizerError) {
        guard charsmap.count >= 4 else { throw .invalidField(file: file, field: field, reason: "shorter than its 4-byte header") }
        let size = Int(charsmap[0]) | Int(charsmap[1]) << 8 | Int(charsmap[2]) << 16 | Int(charsmap[3]) << 24
        guard size % 4 == 0, size >= 4, size <= charsmap.count - 4 else {
            throw .invalidField(file: file, field: field, reason: "trie size \(size) does not fit in \(charsmap.count) bytes")
        }
        var units = [UInt32](repeating: 0, count: size / 4)
        for i in units.indices {
            let b = 4 + 4 * i
            units[i] = UInt32(charsmap[b]) | UInt32(charsmap[b + 1]) << 8 | UInt32(charsmap[b + 2]) << 16 | UInt32(charsmap[b + 3]) << 24
        }
        self.units = units
        normalized = Array(charsmap[(4 + size)...])
    }

    // Darts unit layout: bits 0-7 label, bit 8 has-leaf, bits 10-30 offset (bit 9 extends it), bit 31 leaf.
    @inline(__always) private func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private func label(_ u: UInt32) -> UInt32 { u & ((1 << 31) | 0xFF) }
    @inline(__always) private func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// The value of the shortest key that is a prefix of `bytes` (Darts `commonPrefixSearch`'s first result).
    func shortestPrefixValue(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !units.isEmpty else { return nil }
        var node = offset(units[0])
        for b in bytes {
            if b == 0 { return nil }
            node ^= Int(b)
            guard node >= 0, node < units.count else { return nil }
            let unit = units[node]
            guard label(unit) == UInt32(b) else { return nil }
            node ^= offset(unit)
            if hasLeaf(unit) {
                guard node >= 0, node < units.count else { return nil }
                return value(units[node])
            }
        }
        return nil
    }

    /// The replacement of `bytes`, if the charsmap has one (possibly empty: the text is removed).
    func replacement(_ bytes: ArraySlice<UInt8>) -> [UInt32]? {
        guard let start = shortestPrefixValue(bytes), start >= 0, start <= normalized.count else { return nil }
        var end = start
        while end < normalized.count && normalized[end] != 0 { end += 1 }
        return String(decoding: normalized[start..<end], as: UTF8.self).unicodeScalars.map(\.value)
    }

    /// The normalised form of a string.
    public func normalize(_ text: String) -> String { apply(AlignedText(text.unicodeScalars.map(\.value))).string }

    /// `text` normalised, spans following the library (each replaced chunk as its `replace`).
    func apply(_ text: AlignedText) -> AlignedText {
        var t = AlignedTransform(text)
        var bytes: [UInt8] = []
        var i = 0
        for cluster in Self.graphemeClusters(text.scalars) {
            let chunk = Array(text.scalars[i..<(i + cluster)])
            bytes.removeAll(keepingCapacity: true)
            for c in chunk { Tokenizer.appendUTF8(c, to: &bytes) }
            if bytes.count < 6, let r = replacement(bytes[...]) {
                t.replace(count: chunk.count, with: r)
            } else {
                for c in chunk {
                    bytes.removeAll(keepingCapacity: true)
                    Tokenizer.appendUTF8(c, to: &bytes)
                    if let r = replacement(bytes[...]) { t.replace(count: 1, with: r) } else { t.emit(c, change: 0) }
                }
            }
            i += cluster
        }
        return t.result
    }

    /// Lengths (in scalars) of the extended grapheme clusters of `scalars`, from Swift's segmentation.
    static func graphemeClusters(_ scalars: [UInt32]) -> [Int] {
        // ASCII other than CR (CR LF is one cluster) is always a cluster of its own, unless a
        // combining scalar follows; the general path handles everything else.
        if scalars.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) { return [Int](repeating: 1, count: scalars.count) }
        var out: [Int] = []
        let s = UnicodeNormalization.string(scalars)
        for ch in s { out.append(ch.unicodeScalars.count) }
        // Invalid scalars were dropped by the string: keep counts consistent with the input.
        let total = out.reduce(0, +)
        if total != scalars.count { return [Int](repeating: 1, count: scalars.count) }
        return out
    }
}
