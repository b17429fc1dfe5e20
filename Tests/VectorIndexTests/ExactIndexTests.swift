import Testing
@testable import VectorIndex

@Suite("Exact index")
struct ExactIndexTests {
    static let dim = 24

    @Test("single and batched queries match a brute-force Double reference", arguments: Metric.allCases)
    func matchesReference(metric: Metric) throws {
        let n = 2_500, dim = Self.dim
        let data = TestData.gaussian(n, dim, seed: 1)
        let queries = TestData.gaussian(20, dim, seed: 2)
        var index = ExactIndex(dimension: dim, metric: metric)
        try index.add(data)
        #expect(index.count == n)
        let batch = try index.search(queries: queries, k: 10)
        for q in 0..<20 {
            let query = TestData.row(queries, q, dim)
            let truth = Reference.topK(data, query, dim: dim, k: 10, metric: metric)
            let single = try index.search(query, k: 10)
            #expect(single.map(\.id) == truth.map { UInt64($0.id) })
            #expect(batch[q].map(\.id) == truth.map { UInt64($0.id) })
            for (hit, t) in zip(single, truth) { #expect(abs(Double(hit.score) - t.score) < 1e-4 * max(1, abs(t.score))) }
            #expect(batch[q] == single, "the batched (GEMM) and single (dot) paths report identical hits and scores")
        }
    }

    @Test("k larger than the index returns everything; empty index returns nothing")
    func smallIndexes() throws {
        var index = ExactIndex(dimension: 4, metric: .dot)
        #expect(try index.search([1, 0, 0, 0], k: 3).isEmpty)
        let empty = try index.search(queries: [1, 0, 0, 0], k: 2)
        #expect(empty.ids == [SearchResults.missing, SearchResults.missing] && empty.scores.allSatisfy(\.isNaN))
        try index.add([1, 0, 0, 0, 0, 1, 0, 0], ids: [7, 9])
        let r = try index.search([1, 0.5, 0, 0], k: 5)
        #expect(r.map(\.id) == [7, 9] && r.map(\.score) == [1, 0.5])
        let b = try index.search(queries: [1, 0.5, 0, 0], k: 3)
        #expect(b.ids == [7, 9, SearchResults.missing] && b[0] == r)
    }

    @Test("equal scores order by id, whatever the tiling")
    func ties() throws {
        var index = ExactIndex(dimension: 2, metric: .dot)
        let n = 5000
        try index.add([Float](repeating: 1, count: n * 2))  // every vector identical
        let r = try index.search(queries: [1, 1, 2, 2], k: 5)
        #expect(r[0].map(\.id) == [0, 1, 2, 3, 4] && r[1].map(\.id) == [0, 1, 2, 3, 4])
        #expect(try index.search([1, 1], k: 3).map(\.id) == [0, 1, 2])
    }

    @Test("id-set and predicate filters, selective and broad, on both paths", arguments: [Metric.cosine, .l2])
    func filters(metric: Metric) throws {
        let n = 3000, dim = Self.dim
        let data = TestData.gaussian(n, dim, seed: 3)
        var index = ExactIndex(dimension: dim, metric: metric)
        try index.add(data)
        let query = TestData.gaussian(1, dim, seed: 4)
        let few: Set<UInt64> = [5, 17, 2999, 1234, 77]
        for filter in [SearchFilter.ids(few), .predicate { few.contains($0) }] {
            let truth = Reference.topK(data, query, dim: dim, k: 3, metric: metric) { few.contains(UInt64($0)) }
            #expect(try index.search(query, k: 3, filter: filter).map(\.id) == truth.map { UInt64($0.id) })
            #expect(try index.search(queries: query, k: 3, filter: filter)[0].map(\.id) == truth.map { UInt64($0.id) })
        }
        let even = SearchFilter.predicate { $0 % 2 == 0 }
        let truth = Reference.topK(data, query, dim: dim, k: 8, metric: metric) { $0 % 2 == 0 }
        #expect(try index.search(query, k: 8, filter: even).map(\.id) == truth.map { UInt64($0.id) })
        #expect(try index.search(queries: query, k: 8, filter: even)[0].map(\.id) == truth.map { UInt64($0.id) })
        #expect(try index.search(query, k: 4, filter: .ids([])).isEmpty)
    }

    @Test("remove, upsert and copy-on-write")
    func changes() throws {
        let dim = 8
        let data = TestData.gaussian(100, dim, seed: 5)
        var index = ExactIndex(dimension: dim, metric: .l2)
        try index.add(data)
        let snapshot = index
        #expect(index.remove([3, 4, 999]) == 2)
        #expect(index.count == 98 && !index.contains(3) && snapshot.contains(3) && snapshot.count == 100)
        let q = TestData.row(data, 10, dim)
        #expect(try index.search(q, k: 1).first == SearchResult(id: 10, score: 0))
        try index.upsert(TestData.row(data, 20, dim), id: 10)  // id 10 now holds row 20's vector
        #expect(try index.search(TestData.row(data, 20, dim), k: 2).map(\.id).sorted() == [10, 20])
        #expect(try snapshot.search(q, k: 1).first?.id == 10)
        try index.upsert(q, id: 500)
        #expect(index.count == 99 && index.vector(for: 500) == q)
        #expect(try index.search(q, k: 1).first?.id == 500)
    }

    @Test("bad input is refused with a clear error and changes nothing")
    func errors() throws {
        var index = ExactIndex(dimension: 3, metric: .cosine)
        #expect(throws: IndexError.ragged(count: 4, dimension: 3)) { try index.add([1, 2, 3, 4]) }
        #expect(throws: IndexError.invalidVector(row: 1, reason: "is all zeros (cosine needs a direction)")) { try index.add([1, 2, 3, 0, 0, 0]) }
        #expect(throws: IndexError.self) { try index.add([1, .nan, 3]) }
        #expect(index.count == 0)
        try index.add([1, 2, 3], id: 1)
        #expect(throws: IndexError.duplicateID(1)) { try index.add([1, 2, 3], id: 1) }
        #expect(throws: IndexError.duplicateID(2)) { try index.add([1, 2, 3, 3, 2, 1], ids: [2, 2]) }
        #expect(throws: IndexError.dimensionMismatch(expected: 3, got: 2)) { try index.search([1, 2], k: 1) }
        #expect(throws: IndexError.self) { try index.search([1, 2, .infinity], k: 1) }
        #expect(throws: IndexError.self) { try index.search([1, 2, 3], k: 0) }
        #expect(index.count == 1)
    }
}
