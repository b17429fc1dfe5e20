import Core
import Evaluation
import Foundation
import NPY
import Testing

@Suite("Retrieval and few-shot metrics")
struct RetrievalTests {
    private func load() throws -> (EmbeddingMatrix, [String], [String: Any]) {
        let array = try NPY.read(try Fixture.url("retrieval_embeddings.npy"))
        let m = try array.float32Matrix()
        let labels = try LabelsFile.read(try Fixture.url("retrieval_labels.txt"))
        return (try EmbeddingMatrix(rows: m.rows, dim: m.cols, values: m.values), labels, try Fixture.json("retrieval_reference.json"))
    }

    private func check(_ m: RetrievalMetrics, _ e: [String: Any]) {
        #expect(m.queries == e.int("queries") && m.skippedQueries == e.int("skipped"))
        #expect(close(m.precisionAt1, e.double("precision_at_1")))
        #expect(close(m.hitRateAtK, e.double("hit_rate_at_k")))
        #expect(close(m.recallAtK, e.double("recall_at_k")))
        #expect(close(m.rPrecision, e.double("r_precision")))
        #expect(close(m.mapAtR, e.double("map_at_r")))
        #expect(close(m.mrrAtK, e.double("mrr_at_k")))
        #expect(close(m.ndcgAtK, e.double("ndcg_at_k")))
        #expect(close(m.meanAveragePrecision, e.double("mean_average_precision")))
    }

    @Test("leave-one-out metrics equal the reference (nDCG and AP from scikit-learn)", arguments: [1, 5, 10])
    func leaveOneOut(k: Int) throws {
        let (x, labels, reference) = try load()
        let m = try Retrieval.leaveOneOut(x, labels: labels, k: k)
        check(m, try #require(reference.object("results")?.object("leave_one_out:k=\(k)")))
        #expect(m.skippedQueries == 1)  // the singleton has nothing to find
    }

    @Test("query-vs-gallery metrics equal the reference", arguments: [1, 5, 10])
    func queryGallery(k: Int) throws {
        let (x, labels, reference) = try load()
        let qRows = reference["query_rows"] as! [Int], gRows = reference["gallery_rows"] as! [Int]
        func rows(_ r: [Int]) throws -> EmbeddingMatrix {
            try EmbeddingMatrix(rows: r.count, dim: x.dim, values: r.flatMap { x.values[($0 * x.dim)..<(($0 + 1) * x.dim)] })
        }
        let m = try Retrieval.queryGallery(queries: try rows(qRows), queryLabels: qRows.map { labels[$0] },
                                           gallery: try rows(gRows), galleryLabels: gRows.map { labels[$0] }, k: k)
        check(m, try #require(reference.object("results")?.object("query_gallery:k=\(k)")))
    }

    @Test("perfect clusters score 1 everywhere; mismatched inputs are errors")
    func perfectAndErrors() throws {
        // Two tight, orthogonal clusters.
        let values: [Float] = [1, 0, 0.99, 0.01, 0.98, 0.02, 0, 1, 0.01, 0.99, 0.02, 0.98]
        let x = try EmbeddingMatrix(rows: 6, dim: 2, values: values)
        let m = try Retrieval.leaveOneOut(x, labels: ["a", "a", "a", "b", "b", "b"], k: 2)
        #expect([m.precisionAt1, m.rPrecision, m.mapAtR, m.recallAtK, m.ndcgAtK, m.mrrAtK, m.meanAveragePrecision].allSatisfy { $0 == 1 })
        #expect(throws: EvaluationError.self) { try Retrieval.leaveOneOut(x, labels: ["a"], k: 2) }
        #expect(throws: EvaluationError.self) { try Retrieval.leaveOneOut(x, labels: Array(repeating: "a", count: 6), k: 0) }
        #expect(throws: EvaluationError.self) { try EmbeddingMatrix(rows: 2, dim: 2, values: [1, 2, 3]) }
        #expect(throws: EvaluationError.self) { try EmbeddingMatrix(rows: 1, dim: 2, values: [1, .nan]) }
        let zero = try EmbeddingMatrix(rows: 2, dim: 2, values: [0, 0, 1, 1])
        let e = #expect(throws: EvaluationError.self) { try Retrieval.leaveOneOut(zero, labels: ["a", "a"]) }
        #expect(e?.message.contains("row 0 is all zeros") == true)
    }

    @Test("N-way K-shot accuracy: 1 on separable classes, chance on noise, reproducible with the seed")
    func fewShot() throws {
        var rng = SeededGenerator(seed: 5)
        var values = [Float](), labels = [Int]()
        for c in 0..<8 {
            for _ in 0..<6 {
                for d in 0..<8 { values.append((d == c ? 5 : 0) + Float(rng.nextUnitDouble() - 0.5) * 0.2) }
                labels.append(c)
            }
        }
        let separable = try EmbeddingMatrix(rows: labels.count, dim: 8, values: values)
        let perfect = try FewShot.evaluate(separable, labels: labels, ways: 5, shots: 1, queriesPerClass: 2, episodes: 200, seed: 1)
        #expect(perfect.accuracy == 1 && perfect.interval.lower == 1)

        let noise = try EmbeddingMatrix(rows: 400, dim: 16, values: (0..<6400).map { _ in Float(rng.nextUnitDouble() - 0.5) })
        let noiseLabels = (0..<400).map { $0 % 20 }
        let chance = try FewShot.evaluate(noise, labels: noiseLabels, ways: 5, shots: 1, queriesPerClass: 3, episodes: 1000, seed: 2)
        #expect(chance.interval.lower < 0.2 + 0.03 && chance.interval.upper > 0.2 - 0.03, "\(chance)")
        #expect(chance.interval.upper - chance.interval.lower < 0.05)
        let again = try FewShot.evaluate(noise, labels: noiseLabels, ways: 5, shots: 1, queriesPerClass: 3, episodes: 1000, seed: 2)
        #expect(again == chance)
        #expect(throws: EvaluationError.self) {
            try FewShot.evaluate(separable, labels: labels, ways: 9, shots: 1, episodes: 10)  // only 8 classes
        }
    }
}
