import Foundation
import Core
import Testing
@testable import VectorIndex

@Suite("Index files")
struct FileTests {
    static let dim = 12

    static func sampleHNSW(_ n: Int = 800, tombstones: Bool = true) throws -> ([Float], HNSWIndex) {
        let data = TestData.clustered(n, dim, clusters: 10, seed: 51)
        let index = try HNSWIndex(vectors: data, dimension: dim, metric: .cosine, configuration: HNSWConfiguration(m: 6, efConstruction: 40))
        if tombstones { index.remove([3, 4, 5]) }
        return (data, index)
    }

    @Test("exact index: save, load (mapped), search identically, then change the loaded copy")
    func exactRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("flat.idx").path
        let data = TestData.gaussian(500, Self.dim, seed: 52)
        var index = ExactIndex(dimension: Self.dim, metric: .l2)
        try index.add(data, ids: (0..<500).map { UInt64($0 * 3) })
        try index.save(to: path, fingerprint: "model-a@1")
        var loaded = try ExactIndex.load(from: path)
        #expect(loaded.count == 500 && loaded.metric == .l2 && loaded.ids == index.ids)
        let q = TestData.gaussian(5, Self.dim, seed: 53)
        #expect(try loaded.search(queries: q, k: 7) == index.search(queries: q, k: 7))
        let info = try IndexFileInfo.read(path: path, verifyChecksums: true)
        #expect(info == IndexFileInfo(kind: .exact, metric: .l2, dimension: Self.dim, count: 500, bytes: info.bytes, fingerprint: "model-a@1"))
        // The mapping is private: changing the loaded index leaves the file alone.
        loaded.remove([0, 3])
        try loaded.add(TestData.row(data, 0, Self.dim), ids: [100_000])
        #expect(try ExactIndex.load(from: path).count == 500)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["flat.idx"], "no temporary files left")
    }

    @Test("HNSW: a large graph loads the same copied into huge-page memory as mapped in place")
    func hnswLargeLoadCopies() throws {
        // Above AlignedBuffer.hugePageThreshold, so the default load takes the copying path.
        let n = 20_000, dim = 64
        #expect(n * (dim + 48) * 4 >= AlignedBuffer<Float>.hugePageThreshold)
        let dir = try TemporaryDirectory()
        let path = dir.file("big.idx").path
        let data = TestData.clustered(n, dim, clusters: 40, seed: 57)
        let index = try HNSWIndex(vectors: data, dimension: dim, metric: .dot, configuration: HNSWConfiguration(m: 8, efConstruction: 24))
        index.remove([7, 8])
        try index.save(to: path)
        let copied = try HNSWIndex.load(from: path)
        let mapped = try HNSWIndex.load(from: path, options: IndexLoadOptions(copyIntoMemory: false))
        let q = TestData.gaussian(40, dim, seed: 58)
        let expected = try index.search(queries: q, k: 10, ef: 32)
        #expect(try copied.search(queries: q, k: 10, ef: 32) == expected)
        #expect(try mapped.search(queries: q, k: 10, ef: 32) == expected)
        // The copy is private memory: growing and compacting it leaves the file and the mapped copy alone.
        try copied.add(TestData.row(data, 0, dim), ids: [1_000_000])
        #expect(copied.compact() == 2)
        #expect(try mapped.search(queries: q, k: 10, ef: 32) == expected)
        #expect(try HNSWIndex.load(from: path).count == n - 2)
    }

    @Test("HNSW: save and load keep results, tombstones and ids; the loaded graph grows and compacts")
    func hnswRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("g.idx").path
        let (data, index) = try Self.sampleHNSW()
        try index.save(to: path, fingerprint: "fp")
        let loaded = try HNSWIndex.load(from: path)
        #expect(loaded.count == index.count && loaded.tombstoneCount == 3 && loaded.configuration == index.configuration)
        let q = TestData.clustered(20, Self.dim, clusters: 10, seed: 54)
        #expect(try loaded.search(queries: q, k: 5, ef: 30) == index.search(queries: q, k: 5, ef: 30))
        #expect(try IndexFileInfo.read(path: path).fingerprint == "fp")
        try loaded.add(TestData.row(data, 3, Self.dim), ids: [3])
        try loaded.add(Array(data[0..<(100 * Self.dim)]).map { $0 * 1.01 })  // default ids continue after the largest
        #expect(loaded.contains(800) && loaded.count == 898)
        loaded.compact()
        #expect(try loaded.search(TestData.row(data, 3, Self.dim), k: 1, ef: 30).first?.id == 3)
        let again = dir.file("g2.idx").path
        try loaded.save(to: again)
        #expect(try HNSWIndex.load(from: again).count == 898)
        // An empty index round-trips too.
        try HNSWIndex(dimension: 4, metric: .dot).save(to: dir.file("empty.idx").path)
        let empty = try HNSWIndex.load(from: dir.file("empty.idx").path)
        #expect(empty.count == 0)
        try empty.add([1, 2, 3, 4])
        #expect(try empty.search([1, 2, 3, 4], k: 1).first?.id == 0)
    }

    @Test("a failed save leaves the previous file intact and no temporary file")
    func atomicSave() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("g.idx").path
        let (_, index) = try Self.sampleHNSW()
        try index.save(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        index.remove([10, 11])
        for cut in [0, 100, before.count / 2] {
            #expect(throws: IndexFileError.self) { try index.save(to: path, fingerprint: nil, failAfterBytes: cut) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["g.idx"])
        #expect(throws: IndexFileError.self) { try index.save(to: dir.file("missing/dir/g.idx").path) }
    }

    /// Runs a load, expecting a specific kind of failure.
    static func expectFailure(_ bytes: [UInt8], verify: Bool = true, _ matches: (IndexFileError.Reason) -> Bool,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("bad.idx").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try HNSWIndex.load(from: path, options: IndexLoadOptions(verifyChecksums: verify))
            Issue.record("loaded a malformed file", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == path, sourceLocation: sourceLocation)
            #expect(matches(error.reason), "\(error)", sourceLocation: sourceLocation)
        }
    }

    static func bytes(of index: HNSWIndex) throws -> [UInt8] {
        let dir = try TemporaryDirectory()
        let path = dir.file("g.idx").path
        try index.save(to: path)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Rewrites the header and table checksums after a deliberate change, so that the structural
    /// checks (not the checksums) must catch it.
    static func reseal(_ b: inout [UInt8]) {
        guard b.count >= 64 else { return }
        let sections = min(Int(b[20]) | Int(b[21]) << 8, (b.count - 64) / 32)
        let tableEnd = 64 + 32 * sections
        // Section CRCs too, so that even verifying loads reach the structure checks.
        for i in 0..<sections {
            let e = 64 + 32 * i
            let offset = (0..<8).reduce(0) { $0 | Int(b[e + 8 + $1]) << (8 * $1) }
            let length = (0..<8).reduce(0) { $0 | Int(b[e + 16 + $1]) << (8 * $1) }
            guard offset >= 0, length >= 0, offset <= b.count, length <= b.count - offset else { continue }
            let c = b[offset..<(offset + length)].withUnsafeBytes { IndexFileFormat.crc($0) }
            for k in 0..<4 { b[e + 4 + k] = UInt8(truncatingIfNeeded: c >> (8 * k)) }
        }
        let t = b[64..<tableEnd].withUnsafeBytes { IndexFileFormat.crc($0) }
        for k in 0..<4 { b[56 + k] = UInt8(truncatingIfNeeded: t >> (8 * k)) }
        let h = b[0..<60].withUnsafeBytes { IndexFileFormat.crc($0) }
        for k in 0..<4 { b[60 + k] = UInt8(truncatingIfNeeded: h >> (8 * k)) }
    }

    static func section(_ b: [UInt8], _ tag: String) -> (offset: Int, length: Int) {
        let sections = Int(b[20])
        for i in 0..<sections {
            let e = 64 + 32 * i
            if String(decoding: b[e..<(e + 4)], as: UTF8.self) == tag {
                return ((0..<8).reduce(0) { $0 | Int(b[e + 8 + $1]) << (8 * $1) }, (0..<8).reduce(0) { $0 | Int(b[e + 16 + $1]) << (8 * $1) })
            }
        }
        fatalError("no section \(tag)")
    }

    static func put32(_ b: inout [UInt8], _ offset: Int, _ v: UInt32) { for k in 0..<4 { b[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
    static func put64(_ b: inout [UInt8], _ offset: Int, _ v: UInt64) { for k in 0..<8 { b[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }

    @Test("every malformed-file class gives its own clear error")
    func malformed() throws {
        let (_, index) = try Self.sampleHNSW()
        let good = try Self.bytes(of: index)
        // Not an index at all; empty; a text file.
        try Self.expectFailure([], { if case .truncated = $0 { true } else { false } })
        try Self.expectFailure(Array("hello, world, this is not an index at all......".utf8) + [UInt8](repeating: 0, count: 64), { $0 == .notAnIndex })
        // Truncated anywhere: in the header, in the table, in a payload.
        for cut in [5, 40, 70, good.count / 2, good.count - 1] {
            try Self.expectFailure(Array(good[0..<cut]), { if case .truncated = $0 { true } else { false } })
        }
        // Trailing garbage.
        try Self.expectFailure(good + [1, 2, 3], { if case .malformed = $0 { true } else { false } })
        // A future version.
        var v = good; v[8] = 9; Self.reseal(&v)
        try Self.expectFailure(v, { $0 == .unsupportedVersion(9) })
        // Header bit flip (checksum), payload bit flip (checksum, only when verifying).
        var h = good; h[17] ^= 1
        try Self.expectFailure(h, { $0 == .checksumMismatch("the header") })
        var p = good; let vecs = Self.section(good, "VECS"); p[vecs.offset + 5] ^= 0x10
        try Self.expectFailure(p, { $0 == .checksumMismatch("section VECS") })
        // Wrong kind: an exact index file loaded as HNSW.
        let dir = try TemporaryDirectory()
        var flat = ExactIndex(dimension: 4, metric: .dot)
        try flat.add([1, 2, 3, 4])
        try flat.save(to: dir.file("f.idx").path)
        try Self.expectFailure([UInt8](try Data(contentsOf: dir.file("f.idx"))), { $0 == .wrongKind(expected: "HNSW", found: "exact") })
        #expect(throws: IndexFileError.self) { try ExactIndex.load(from: dir.file("missing.idx").path) }
        // Crafted with valid checksums: huge count, huge dimension, unknown metric, bad section
        // extents, bad links, bad levels, bad entry point, duplicate live ids, NaN vectors.
        func crafted(_ change: (inout [UInt8]) -> Void, _ matches: @escaping (IndexFileError.Reason) -> Bool, verify: Bool = true,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
            var b = good
            change(&b)
            Self.reseal(&b)
            try Self.expectFailure(b, verify: verify, matches, sourceLocation: sourceLocation)
        }
        let isMalformed: (IndexFileError.Reason) -> Bool = { if case .malformed = $0 { true } else { false } }
        try crafted({ Self.put64(&$0, 24, 1 << 40) }, isMalformed)               // count: no huge allocation
        try crafted({ Self.put32(&$0, 16, 1 << 30) }, isMalformed)               // dimension
        try crafted({ $0[12] = 7 }, isMalformed)                                 // metric
        // A kind code no release wrote is refused by name, never loaded as another kind.
        try crafted({ $0[10] = 9; $0[11] = 0 }, { $0 == .malformed("unknown index kind 9") })
        var unknownKind = good
        unknownKind[10] = 9
        Self.reseal(&unknownKind)
        let unknownPath = dir.file("unknown-kind.idx").path
        try Data(unknownKind).write(to: URL(fileURLWithPath: unknownPath))
        #expect(throws: IndexFileError.self) { try IndexFileInfo.read(path: unknownPath) }
        try crafted({ Self.put64(&$0, 64 + 8, 1 << 50) }, { if case .truncated = $0 { true } else { false } })  // section offset
        try crafted({ Self.put64(&$0, 64 + 8, 65) }, isMalformed)                // misaligned section
        try crafted({ Self.put32(&$0, 20, 33) }, isMalformed)                    // too many sections
        let l0 = Self.section(good, "LNK0")
        try crafted({ Self.put32(&$0, l0.offset, 1000) }, isMalformed)           // link count
        try crafted({ Self.put32(&$0, l0.offset + 4, 1 << 20) }, isMalformed)    // link target
        let lv = Self.section(good, "LVLS")
        try crafted({ $0[lv.offset] = 200 }, isMalformed)                        // level
        try crafted({ $0[lv.offset] = $0[lv.offset] == 0 ? 1 : 0 }, isMalformed) // levels no longer match the upper links
        let parm = Self.section(good, "PARM")
        try crafted({ Self.put64(&$0, parm.offset + 24, 0) }, isMalformed)       // entry point
        try crafted({ Self.put32(&$0, parm.offset, 500) }, isMalformed)          // m
        try crafted({ Self.put64(&$0, parm.offset + 32, 0) }, isMalformed)       // tombstone count
        let lab = Self.section(good, "LABL")
        try crafted({ for k in 0..<8 { $0[lab.offset + 8 + k] = $0[lab.offset + 80 + k] } }, isMalformed)  // duplicate live ids
        try crafted({ Self.put32(&$0, vecs.offset, 0x7FC0_0000) }, isMalformed)  // NaN
        try crafted({ Self.put64(&$0, 64 + 16, 3) }, isMalformed)                 // a section length that disagrees with the header
    }

    @Test("mutation fuzz: random byte changes and truncations never crash the loader or a search", arguments: [true, false])
    func fuzz(verifyChecksums: Bool) throws {
        let (data, index) = try Self.sampleHNSW(300)
        var flat = ExactIndex(dimension: Self.dim, metric: .dot)
        try flat.add(Array(data[0..<(200 * Self.dim)]))
        let dir = try TemporaryDirectory()
        try flat.save(to: dir.file("flat.idx").path)
        let originals = [try Self.bytes(of: index), [UInt8](try Data(contentsOf: dir.file("flat.idx")))]
        var g = SeededGenerator(seed: verifyChecksums ? 61 : 62)
        let path = dir.file("m.idx").path
        var loadedCount = 0, rejected = 0
        let query = TestData.row(data, 0, Self.dim)
        for trial in 0..<600 {
            var b = originals[trial % 2]
            switch Int.random(in: 0..<4, using: &g) {
            case 0:  // a few random bytes anywhere
                for _ in 0..<Int.random(in: 1...4, using: &g) { b[Int.random(in: 0..<b.count, using: &g)] = UInt8.random(in: 0...255, using: &g) }
            case 1:  // truncate
                b.removeSubrange(Int.random(in: 0..<b.count, using: &g)...)
            case 2:  // change the payload and reseal every checksum: only structure checks stand
                let start = min(b.count - 1, 64 + 32 * Int(b[20]))
                for _ in 0..<Int.random(in: 1...8, using: &g) { b[Int.random(in: start..<b.count, using: &g)] = UInt8.random(in: 0...255, using: &g) }
                Self.reseal(&b)
            default:  // change header or table fields and reseal
                for _ in 0..<Int.random(in: 1...3, using: &g) { b[Int.random(in: 8..<min(b.count, 64 + 32 * 8), using: &g)] = UInt8.random(in: 0...255, using: &g) }
                Self.reseal(&b)
            }
            try Data(b).write(to: URL(fileURLWithPath: path))
            do {
                if trial % 2 == 0 {
                    let loaded = try HNSWIndex.load(from: path, options: IndexLoadOptions(verifyChecksums: verifyChecksums))
                    if loaded.dimension == Self.dim {
                        _ = try? loaded.search(query, k: 5, ef: 20)
                        _ = try? loaded.search(query, k: 5, filter: .predicate { $0 % 2 == 0 })
                        try? loaded.add(query)
                        loaded.compact()
                    }
                } else {
                    let loaded = try ExactIndex.load(from: path, options: IndexLoadOptions(verifyChecksums: verifyChecksums))
                    if loaded.dimension == Self.dim { _ = try? loaded.search(queries: query, k: 5) }
                }
                loadedCount += 1
            } catch {
                #expect(error.file == path)
                #expect(!error.description.isEmpty)
                rejected += 1
            }
        }
        #expect(rejected > 300, "most mutations are caught (\(rejected) rejected, \(loadedCount) loaded)")
    }
}
