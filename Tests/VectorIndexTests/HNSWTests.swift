import Foundation
import Testing
@testable import VectorIndex

@Suite("HNSW index")
struct HNSWTests {
    @Test("recall@10 against the exact index on random and clustered data", arguments: [Metric.cosine, .l2, .dot])
    func recallBound(metric: Metric) throws {
        let dim = 32, n = 6_000
        for (name, raw) in [("gaussian", TestData.gaussian(n, dim, seed: 11)), ("clustered", TestData.clustered(n, dim, clusters: 40, seed: 12))] {
            // Inner-product search on vectors of very different norms is not a metric search
            // (graphs struggle with it); embeddings are near unit length, so test that case.
            let data = metric == .dot ? TestData.nearUnit(raw, dim, seed: 14) : raw
            let queries = name == "gaussian" ? TestData.gaussian(200, dim, seed: 13) : TestData.clustered(200, dim, clusters: 40, seed: 12 ^ 99)
            var exact = ExactIndex(dimension: dim, metric: metric)
            try exact.add(data)
            let hnsw = try HNSWIndex(vectors: data, dimension: dim, metric: metric, configuration: HNSWConfiguration(m: 16, efConstruction: 100))
            #expect(hnsw.count == n)
            let truth = try exact.search(queries: queries, k: 10)
            let approx = try hnsw.search(queries: queries, k: 10, ef: 100)
            let r = recall(approx, truth)
            // Random 32-d Gaussians are the hard case for graphs; measured ≈0.97 (gaussian) and ≈0.99 (clustered).
            #expect(r >= 0.93, "\(metric) \(name): recall@10 \(r)")
            // Scores agree with the exact ones for the ids both found.
            for q in 0..<20 {
                let exactScores = Dictionary(uniqueKeysWithValues: truth[q].map { ($0.id, $0.score) })
                for hit in approx[q] { if let s = exactScores[hit.id] { #expect(abs(s - hit.score) <= 1e-4 * max(1, abs(s))) } }
                #expect(zip(approx[q], approx[q].dropFirst()).allSatisfy { !metric.isCloser($1.score, than: $0.score) }, "best first")
            }
        }
    }
}

@Suite("HNSW changes: delete, update, compact, grow")
struct HNSWChangeTests {
    static let dim = 16

    static func build(_ n: Int, seed: UInt64, capacity: Int = 1024) throws -> ([Float], HNSWIndex) {
        let data = TestData.clustered(n, dim, clusters: 20, seed: seed)
        let index = try HNSWIndex(dimension: dim, metric: .l2, configuration: HNSWConfiguration(m: 12, efConstruction: 80), capacity: capacity)
        try index.add(data)
        return (data, index)
    }

    @Test("grows from a tiny capacity, one vector at a time and in batches")
    func growth() throws {
        let (data, index) = try Self.build(3000, seed: 21, capacity: 16)
        #expect(index.count == 3000 && index.capacity >= 3000)
        for i in 0..<50 { try index.add(TestData.row(data, i, Self.dim).map { $0 + 0.01 }, ids: [UInt64(10_000 + i)]) }
        #expect(index.count == 3050)
        #expect(try index.search(TestData.row(data, 7, Self.dim), k: 1, ef: 64).first?.id == 7)
        // Default ids continue past the largest id.
        try index.add(TestData.row(data, 1, Self.dim))
        #expect(index.contains(10_050))
    }

    @Test("removed vectors are never returned; compact reclaims them and keeps recall")
    func deleteAndCompact() throws {
        let n = 4000, dim = Self.dim
        let (data, index) = try Self.build(n, seed: 22)
        let removed = Set((0..<UInt64(n)).filter { $0 % 3 == 0 })
        #expect(index.remove(removed) == removed.count)
        #expect(!index.remove(0), "removing twice is a no-op")
        #expect(index.count == n - removed.count && index.tombstoneCount == removed.count)
        let queries = TestData.clustered(100, dim, clusters: 20, seed: 22 ^ 5)
        var exact = ExactIndex(dimension: dim, metric: .l2)
        let keep = (0..<n).filter { !removed.contains(UInt64($0)) }
        try exact.add(keep.flatMap { TestData.row(data, $0, dim) }, ids: keep.map { UInt64($0) })
        let truth = try exact.search(queries: queries, k: 10)
        let before = try index.search(queries: queries, k: 10, ef: 80)
        #expect(before.ids.allSatisfy { !removed.contains($0) })
        let recallBefore = recall(before, truth)
        #expect(index.compact() == removed.count)
        #expect(index.tombstoneCount == 0 && index.count == keep.count && index.compact() == 0)
        let after = try index.search(queries: queries, k: 10, ef: 80)
        let recallAfter = recall(after, truth)
        #expect(recallBefore >= 0.9 && recallAfter >= 0.9, "recall before \(recallBefore), after \(recallAfter)")
        #expect(index.integrityProblems() == [], "after compaction")
        #expect(Set(index.ids) == Set(keep.map { UInt64($0) }))
        // The compacted graph keeps working: add, search, remove.
        try index.add(TestData.row(data, 0, dim), ids: [0])
        #expect(try index.search(TestData.row(data, 0, dim), k: 1, ef: 50).first == SearchResult(id: 0, score: 0))
        #expect(index.remove(0))
    }

    @Test("the integrity check finds a self-loop, a repeated link and a stranded node")
    func integrityCheckFindsDamage() throws {
        let (_, index) = try Self.build(300, seed: 24)
        #expect(index.integrityProblems() == [])
        let g = index.graph
        let entry = try #require(g.entry).node
        let victim: UInt32 = entry == 7 ? 8 : 7
        // `victim` links to itself (first link) and lists its third neighbour twice (second link).
        let record = g.links(victim, level: 0)
        try #require(record[0] >= 3)
        record[1] = victim
        record[2] = record[3]
        let problems = index.integrityProblems(reachability: false)
        #expect(problems.contains("node \(victim) links to itself on level 0"), "\(problems)")
        #expect(problems.contains("node \(victim) lists \(record[3]) twice on level 0"), "\(problems)")

        // Another graph: every layer-0 in-link of one node removed strands it.
        let (_, other) = try Self.build(300, seed: 25)
        let h = other.graph
        let stranded: UInt32 = try #require(h.entry).node == 5 ? 6 : 5
        for s in 0..<UInt32(h.slotCount) {
            let r = h.links(s, level: 0)
            let kept = (0..<Int(r[0])).map { r[1 + $0] }.filter { $0 != stranded }
            for (i, t) in kept.enumerated() { r[1 + i] = t }
            r[0] = UInt32(kept.count)
        }
        #expect(other.integrityProblems(reachability: false) == [])
        #expect(other.integrityProblems().contains { $0.hasPrefix("1 live nodes are unreachable") && $0.contains("[\(stranded)]") },
                "\(other.integrityProblems())")
    }

    @Test("upsert replaces a vector: searches find the new one only")
    func update() throws {
        let (data, index) = try Self.build(2000, seed: 23)
        let far = [Float](repeating: 50, count: Self.dim)
        try index.upsert(far, id: 5)
        #expect(index.count == 2000 && index.tombstoneCount == 1)
        #expect(try index.search(far, k: 1, ef: 50).first == SearchResult(id: 5, score: 0))
        let hits = try index.search(TestData.row(data, 5, Self.dim), k: 5, ef: 50)
        #expect(!hits.contains { $0.id == 5 })
        #expect(index.vector(for: 5) == far)
        try index.upsert(TestData.row(data, 0, Self.dim), id: 99_999)  // new id: a plain add
        #expect(index.count == 2001)
        index.compact()
        #expect(try index.search(far, k: 1, ef: 50).first == SearchResult(id: 5, score: 0))
    }

    @Test("removing everything leaves an empty, usable index")
    func removeAll() throws {
        let (data, index) = try Self.build(300, seed: 24)
        index.remove(index.ids)
        #expect(index.count == 0)
        #expect(try index.search(TestData.row(data, 0, Self.dim), k: 3).isEmpty)
        index.compact()
        #expect(try index.search(TestData.row(data, 0, Self.dim), k: 3).isEmpty)
        try index.add(TestData.row(data, 0, Self.dim), ids: [1])
        #expect(try index.search(TestData.row(data, 0, Self.dim), k: 3).map(\.id) == [1])
    }

    @Test("bad input is refused and leaves the index unchanged")
    func errors() throws {
        let index = try HNSWIndex(dimension: 3, metric: .cosine)
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 3, metric: .cosine, configuration: HNSWConfiguration(m: 1)) }
        try index.add([1, 0, 0], ids: [1])
        #expect(throws: IndexError.duplicateID(1)) { try index.add([0, 1, 0], ids: [1]) }
        #expect(throws: IndexError.duplicateID(2)) { try index.add([0, 1, 0, 0, 0, 1], ids: [2, 2]) }
        #expect(throws: IndexError.self) { try index.add([0, 0, 0]) }
        #expect(throws: IndexError.ragged(count: 2, dimension: 3)) { try index.add([0, 0]) }
        #expect(throws: IndexError.dimensionMismatch(expected: 3, got: 2)) { try index.search([1, 0], k: 1) }
        #expect(throws: IndexError.self) { try index.search([1, 0, 0], k: 1, ef: 0) }
        #expect(index.count == 1 && index.tombstoneCount == 0)
        try index.add([0, 1, 0])  // default id after a refused add: still 2
        #expect(index.contains(2))
    }
}

