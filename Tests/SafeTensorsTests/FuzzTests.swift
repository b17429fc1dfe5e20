import Foundation
import Testing
@testable import SafeTensors
import Tensors

/// Deterministic mutation fuzzing of the reader: every truncation of real files, byte flips,
/// header-length and number substitutions, structural edits of the JSON, generated headers with
/// corrupted fields, and random bytes.
///
/// The oracle, for every input: opening either throws a ``SafeTensorsError`` or succeeds; when it
/// succeeds, every tensor's byte range lies inside the data buffer and the ranges tile it exactly,
/// Foundation's JSON parser agrees the header is JSON with the same names and offsets, and every
/// tensor can be read (converted, as integers, raw) without a trap. In-memory files live in an
/// allocation of exactly their size, so under `-sanitize=address` any overrun would be reported.
@Suite struct FuzzTests {
    struct Stats: CustomStringConvertible {
        var inputs = 0
        var accepted = 0
        var rejected: [String: Int] = [:]
        var description: String {
            "\(inputs) inputs, \(accepted) accepted, rejected: " + rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
    }

    static func kind(_ e: SafeTensorsError) -> String {
        Mirror(reflecting: e).children.first?.label ?? "unknown"
    }

    /// Opens `bytes` and checks the oracle; returns whether it was accepted.
    @discardableResult
    static func check(_ bytes: [UInt8], _ stats: inout Stats) -> Bool {
        stats.inputs += 1
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(bytes: bytes, label: "fuzz")
        } catch {
            #expect(error.description.hasPrefix("fuzz"), "error does not name the file: \(error)")
            stats.rejected[kind(error), default: 0] += 1
            return false
        }
        stats.accepted += 1
        let dataBytes = bytes.count - 8 - file.headerLength
        var position = 0
        for info in file.tensorInfos {
            #expect(info.dataOffsets.lowerBound == position)
            #expect(info.dataOffsets.upperBound <= dataBytes)
            position = info.dataOffsets.upperBound
            do {
                let raw = try file.rawBytes(named: info.name)
                #expect(raw.count == info.dataOffsets.count)
                #expect(raw[...] == bytes[(8 + file.headerLength + info.dataOffsets.lowerBound)...].prefix(raw.count))
                // Converting allocates the element count; only do it where the bytes back it up
                // (always true for convertible dtypes, whose elements are at least one byte).
                if info.dtype.convertsToFloat32 {
                    let t = try file.tensor(named: info.name)
                    #expect(t.count == info.elementCount && t.shape == info.shape)
                }
                if info.dtype.isInteger {
                    do { _ = try file.integers(named: info.name) } catch { #expect(info.dtype == .uint64) }
                }
            } catch {
                Issue.record("accepted file but reading \(info.name) failed: \(error)")
            }
        }
        #expect(position == dataBytes)
        // Differential: Foundation's JSON parser must agree on names and offsets.
        let header = Data(bytes[8..<(8 + file.headerLength)])
        if let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] {
            let names = Set(object.keys).subtracting(["__metadata__"])
            #expect(names == Set(file.names), "names differ from Foundation's parse")
            for info in file.tensorInfos {
                let entry = object[info.name] as? [String: Any]
                let offsets = (entry?["data_offsets"] as? [NSNumber])?.map(\.intValue)
                #expect(offsets == [info.dataOffsets.lowerBound, info.dataOffsets.upperBound], "\(info.name)")
            }
        } else {
            Issue.record("accepted a header that Foundation cannot parse: \(String(decoding: header, as: UTF8.self).prefix(200))")
        }
        return true
    }

