import FileSupport
import ArgumentParser
import Evaluation
import Foundation
import NPY

/// `siamese evaluate-retrieval`: retrieval and few-shot metrics for labelled embeddings.
struct EvaluateRetrievalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-retrieval",
        abstract: "Retrieval metrics (precision@1, R-precision, MAP@R, …) and few-shot accuracy for labelled embeddings.",
        discussion: HelpText.reflow("""
        Ranks by cosine similarity. Without --queries every item queries all the others (leave-one-out); with --queries and --query-labels the queries search the --embeddings gallery. Labels files have one label per line, in row order. Items whose label occurs nowhere else in the gallery have no relevant match and are skipped (counted in the JSON).

        Example:
          siamese evaluate-retrieval --embeddings emb.npy --labels labels.txt \\
              --k 10 --json retrieval.json
          siamese evaluate-retrieval --embeddings emb.npy --labels labels.txt \\
              --ways 5 --shots 1 --episodes 1000
          siamese evaluate-retrieval --embeddings train.npy --labels train.txt --queries test.npy --query-labels test.txt \\
              --knn --linear-probe --label-fraction 0.01
        """))

    @Option(help: ArgumentHelp("Embeddings, float32 or float64 .npy, one row per item (the gallery).", valueName: "x.npy"))
    var embeddings: String

    @Option(help: ArgumentHelp("Labels of the embeddings, one per line.", valueName: "labels.txt"))
    var labels: String

    @Option(help: ArgumentHelp("Query embeddings searched against the gallery (instead of leave-one-out).", valueName: "q.npy"))
    var queries: String?

    @Option(help: ArgumentHelp("Labels of the queries, one per line.", valueName: "labels.txt"))
    var queryLabels: String?

    @Option(help: "Cut-off for recall@k, hit rate@k, MRR@k and nDCG@k.")
    var k = 10

    @Option(help: "Few-shot episodes: classes per episode (enables the few-shot evaluation).")
    var ways: Int?

    @Option(help: "Few-shot episodes: support items per class.")
    var shots = 1

    @Option(help: "Few-shot episodes: query items per class.")
    var queriesPerClass = 1

    @Option(help: "Few-shot episodes: how many.")
    var episodes = 1000

    @Option(help: "Seed for the few-shot episodes.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Write the metrics as JSON here.", valueName: "out.json"))
    var json: String?

    @OptionGroup var representation: RepresentationOptions

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard (queries == nil) == (queryLabels == nil) else { throw ValidationError("--queries and --query-labels go together") }
        if let ways {
            guard ways >= 2, shots >= 1, queriesPerClass >= 1, episodes >= 2 else {
                throw ValidationError("few-shot needs --ways ≥ 2, --shots ≥ 1, --queries-per-class ≥ 1 and --episodes ≥ 2")
            }
        }
    }

    func run() throws {
        let gallery = try loadMatrix(embeddings)
        let galleryLabels = try loadLabels(labels, rows: gallery.rows, matrixFile: embeddings)
        let metrics: RetrievalMetrics
        var mode = "leave_one_out"
        var queryMatrix: EmbeddingMatrix? = nil, queryLabelList: [String]? = nil
        if let queries, let queryLabels {
            let q = try loadMatrix(queries)
            let ql = try loadLabels(queryLabels, rows: q.rows, matrixFile: queries)
            (queryMatrix, queryLabelList) = (q, ql)
            guard q.dim == gallery.dim else {
                throw InputError(file: queries, message: "queries have \(q.dim) columns but the gallery \(embeddings) has \(gallery.dim)")
            }
            metrics = try namingFile("\(queries), \(embeddings)") { try Retrieval.queryGallery(queries: q, queryLabels: ql, gallery: gallery, galleryLabels: galleryLabels, k: k) }
            mode = "query_gallery"
        } else {
            metrics = try namingFile(embeddings) { try Retrieval.leaveOneOut(gallery, labels: galleryLabels, k: k) }
        }
        var fewShot: FewShotResult? = nil
        if let ways {
            fewShot = try namingFile(embeddings) { try FewShot.evaluate(gallery, labels: galleryLabels, ways: ways, shots: shots, queriesPerClass: queriesPerClass,
                                           episodes: episodes, seed: seed) }
        }
        var object: [(String, JSONValue)] = [
            ("mode", .string(mode)), ("similarity", .string("cosine")), ("k", .int(metrics.k)),
            ("queries", .int(metrics.queries)), ("skipped_queries", .int(metrics.skippedQueries)),
            ("precision_at_1", .number(metrics.precisionAt1)), ("r_precision", .number(metrics.rPrecision)),
            ("map_at_r", .number(metrics.mapAtR)), ("recall_at_k", .number(metrics.recallAtK)),
            ("hit_rate_at_k", .number(metrics.hitRateAtK)), ("mrr_at_k", .number(metrics.mrrAtK)),
            ("ndcg_at_k", .number(metrics.ndcgAtK)), ("mean_average_precision", .number(metrics.meanAveragePrecision)),
        ]
        if let f = fewShot {
            object.append(("few_shot", .object([
                ("ways", .int(f.ways)), ("shots", .int(f.shots)), ("queries_per_class", .int(f.queriesPerClass)),
                ("episodes", .int(f.episodes)), ("seed", .int(Int(truncatingIfNeeded: f.seed))), ("accuracy", .number(f.accuracy)),
                ("interval", .object([("lower", .number(f.interval.lower)), ("upper", .number(f.interval.upper)), ("level", .number(f.interval.level))])),
            ])))
        }
        let representation = try self.representation.evaluate(gallery: gallery, galleryLabels: galleryLabels, queries: queryMatrix,
                                                              queryLabels: queryLabelList, file: queries.map { "\($0), \(embeddings)" } ?? embeddings)
        object += representation.json
        if let json { try OutputFile.write(JSONValue.object(object).serialized() + "\n", to: json) }
        guard formatting.format == .text else {
            formatting.emit(JSONValue.object(object)) { "" }
            if let json { FileHandle.standardError.write(Data("wrote \(json)\n".utf8)) }
            return
        }
        print("queries          \(metrics.queries) (\(metrics.skippedQueries) skipped: no other item with their label)")
        print(String(format: "precision@1      %.4f", metrics.precisionAt1))
        print(String(format: "R-precision      %.4f", metrics.rPrecision))
        print(String(format: "MAP@R            %.4f", metrics.mapAtR))
        print(String(format: "recall@%-3d       %.4f   hit rate@%d %.4f", k, metrics.recallAtK, k, metrics.hitRateAtK))
        print(String(format: "MRR@%-3d          %.4f   nDCG@%d %.4f", k, metrics.mrrAtK, k, metrics.ndcgAtK))
        print(String(format: "mAP              %.4f", metrics.meanAveragePrecision))
        if let f = fewShot {
            print(String(format: "%d-way %d-shot     %.4f  95%% CI [%.4f, %.4f] over %d episodes", f.ways, f.shots, f.accuracy, f.interval.lower, f.interval.upper, f.episodes))
        }
        for line in representation.lines { print(line) }
        if let json { print("wrote \(json)") }
    }

    private func loadMatrix(_ path: String) throws -> EmbeddingMatrix {
        let array = try NPY.read(URL(fileURLWithPath: path))
        guard array.shape.count == 2 else {
            throw InputError(file: path, message: "expected a 2-D array (rows × dimensions), found shape \(array.shape)")
        }
        let (rows, cols, values) = try array.float32Matrix()
        do {
            return try EmbeddingMatrix(rows: rows, dim: cols, values: values)
        } catch {
            throw InputError(file: path, message: error.message)
        }
    }

    private func loadLabels(_ path: String, rows: Int, matrixFile: String) throws -> [String] {
        let labels = try LabelsFile.read(URL(fileURLWithPath: path))
        guard labels.count == rows else {
            throw InputError(file: path, message: "\(labels.count) labels but \(matrixFile) has \(rows) rows")
        }
        return labels
    }
}
