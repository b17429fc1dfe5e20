import ArgumentParser
import Evaluation
import FileSupport

/// `evaluate-retrieval --knn` and `--linear-probe`: how good frozen embeddings are for
/// classification, the measures of a self-supervised representation (k-NN accuracy with DINO's
/// weighted votes; linear-probe accuracy, with a label fraction for label efficiency).
struct RepresentationOptions: ParsableArguments {
    @Flag(help: "k-NN accuracy (cosine, temperature-weighted votes as DINO): the queries classified by the gallery, or leave-one-out on the gallery.")
    var knn = false
    @Option(help: "k-NN: neighbours.") var knnK = 20
    @Option(help: "k-NN: temperature T of the vote weights exp(similarity / T).") var knnTemperature = 0.07
    @Flag(help: "Linear-probe accuracy: logistic regression trained on (a --label-fraction of) the gallery, tested on the queries (or on the gallery rows not trained on).")
    var linearProbe = false
    @Option(help: "Linear probe: fraction of the gallery's labels used for training, per class (e.g. 0.01, 0.1, 1).") var labelFraction = 1.0
    @Option(help: "Linear probe: full-batch Adam iterations.") var probeIterations = 300
    @Option(help: "Linear probe: seed of the labelled subset.") var probeSeed: UInt64 = 0

    func validate() throws {
        guard knnK >= 1, knnTemperature > 0 else { throw ValidationError("--knn-k must be ≥ 1 and --knn-temperature positive") }
        guard labelFraction > 0, labelFraction <= 1 else { throw ValidationError("--label-fraction must be in (0, 1], got \(labelFraction)") }
        guard probeIterations >= 1 else { throw ValidationError("--probe-iterations must be ≥ 1") }
    }

    /// The requested evaluations as JSON fields and text lines.
    func evaluate(gallery: EmbeddingMatrix, galleryLabels: [String], queries: EmbeddingMatrix?, queryLabels: [String]?,
                  file: String) throws -> (json: [(String, JSONValue)], lines: [String]) {
        var json: [(String, JSONValue)] = [], lines: [String] = []
        if knn {
            let r = try namingFile(file) {
                try KNNClassifier.evaluate(gallery: gallery, galleryLabels: galleryLabels, queries: queries, queryLabels: queryLabels,
                                           k: knnK, temperature: knnTemperature)
            }
            json.append(("knn", .object([("k", .int(knnK)), ("temperature", .number(knnTemperature)), ("queries", .int(r.queries)),
                                         ("accuracy", .number(r.accuracy))])))
            lines.append(String(format: "k-NN accuracy    %.4f   (k %d, T %g, %d queries)", r.accuracy, knnK, knnTemperature, r.queries))
        }
        if linearProbe {
            let chosen = LinearProbe.labelledSubset(labels: galleryLabels, fraction: labelFraction, seed: probeSeed)
            let train = try rows(gallery, chosen, file)
            let test: EmbeddingMatrix, testLabels: [String]
            if let queries, let queryLabels {
                test = queries
                testLabels = queryLabels
            } else {
                let picked = Set(chosen)
                let rest = (0..<gallery.rows).filter { !picked.contains($0) }
                guard !rest.isEmpty else {
                    throw ValidationError("--linear-probe without --queries tests on the gallery rows it did not train on: use --label-fraction below 1, or give --queries")
                }
                test = try rows(gallery, rest, file)
                testLabels = rest.map { galleryLabels[$0] }
            }
            let r = try namingFile(file) {
                try LinearProbe.evaluate(train: train, trainLabels: chosen.map { galleryLabels[$0] }, test: test, testLabels: testLabels,
                                         iterations: probeIterations)
            }
            json.append(("linear_probe", .object([("label_fraction", .number(labelFraction)), ("train_rows", .int(r.trainRows)),
                                                  ("test_rows", .int(r.testRows)), ("train_accuracy", .number(r.trainAccuracy)),
                                                  ("accuracy", .number(r.accuracy))])))
            lines.append(String(format: "linear probe     %.4f   (%d labelled rows, %.3g of the gallery; %d test rows)", r.accuracy, r.trainRows, labelFraction, r.testRows))
        }
        return (json, lines)
    }

    private func rows(_ m: EmbeddingMatrix, _ indices: [Int], _ file: String) throws -> EmbeddingMatrix {
        var values: [Float] = []
        values.reserveCapacity(indices.count * m.dim)
        for i in indices { values += m.values[(i * m.dim)..<((i + 1) * m.dim)] }
        do { return try EmbeddingMatrix(rows: indices.count, dim: m.dim, values: values) } catch { throw InputError(file: file, message: error.message) }
    }
}