@Suite("HNSW filtered search")
struct HNSWFilterTests {
    @Test("results satisfy the filter; broad filters traverse, selective ones fall back to exact")
    func filtered() throws {
        let n = 5000, dim = 16
        let data = TestData.clustered(n, dim, clusters: 25, seed: 31)
        let index = try HNSWIndex(vectors: data, dimension: dim, metric: .cosine, configuration: HNSWConfiguration(m: 12, efConstruction: 80))
        var exact = ExactIndex(dimension: dim, metric: .cosine)
        try exact.add(data)
        let queries = TestData.clustered(50, dim, clusters: 25, seed: 31 ^ 7)
        // Broad: half of the ids. Graph traversal with the predicate applied to results.
        let half = SearchFilter.predicate { $0 % 2 == 1 }
        #expect(index.estimatedAllowed(half) > index.filterExactFallback)
        let approx = try index.search(queries: queries, k: 10, ef: 100, filter: half)
        #expect(approx.ids.allSatisfy { $0 % 2 == 1 })
        #expect(recall(approx, try exact.search(queries: queries, k: 10, filter: half)) >= 0.9)
        // Selective: 40 allowed ids. Exact fallback, so the answer equals the exact index's.
        let few = Set((0..<40).map { UInt64($0 * 97) })
        for filter in [SearchFilter.ids(few), .predicate { few.contains($0) }] {
            let a = try index.search(queries: queries, k: 5, filter: filter)
            let e = try exact.search(queries: queries, k: 5, filter: filter)
            #expect(a.ids == e.ids)
        }
        // Removed ids stay out of filtered results too.
        index.remove([0, 97])
        let r = try index.search(TestData.row(data, 0, dim), k: 40, filter: .ids(few))
        #expect(r.count == 38 && !r.contains { $0.id == 0 || $0.id == 97 })
    }
}

