import Foundation

/// NFC / NFKC / NFD / NFKD with the alignment changes the library records for them.
///
/// The library normalises with an iterator that reports, for each output scalar, how the length
/// changed: the extra scalars of a decomposition are insertions (+1), and a composition swallows
/// the scalars it absorbs (each absorbed one −1). Feeding those changes to ``AlignedTransform`` gives
/// the same offsets (`"ﬁ"` → `f`, `i` both on the ligature; `"e\u{301}"` → `é` on the `e`).
/// Decompositions and pair compositions come from Foundation, one scalar (or pair) at a time, so
/// the algorithm itself — canonical ordering, blocking — is written out here.
struct UnicodeNormalization {
    enum Form { case nfc, nfkc, nfd, nfkd }

    let form: Form
    private var decompositions: [UInt32: [UInt32]] = [:]
    private var compositions: [UInt64: UInt32?] = [:]

    init(_ form: Form) { self.form = form }

    private var compatibility: Bool { form == .nfkc || form == .nfkd }
    private var composes: Bool { form == .nfc || form == .nfkc }

    static func string(_ scalars: [UInt32]) -> String {
        var s = String.UnicodeScalarView()
        for c in scalars { if let u = Unicode.Scalar(c) { s.append(u) } }
        return String(s)
    }

    static func combiningClass(_ c: UInt32) -> UInt8 {
        guard c >= 0x300, let u = Unicode.Scalar(c) else { return 0 }
        return u.properties.canonicalCombiningClass.rawValue
    }

    private mutating func decompose(_ c: UInt32) -> [UInt32] {
        if c < 0xC0 && !(compatibility && c >= 0xA0) { return [c] }
        if let d = decompositions[c] { return d }
        let s = Self.string([c])
        let out = compatibility ? s.decomposedStringWithCompatibilityMapping : s.decomposedStringWithCanonicalMapping
        let d = out.unicodeScalars.map(\.value)
        let result = d.isEmpty ? [c] : d
        decompositions[c] = result
        return result
    }

    /// The primary composite of `a` followed by `b`, if any.
    private mutating func compose(_ a: UInt32, _ b: UInt32) -> UInt32? {
        if b < 0x300 { return nil }   // nothing composes with ASCII or Latin-1 as its second part
        // Hangul by formula (Unicode §3.12); Foundation does not compose an LV syllable with a T jamo.
        if (0x1100...0x1112).contains(a) && (0x1161...0x1175).contains(b) {
            return 0xAC00 + ((a - 0x1100) * 21 + (b - 0x1161)) * 28
        }
        if (0xAC00...0xD7A3).contains(a) && (a - 0xAC00) % 28 == 0 && (0x11A8...0x11C2).contains(b) {
            return a + (b - 0x11A7)
        }
        let key = UInt64(a) << 32 | UInt64(b)
        if let cached = compositions[key] { return cached }
        let s = Self.string([a, b]).precomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
        let result: UInt32? = s.count == 1 ? s[0] : nil
        compositions[key] = result
        return result
    }

    /// `text` normalised, spans following the library's rules.
    mutating func apply(_ text: AlignedText) -> AlignedText {
        // Fast path: ASCII is invariant under every form.
        if text.scalars.allSatisfy({ $0 < 0x80 }) { return text }
        // 1. Decompose scalar by scalar: the first output replaces, the rest are insertions.
        var chars: [(c: UInt32, change: Int, ccc: UInt8)] = []
        chars.reserveCapacity(text.count)
        for c in text.scalars {
            for (k, d) in decompose(c).enumerated() { chars.append((d, k == 0 ? 0 : 1, Self.combiningClass(d))) }
        }
        // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
        var i = 0
        while i < chars.count {
            guard chars[i].ccc != 0 else { i += 1; continue }
            var j = i
            while j < chars.count && chars[j].ccc != 0 { j += 1 }
            if j - i > 1 {
                let run = chars[i..<j].enumerated().sorted { ($0.element.ccc, $0.offset) < ($1.element.ccc, $1.offset) }.map(\.element)
                chars.replaceSubrange(i..<j, with: run)
            }
            i = j
        }
        // 3. Canonical composition.
        var out: [(c: UInt32, change: Int, ccc: UInt8)] = []
        if composes {
            out.reserveCapacity(chars.count)
            var starter: Int? = nil
            for ch in chars {
                if let s = starter {
                    let adjacent = s == out.count - 1
                    let lastCCC = out[out.count - 1].ccc
                    if adjacent || (lastCCC != 0 && lastCCC < ch.ccc), let composite = compose(out[s].c, ch.c) {
                        out[s].c = composite
                        out[s].change += ch.change - 1
                        continue
                    }
                }
                if ch.ccc == 0 { starter = out.count }
                out.append(ch)
            }
        } else {
            out = chars
        }
        var t = AlignedTransform(text)
        for o in out { t.emit(o.c, change: o.change) }
        return t.result
    }
}
