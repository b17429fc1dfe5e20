import Foundation
import Testing
@testable import VectorIndex

@Suite("Quantisation")
struct QuantizationTests {
    static let dim = 48

    @Test("int8 codes round-trip within half a step; calibration clips outliers")
    func scalarCodes() throws {
        let data = TestData.gaussian(2000, Self.dim, seed: 71)
        let q = try ScalarQuantizer.calibrate(data, dimension: Self.dim, clip: 0)
        let back = q.decode(q.encode(data))
        for (i, (x, y)) in zip(data, back).enumerated() { #expect(abs(x - y) <= q.scales[i % Self.dim] / 2 * 1.001) }
        var outlier = data
        outlier[0] = 1000
        let clipped = try ScalarQuantizer.calibrate(outlier, dimension: Self.dim, clip: 0.001)
        #expect(clipped.scales[0] < 0.1, "one outlier does not stretch the range")
        #expect(clipped.encode(outlier)[0] == 255, "values past the range clamp")
        #expect(throws: IndexError.self) { try ScalarQuantizer(minimums: [0], scales: [0]) }
    }

    @Test("binary codes: bit d set when component d is above its median threshold")
    func binaryCodes() throws {
        let q = try BinaryQuantizer(thresholds: [0, 1, -1] + [Float](repeating: 0, count: 67))
        #expect(q.words == 2)
        var v = [Float](repeating: -1, count: 70)
        v[0] = 0.5; v[1] = 0.5; v[2] = -0.5; v[69] = 2
        #expect(q.encode(v) == [0b101, 1 << 5])
        let data = TestData.gaussian(1001, 8, seed: 72).map { $0 + 3 }
        let calibrated = try BinaryQuantizer.calibrate(data, dimension: 8)
        let codes = calibrated.encode(data)
        let ones = codes.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(abs(Double(ones) / Double(1001 * 8) - 0.5) < 0.01, "median thresholds balance the bits")
    }

    @Test("recall@10 after rescoring, against the exact index", arguments: [Metric.cosine, .l2])
    func rescoredRecall(metric: Metric) throws {
        // Binary codes need embedding-sized dimensions to rank well: 256 here.
        let n = 8000, dim = 256
        let data = TestData.clustered(n, dim, clusters: 60, spread: 0.5, seed: 73)
        let queries = TestData.near(data, dim, count: 100, noise: 0.5, seed: 73 ^ 1)
        var exact = ExactIndex(dimension: dim, metric: metric)
        try exact.add(data)
        let truth = try exact.search(queries: queries, k: 10)
        let sq = try ScalarQuantizedIndex(vectors: data, dimension: dim, metric: metric)
        let int8 = try sq.search(queries: queries, k: 10, rescore: 4)
        #expect(recall(int8, truth) >= 0.99, "int8 + rescoring: \(recall(int8, truth))")
        let bq = try BinaryQuantizedIndex(vectors: data, dimension: dim, metric: metric)
        let binary = try bq.search(queries: queries, k: 10, rescore: 20)
        #expect(recall(binary, truth) >= 0.9, "binary + rescoring: \(recall(binary, truth))")
        print("quantised recall@10 (\(metric)): int8 \(recall(int8, truth)), binary \(recall(binary, truth))")
        // Rescored scores are exact: they equal the exact index's for the same ids.
        for q in 0..<10 {
            let e = Dictionary(uniqueKeysWithValues: truth[q].map { ($0.id, $0.score) })
            for h in int8[q] { if let s = e[h.id] { #expect(abs(s - h.score) <= 1e-5 * max(1, abs(s))) } }
        }
        // Without the float vectors: approximate scores, lower but useful recall.
        let bare = try ScalarQuantizedIndex(vectors: data, dimension: dim, metric: metric, keepOriginals: false)
        #expect(recall(try bare.search(queries: queries, k: 10), truth) >= 0.85)
        // Single-query path agrees with the batch path; filters apply.
        let q0 = TestData.row(queries, 0, dim)
        #expect(try sq.search(q0, k: 10) == int8[0])
        let filtered = try bq.search(q0, k: 5, filter: .predicate { $0 % 5 == 0 })
        #expect(filtered.count == 5 && filtered.allSatisfy { $0.id % 5 == 0 })
    }

    @Test("quantised indexes save and load")
    func files() throws {
        let dir = try TemporaryDirectory()
        let data = TestData.gaussian(300, 16, seed: 74)
        let sq = try ScalarQuantizedIndex(vectors: data, ids: (0..<300).map { UInt64($0 + 7) }, dimension: 16, metric: .dot)
        try sq.save(to: dir.file("s.idx").path, fingerprint: "m")
        let sq2 = try ScalarQuantizedIndex.load(from: dir.file("s.idx").path)
        let q = TestData.gaussian(3, 16, seed: 75)
        #expect(try sq2.search(queries: q, k: 4) == sq.search(queries: q, k: 4))
        let bq = try BinaryQuantizedIndex(vectors: data, dimension: 16, metric: .cosine, keepOriginals: false)
        try bq.save(to: dir.file("b.idx").path)
        let bq2 = try BinaryQuantizedIndex.load(from: dir.file("b.idx").path)
        #expect(!bq2.keepsOriginals && bq2.quantizer == bq.quantizer)
        #expect(try bq2.search(queries: q, k: 4) == bq.search(queries: q, k: 4))
        #expect(throws: IndexFileError.self) { try HNSWIndex.load(from: dir.file("s.idx").path) }
        let binary = try IndexFileInfo.read(path: dir.file("b.idx").path)
        #expect(binary.kind == .binaryQuantized && binary.kind.name == "binary-quantised")
        #expect(try IndexFileInfo.read(path: dir.file("s.idx").path).kind == .scalarQuantized)
    }
}