@Suite("HNSW concurrency")
struct HNSWConcurrencyTests {
    @Test("searches while other threads add, upsert, remove and grow: no crash, valid results")
    func addWhileSearching() async throws {
        let dim = 16, n = 6000
        let data = TestData.clustered(n, dim, clusters: 30, seed: 41)
        let index = try HNSWIndex(dimension: dim, metric: .l2, configuration: HNSWConfiguration(m: 8, efConstruction: 40), capacity: 64)
        try index.add(Array(data[0..<(500 * dim)]))
        let writers = 3, readers = 3
        try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let mine = Array(stride(from: 500 + w, to: n, by: writers))
                    var k = 0
                    while k < mine.count {
                        // A large batch first (parallel insertion inside), then small batches,
                        // single adds, upserts and removes.
                        let batch = k == 0 ? 100 : (k % 40 == 0 ? 10 : 1)
                        let rows = Array(mine[k..<min(k + batch, mine.count)])
                        try index.add(rows.flatMap { TestData.row(data, $0, dim) }, ids: rows.map { UInt64($0) })
                        let i = rows[0]
                        if i % 7 == 0, k >= 5 { index.remove(UInt64(mine[k - 5])) }
                        if i % 11 == 0 { try index.upsert(TestData.row(data, i, dim).map { $0 + 0.001 }, id: UInt64(i)) }
                        k += rows.count
                    }
                    return k
                }
            }
            for r in 0..<readers {
                group.addTask {
                    var searched = 0
                    for j in 0..<400 {
                        let q = TestData.row(data, (j * 13 + r) % n, dim)
                        let hits = try index.search(q, k: 10, ef: 32)
                        // Valid: known ids, ascending distances, scores finite.
                        #expect(hits.allSatisfy { $0.id < UInt64(n) && $0.score.isFinite })
                        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score <= $1.score })
                        #expect(Set(hits.map(\.id)).count == hits.count, "no id twice")
                        searched += 1
                    }
                    return searched
                }
            }
            for try await _ in group {}
        }
        // Everything added is findable, removed ids are gone.
        #expect(index.count > 4000)
        let sample = index.ids.prefix(200)
        var found = 0
        for id in sample {
            let v = try #require(index.vector(for: id))
            if try index.search(v, k: 1, ef: 64).first?.id == id { found += 1 }
        }
        #expect(found >= 190, "\(found) of 200 stored vectors are their own nearest neighbour")
        // Single upserts do not repair reachability (batches, saves and compaction do): the
        // structure is checked now, reachability after compaction.
        #expect(index.integrityProblems(reachability: false) == [], "after concurrent mutation")
        index.compact()
        #expect(index.tombstoneCount == 0)
        #expect(index.integrityProblems() == [], "after compaction")
    }
}