    /// Seed files: the Python fixtures and writer output covering every dtype.
    static func seeds() throws -> [[UInt8]] {
        var seeds = [ReferenceFixtures.mixed, ReferenceFixtures.parityF16, ReferenceFixtures.empty].map(fixtureBytes)
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "seed"])
        try writer.add("w", Tensor(shape: [3, 2], [1, 2, 3, 4, 5, 6]))
        try writer.add("h", Tensor([0.5, -1]), as: .float16)
        try writer.add("b", Tensor([7]), as: .bfloat16)
        try writer.addRaw("ids", dtype: .int64, shape: [1, 2], bytes: [UInt8](repeating: 1, count: 16))
        try writer.addRaw("f4", dtype: .float4, shape: [4], bytes: [0x12, 0x34])
        try writer.addRaw("flag", dtype: .bool, shape: [1], bytes: [1])
        seeds.append(writer.serialized())
        return seeds
    }

    static let interestingNumbers = [
        "0", "1", "-1", "2", "7", "8", "255", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "99999999999999999999999", "1.5", "1e3", "-0", "00", "1E+2", "0x10", "", "-", "4611686018427387904",
    ]

    static let jsonTokens = ["{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "null", "true", "-", "0", "1e9",
                             "\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"I64\"", "\"F4\"", " ", "\u{0}", "é", "\u{FF}"]

    static func withLength(_ header: [UInt8], data: [UInt8]) -> [UInt8] { image(headerBytes: header, data: data) }

    static func split(_ file: [UInt8]) -> (header: [UInt8], data: [UInt8])? {
        guard file.count >= 8 else { return nil }
        let n = file[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard n <= file.count - 8 else { return nil }
        return (Array(file[8..<(8 + n)]), Array(file[(8 + n)...]))
    }

    @Test func mutationFuzz() throws {
        let start = Date()
        var stats = Stats()
        var rng = TestRNG(seed: 0x5AFE_7E45)
        let seeds = try Self.seeds()
        for seed in seeds { #expect(Self.check(seed, &stats), "seed rejected") }

        // 1. Every truncation, and every extension by one byte.
        for seed in seeds {
            for n in 0..<seed.count { Self.check(Array(seed.prefix(n)), &stats) }
            Self.check(seed + [0], &stats)
        }

        // 2. Random byte edits: 1–4 overwrites, bit flips, insertions or deletions, mostly in the header.
        for _ in 0..<6000 {
            var b = seeds[rng.below(seeds.count)]
            let headerEnd = min(b.count, 8 + (Self.split(b)?.header.count ?? 0))
            for _ in 0..<(1 + rng.below(4)) {
                guard !b.isEmpty else { break }
                let pos = min(rng.chance(0.8) ? rng.below(max(headerEnd, 1)) : rng.below(b.count), b.count - 1)
                switch rng.below(5) {
                case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b[pos] ^= 1 << UInt8(rng.below(8))
                case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
                case 3: b.remove(at: pos)
                default: b[pos] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x2D, 0x30, 0x39, 0x20][rng.below(12)]
                }
            }
            Self.check(b, &stats)
        }

        // 3. The header length field: random, off by a little, huge.
        for _ in 0..<1000 {
            var b = seeds[rng.below(seeds.count)]
            let n = Self.split(b)?.header.count ?? 0
            let lengths: [UInt64] = [rng.next(), UInt64(n) &+ UInt64(rng.below(17)) &- 8, 100_000_000, 100_000_001, UInt64(b.count), UInt64.max, 1 << 63, 0]
            let v = lengths[rng.below(lengths.count)]
            for k in 0..<8 { b[k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            Self.check(b, &stats)
        }

        // 4. Number substitutions inside the JSON (shapes, offsets), with the length kept consistent.
        for _ in 0..<3000 {
            guard let (header, data) = Self.split(seeds[rng.below(seeds.count)]) else { continue }
            var runs: [Range<Int>] = []
            var k = 0
            while k < header.count {
                if header[k] >= 0x30 && header[k] <= 0x39 {
                    let s = k
                    while k < header.count, header[k] >= 0x30 && header[k] <= 0x39 { k += 1 }
                    runs.append(s..<k)
                } else { k += 1 }
            }
            guard !runs.isEmpty else { continue }
            var h = header
            for _ in 0..<(1 + rng.below(2)) {
                let r = runs[rng.below(runs.count)]
                guard r.upperBound <= h.count else { continue }
                let replacement = rng.chance(0.7)
                    ? Self.interestingNumbers[rng.below(Self.interestingNumbers.count)]
                    : String(Int(String(decoding: h[r], as: UTF8.self)).map { $0 + rng.below(9) - 4 } ?? 0)
                h.replaceSubrange(r, with: Array(replacement.utf8))
            }
            var d = data
            if rng.chance(0.3) { d = Array(d.prefix(rng.below(d.count + 1))) }
            Self.check(Self.withLength(h, data: d), &stats)
        }

        // 5. Structural edits of the JSON: delete, duplicate or move a range, insert a token.
        for _ in 0..<4000 {
            guard let (header, data) = Self.split(seeds[rng.below(seeds.count)]), !header.isEmpty else { continue }
            var h = header
            let a = rng.below(h.count), len = 1 + rng.below(min(40, h.count - a))
            let range = a..<min(h.count, a + len)
            switch rng.below(4) {
            case 0: h.removeSubrange(range)
            case 1: h.insert(contentsOf: h[range], at: rng.below(h.count + 1))
            case 2:
                let chunk = Array(h[range])
                h.removeSubrange(range)
                h.insert(contentsOf: chunk, at: rng.below(h.count + 1))
            default: h.insert(contentsOf: Array(Self.jsonTokens[rng.below(Self.jsonTokens.count)].utf8), at: rng.below(h.count + 1))
            }
            Self.check(Self.withLength(h, data: data), &stats)
        }

        // 6. Generated headers: random entries, then one field corrupted.
        let dtypes = SafeTensorsDType.allCases.map(\.rawValue) + ["F128", "f32", "", "BF8"]
        for _ in 0..<3000 {
            var entries: [String] = []
            var offset = 0
            let count = rng.below(5)
            for t in 0..<count {
                let dtype = SafeTensorsDType.allCases[rng.below(SafeTensorsDType.allCases.count)]
                let shape = (0..<rng.below(4)).map { _ in rng.below(4) }
                let bytes = dtype.byteCount(elements: shape.reduce(1, *)) ?? 1
                var dt = "\"\(dtype.rawValue)\"", sh = "[" + shape.map(String.init).joined(separator: ",") + "]"
                var begin = offset, end = offset + bytes
                switch rng.below(10) {
                case 0: dt = "\"\(dtypes[rng.below(dtypes.count)])\""
                case 1: sh = "[" + shape.map { _ in Self.interestingNumbers[rng.below(Self.interestingNumbers.count)] }.joined(separator: ",") + "]"
                case 2: begin += rng.below(5) - 2
                case 3: end += rng.below(5) - 2
                case 4: swap(&begin, &end)
                default: break
                }
                offset += bytes
                let name = rng.chance(0.1) && t > 0 ? "t0" : "t\(t)"
                entries.append("\"\(name)\":{\"dtype\":\(dt),\"shape\":\(sh),\"data_offsets\":[\(begin),\(end)]}")
            }
            if rng.chance(0.3) {
                let values = ["\"v\"", "1", "null", "[]", "{}", "\"\\u00e9\""]
                entries.insert("\"__metadata__\":{\"k\":\(values[rng.below(values.count)])}", at: rng.below(entries.count + 1))
            }
            if rng.chance(0.5) { entries.shuffle(using: &rng) }
            let json = "{" + entries.joined(separator: ",") + "}" + String(repeating: " ", count: rng.below(8))
            let dataCount = max(0, offset + (rng.chance(0.8) ? 0 : rng.below(5) - 2))
            Self.check(image(header: json, data: (0..<dataCount).map { UInt8(truncatingIfNeeded: $0 &* 37) }), &stats)
        }

        // 7. Random bytes, some with a plausible length field.
        for _ in 0..<1000 {
            var b = (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if b.count >= 9, rng.chance(0.5) {
                let n = UInt64(rng.below(b.count - 8))
                for k in 0..<8 { b[k] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(k))) }
                b[8] = UInt8(ascii: "{")
            }
            Self.check(b, &stats)
        }

        let seconds = Date().timeIntervalSince(start)
        print("SafeTensors mutation fuzz: \(stats) in \(String(format: "%.2f", seconds)) s")
        #expect(stats.inputs > 20_000)
        #expect(stats.accepted > 100)  // the mutations do reach the accept path
    }

    /// The header's UTF-8 validator agrees with the standard library on random and edge sequences.
    @Test func utf8ValidatorMatchesStandardLibrary() {
        var rng = TestRNG(seed: 8)
        let edges: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        ]
        var inputs = edges
        for _ in 0..<50_000 {
            let n = rng.below(8)
            inputs.append((0..<n).map { _ in
                // Bias towards lead and continuation bytes.
                rng.chance(0.5) ? UInt8(0x80 + rng.below(0x80)) : UInt8(truncatingIfNeeded: rng.next())
            })
        }
        for bytes in inputs {
            let ours = bytes.withUnsafeBytes { HeaderParser.firstInvalidUTF8($0) } == nil
            let stdlib = String(validating: bytes, as: UTF8.self) != nil
            #expect(ours == stdlib, "\(bytes)")
        }
    }
}

extension TestRNG: RandomNumberGenerator {}
