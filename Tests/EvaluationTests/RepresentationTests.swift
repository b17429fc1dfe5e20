import Foundation
import NPY
import Testing
@testable import Evaluation

/// k-NN (DINO's weighted votes) and the linear probe, on cases computed by hand.
@Suite struct RepresentationTests {
    // Query (1, 0) against: a = (1, 0) "A" (cosine 1), b = (0, 1) "B" (0), c = (0.6, 0.8) "B" (0.6),
    // d = (−1, 0) "A" (−1).
    let gallery = try! EmbeddingMatrix(rows: 4, dim: 2, values: [1, 0, 0, 1, 0.6, 0.8, -1, 0])
    let labels = ["A", "B", "B", "A"]
    let query = try! EmbeddingMatrix(rows: 1, dim: 2, values: [2, 0])

    @Test("k-NN votes weighted by exp(s/T): the temperature decides a 1-against-2 vote")
    func knnByHand() throws {
        // k = 3 takes a (1), c (0.6), b (0). T = 0.07: A e^{1/T} beats B e^{0.6/T} + e^{0}: A.
        let sharp = try KNNClassifier.evaluate(gallery: gallery, galleryLabels: labels, queries: query, queryLabels: ["A"], k: 3, temperature: 0.07)
        #expect(sharp.accuracy == 1 && sharp.predictions == [0])
        // T = 1: A e^1 = 2.718 < B e^{0.6} + e^0 = 2.822: B.
        let flat = try KNNClassifier.evaluate(gallery: gallery, galleryLabels: labels, queries: query, queryLabels: ["A"], k: 3, temperature: 1)
        #expect(flat.accuracy == 0 && flat.predictions == [1])
        // k = 1: the nearest alone.
        let one = try KNNClassifier.evaluate(gallery: gallery, galleryLabels: labels, queries: query, queryLabels: ["A"], k: 1, temperature: 1)
        #expect(one.predictions == [0])
    }

    @Test("k-NN leave-one-out leaves each row out of its own vote")
    func knnLeaveOneOut() throws {
        // Two tight pairs: each row's only other same-class row is its nearest neighbour.
        let m = try EmbeddingMatrix(rows: 4, dim: 2, values: [1, 0, 0.99, 0.1, 0, 1, 0.1, 0.99])
        let r = try KNNClassifier.evaluate(gallery: m, galleryLabels: ["x", "x", "y", "y"], k: 1)
        #expect(r.accuracy == 1 && r.queries == 4)
        // With k = 3 and T = 1 every row also hears the two rows of the other class: for row 0,
        // x: e^{0.995}… vs y: e^{0.1}+e^{0.0995}…; x still wins.
        let wide = try KNNClassifier.evaluate(gallery: m, galleryLabels: ["x", "x", "y", "y"], k: 3, temperature: 1)
        #expect(wide.accuracy == 1)
        #expect(throws: EvaluationError.self) { try KNNClassifier.evaluate(gallery: m, galleryLabels: ["x"], k: 1) }
    }

    @Test("linear probe separates linearly separable classes and fails where they are not separable")
    func linearProbe() throws {
        // Class by the sign of x₀ − x₁ (separable); XOR of the signs (not linearly separable).
        var values: [Float] = [], separable: [String] = [], xor: [String] = []
        var state: UInt64 = 3
        func next() -> Float { state = state &* 6364136223846793005 &+ 1; return Float(Int(state >> 40) % 2001 - 1000) / 1000 }
        for _ in 0..<200 {
            var a = next(), b = next()
            if abs(a - b) < 0.05 { a += 0.1 }
            if abs(a) < 0.05 { a = 0.1 }
            if abs(b) < 0.05 { b = -0.1 }
            values += [a, b]
            separable.append(a > b ? "above" : "below")
            xor.append((a > 0) == (b > 0) ? "same" : "different")
        }
        let m = try EmbeddingMatrix(rows: 200, dim: 2, values: values)
        let good = try LinearProbe.evaluate(train: m, trainLabels: separable, test: m, testLabels: separable, iterations: 300)
        #expect(good.accuracy > 0.97 && good.trainRows == 200, "\(good)")
        let bad = try LinearProbe.evaluate(train: m, trainLabels: xor, test: m, testLabels: xor, iterations: 300)
        #expect(bad.accuracy < 0.85 && bad.trainAccuracy == bad.accuracy, "\(bad)")   // a line gets at most ~3 of the 4 quadrants
    }

    @Test("label fraction: a seeded, stratified subset with at least one row per class")
    func labelFraction() {
        let labels = (0..<100).map { $0 < 90 ? "big" : "small" }
        let tenth = LinearProbe.labelledSubset(labels: labels, fraction: 0.1, seed: 1)
        #expect(tenth.filter { $0 < 90 }.count == 9 && tenth.filter { $0 >= 90 }.count == 1)
        #expect(tenth == LinearProbe.labelledSubset(labels: labels, fraction: 0.1, seed: 1))
        #expect(tenth != LinearProbe.labelledSubset(labels: labels, fraction: 0.1, seed: 2))
        #expect(LinearProbe.labelledSubset(labels: labels, fraction: 0.001, seed: 1).count == 2)
        #expect(LinearProbe.labelledSubset(labels: labels, fraction: 1, seed: 1) == Array(0..<100))
    }

    @Test("evaluate-retrieval --knn and --linear-probe report the hand-computed k-NN vote and the probe as JSON",
          .enabled(if: SiameseBinary.url != nil, "the siamese executable was not built"))
    func commandLine() throws {
        let dir = try TemporaryDirectory()
        let root = dir.url
        func file(_ name: String) -> String { root.appendingPathComponent(name).path }
        try NPY.write(NPYArray(float32: gallery.values, rows: 4, cols: 2), to: URL(fileURLWithPath: file("g.npy")))
        try NPY.write(NPYArray(float32: query.values, rows: 1, cols: 2), to: URL(fileURLWithPath: file("q.npy")))
        try "A\nB\nB\nA\n".write(toFile: file("g.txt"), atomically: true, encoding: .utf8)
        try "A\n".write(toFile: file("q.txt"), atomically: true, encoding: .utf8)
        let common = ["evaluate-retrieval", "--embeddings", file("g.npy"), "--labels", file("g.txt"), "--queries", file("q.npy"),
                      "--query-labels", file("q.txt"), "--k", "1", "--knn", "--knn-k", "3", "--format", "json"]
        // T = 1 turns the vote to B (see knnByHand); T = 0.07 keeps A.
        for (temperature, accuracy) in [("1", 0.0), ("0.07", 1.0)] {
            let r = try SiameseBinary.run(common + ["--knn-temperature", temperature, "--linear-probe"])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let knn = try #require(object["knn"] as? [String: Any])
            #expect(knn["accuracy"] as? Double == accuracy && knn["k"] as? Int == 3, "\(knn)")
            let probe = try #require(object["linear_probe"] as? [String: Any])
            #expect(probe["train_rows"] as? Int == 4 && probe["test_rows"] as? Int == 1, "\(probe)")
        }
        let bad = try SiameseBinary.run(common + ["--linear-probe", "--label-fraction", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--label-fraction"), "\(bad.stderr)")
    }
}
