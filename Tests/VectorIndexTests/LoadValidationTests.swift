import Foundation
import Testing
@testable import VectorIndex

/// Index files with valid checksums but impossible contents (issue 12): vectors a real index
/// never stores, a graph whose nodes cannot be reached, a dimension no reader accepts, and the
/// temporary files an interrupted save leaves behind.
@Suite("Index load validation")
struct LoadValidationTests {
    static func isMalformed(containing text: String) -> (IndexFileError.Reason) -> Bool {
        { if case .malformed(let m) = $0 { m.contains(text) } else { false } }
    }

    @Test("a cosine vector that is not unit length is refused (a crafted 4.9e36 used to rank first)")
    func hugeCosineVector() throws {
        let (_, index) = try FileTests.sampleHNSW(200, tombstones: false)
        var b = try FileTests.bytes(of: index)
        let vecs = FileTests.section(b, "VECS")
        for d in 0..<FileTests.dim {
            let at = vecs.offset + 4 * d
            let v = b[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: Float.self) } * 7e35
            FileTests.put32(&b, at, v.bitPattern)
        }
        FileTests.reseal(&b)
        try FileTests.expectFailure(b, Self.isMalformed(containing: "vector 0 has length"))
    }

    @Test("a graph without links, or whose entry point leads nowhere, is refused")
    func graphWithoutLinks() throws {
        let (_, index) = try FileTests.sampleHNSW(200, tombstones: false)
        var b = try FileTests.bytes(of: index)
        let l0 = FileTests.section(b, "LNK0")
        let stride = l0.length / 200
        for s in 0..<200 { FileTests.put32(&b, l0.offset + s * stride, 0) }
        FileTests.reseal(&b)
        try FileTests.expectFailure(b, Self.isMalformed(containing: "has no links"))
        // Links only among the others: the entry point (on layer 0) leads nowhere.
        b = try FileTests.bytes(of: index)
        let parm = FileTests.section(b, "PARM")
        let entry = Int((b[(parm.offset + 24)..<(parm.offset + 32)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) } >> 8) - 1)
        FileTests.put32(&b, l0.offset + entry * stride, 1)
        FileTests.put32(&b, l0.offset + entry * stride + 4, UInt32(entry))
        let lvls = FileTests.section(b, "LVLS"), upper = FileTests.section(b, "LNKU")
        var offset = upper.offset
        for s in 0..<200 {
            for _ in 0..<Int(b[lvls.offset + s]) {
                if s == entry { FileTests.put32(&b, offset, 0) }
                offset += 4 * (1 + 6)
            }
        }
        FileTests.reseal(&b)
        try FileTests.expectFailure(b, Self.isMalformed(containing: "only 1 of 200 live nodes can be reached"))
    }

    /// Live nodes that layer-0 links do not reach from the entry point.
    static func unreachableLive(_ index: HNSWIndex) -> Int {
        let g = index.graph
        let seen = g.reachableFromEntry()
        return (0..<g.slotCount).filter { !seen[$0] && !g.isDeleted(UInt32($0)) }.count
    }

    @Test("every live node of a built graph is reachable: exact duplicates, inner product, removals and compaction (without the repair walk: 342 of 1,800 stranded, 1,284 after compaction, 2,492 of 20,000 under inner product)")
    func builtGraphsAreFullyReachable() throws {
        let dir = try TemporaryDirectory()
        // Many exact duplicates are the classic way for pruning to strand a node.
        var data = TestData.clustered(1500, 8, clusters: 5, seed: 91)
        data += Array(data[0..<(8 * 300)])
        let index = try HNSWIndex(vectors: data, dimension: 8, metric: .l2, configuration: HNSWConfiguration(m: 4, efConstruction: 20))
        #expect(Self.unreachableLive(index) == 0)
        index.remove(Array(0..<200).map(UInt64.init))
        try index.save(to: dir.file("g.idx").path)
        let loaded = try HNSWIndex.load(from: dir.file("g.idx").path)
        #expect(loaded.count == index.count)
        #expect(Self.unreachableLive(loaded) == 0)
        index.compact()
        #expect(Self.unreachableLive(index) == 0, "after compaction")

        // Inner product over vectors of varied lengths: a few long vectors win every pruning.
        let dot = TestData.gaussian(20_000, 16, seed: 7)
        let ip = try HNSWIndex(vectors: dot, dimension: 16, metric: .dot, configuration: HNSWConfiguration(m: 8, efConstruction: 64))
        #expect(Self.unreachableLive(ip) == 0)
    }

    @Test("a node nobody links to is linked again: by the repair walk, and when a file holding one is loaded")
    func strandedNodesAreRelinked() throws {
        let (data, index) = try FileTests.sampleHNSW(400, tombstones: false)
        let dim = FileTests.dim
        let g = index.graph
        // A node of layer 0 only, not the entry point.
        let victim = try #require((100..<400).map(UInt32.init).first { $0 != g.entry?.node && g.levels[Int($0)] == 0 })
        var b = try FileTests.bytes(of: index)
        // Drop every layer-0 link to the victim, in memory and in the file's bytes.
        for s in 0..<g.slotCount {
            let record = g.links(UInt32(s), level: 0)
            let kept = (0..<Int(record[0])).map { record[1 + $0] }.filter { $0 != victim }
            g.writeLinks(UInt32(s), level: 0, kept)
        }
        #expect(Self.unreachableLive(index) >= 1)
        let l0 = FileTests.section(b, "LNK0")
        let stride = l0.length / 400
        func word(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) } }
        for s in 0..<400 {
            let at = l0.offset + s * stride
            let kept = (0..<Int(word(at))).map { word(at + 4 * (1 + $0)) }.filter { $0 != victim }
            FileTests.put32(&b, at, UInt32(kept.count))
            for (i, t) in kept.enumerated() { FileTests.put32(&b, at + 4 * (1 + i), t) }
        }
        FileTests.reseal(&b)

        #expect(index.repairReachabilityLocked() >= 1)
        #expect(Self.unreachableLive(index) == 0)
        let query = Array(data[(Int(victim) * dim)..<((Int(victim) + 1) * dim)])
        #expect(try index.search(query, k: 1).first?.id == UInt64(victim))

        let dir = try TemporaryDirectory()
        try Data(b).write(to: dir.file("stranded.idx"))
        let loaded = try HNSWIndex.load(from: dir.file("stranded.idx").path)
        #expect(Self.unreachableLive(loaded) == 0)
        #expect(try loaded.search(query, k: 1).first?.id == UInt64(victim))
    }

    @Test("an exact dot index with a vector whose squared length overflows is refused")
    func overflowingDotVector() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("f.idx").path
        var flat = ExactIndex(dimension: 4, metric: .dot)
        try flat.add([1e20, 0, 0, 0, 1, 2, 3, 4])
        try flat.save(to: path)
        let error = try #require(throws: IndexFileError.self) { try ExactIndex.load(from: path) }
        #expect(Self.isMalformed(containing: "vector 0 is so large")(error.reason), "\(error)")
    }

    @Test("an index above 65,536 dimensions is refused when it is made, before any allocation")
    func dimensionLimit() throws {
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 100_000_000_000_000_000, metric: .cosine) }
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: IndexFileFormat.maximumDimension + 1, metric: .l2) }
        _ = try HNSWIndex(dimension: IndexFileFormat.maximumDimension, metric: .l2, capacity: 1)
    }

    @Test("a save removes the temporary files of killed writers, never a live writer's")
    func staleTemporariesAreRemoved() throws {
        let dir = try TemporaryDirectory()
        let dead = dir.file(".g.idx.tmp-999999999-12345"), live = dir.file(".g.idx.tmp-1-777")
        try Data("partial".utf8).write(to: dead)
        try Data("partial".utf8).write(to: live)
        var flat = ExactIndex(dimension: 2, metric: .l2)
        try flat.add([1, 2])
        try flat.save(to: dir.file("g.idx").path)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(names == [".g.idx.tmp-1-777", "g.idx"])
    }
}
