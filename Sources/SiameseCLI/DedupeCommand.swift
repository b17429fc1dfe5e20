import ArgumentParser
import Evaluation
import Foundation
import PostgresStore
import Tensors
import VectorIndex

struct DedupeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedupe",
        abstract: "Find near-duplicate pairs (paraphrase mining) among vectors.",
        discussion: HelpText.reflow("""
        Compares every pair exactly (cosine similarity unless --no-normalize), in tiles on every thread, with memory bounded by the tiles and the pairs found. With --threshold: every pair at or above it. With --top-k: each item's k most similar others, merged into unique pairs (as sentence-transformers' paraphrase_mining); both options together keep the top-k pairs at or above the threshold. Writes one JSON object per line, {"a":i,"b":j,"score":s} with i < j row numbers, highest score first.

        With --store, the vectors of an embedding store, and pairs named by item id ({"a":"id","b":"id","score":s}), printed unless --output is given.

        With a PostgreSQL store (--store postgres://…) the mining runs inside the database: each item's --top-k nearest others (default 10) are found through the store's HNSW index, batch by batch, and the unique pairs at or above --threshold are collected in a table there, then streamed out best first; memory here stays small however large the store. --table NAME keeps that table (a new one) for SQL; without it the table is dropped at the end.

        Example:
          siamese dedupe --vectors x.npy --threshold 0.9 --output pairs.jsonl
          siamese dedupe --store items.sqlite --threshold 0.95 --format jsonl
          siamese dedupe --vectors x.npy --top-k 10 --output pairs.jsonl
          siamese dedupe --store postgres://me@db:5432/items --top-k 20 --threshold 0.9 --table near_duplicates --output pairs.jsonl
        """))

    @Option(help: ArgumentHelp("Vectors: .npy, rows × dimensions.", valueName: "x.npy"))
    var vectors: String?

    @Option(help: ArgumentHelp("An embedding store instead of --vectors (a SQLite file or postgres://USER@HOST:PORT/DATABASE): pairs are named by item id.", valueName: "store.sqlite|url"))
    var store: String?

    @OptionGroup var postgres: PostgresOptionGroup

    @Option(help: "Similarity at or above which a pair is reported.")
    var threshold: Float?

    @Option(help: "Each item's k most similar others instead of (or as well as) a threshold.")
    var topK: Int?

    @Option(help: "At most this many pairs with --top-k.")
    var maxPairs: Int = 500_000

    @Flag(help: "Use raw inner products instead of cosine similarity.")
    var noNormalize = false

    @Option(help: ArgumentHelp("Pairs, as JSON lines (default with --store: printed).", valueName: "pairs.jsonl"))
    var output: String?

    @Option(help: ArgumentHelp("With a PostgreSQL store: keep the pairs in this new table of the database (columns a, b, score).", valueName: "name"))
    var table: String?

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(name: .customLong("repeat"), help: "Time the mining this many times and report the fastest (benchmarking).")
    var repetitions: Int = 1

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard threshold != nil || topK != nil else { throw usage("give --threshold, --top-k or both", "dedupe") }
        guard (vectors == nil) != (store == nil) else { throw usage("give --vectors or --store", "dedupe") }
        guard output != nil || store != nil else { throw usage("give --output", "dedupe") }
        guard repetitions >= 1 else { throw usage("--repeat must be at least 1", "dedupe") }
        if let threshold, !threshold.isFinite { throw usage("--threshold must be a finite number", "dedupe") }
        if let topK, topK < 1 { throw usage("--top-k must be at least 1", "dedupe") }
        guard maxPairs >= 1 else { throw usage("--max-pairs must be at least 1", "dedupe") }
        if let table {
            guard store.map(PostgresURL.isPostgres) == true else { throw usage("--table needs --store postgres://…", "dedupe") }
            guard PostgresStore.isValidPairsTable(table) else {
                throw usage("--table '\(table)': use lower-case letters, digits and _, starting with a letter (at most 63), not a siamese_items/meta/schema name", "dedupe")
            }
        }
        if store.map(PostgresURL.isPostgres) == true {
            guard repetitions == 1 else { throw usage("--repeat is for timing the in-memory mining, not a PostgreSQL store", "dedupe") }
            if let topK, topK > 1000 { throw usage("--top-k is at most 1000 with a PostgreSQL store (pgvector's largest ef_search)", "dedupe") }
        }
    }

    func run() throws {
        threading.apply()
        if let store, PostgresURL.isPostgres(store) {
            try runCatching { try runPostgres(store) }
            return
        }
        try runCatching {
            let source = vectors ?? redactedLocation(store!)
            let x: (rows: Int, dimension: Int, values: [Float]), ids: [String]?
            if let store {
                let (matrix, names) = try storeVectors(store)
                (x, ids) = (matrix, names)
            } else {
                (x, ids) = (try readVectors(source), nil)
            }
            var pairs: [ParaphraseMining.Pair] = []
            var elapsed = Double.infinity
            do {
                for _ in 0..<repetitions {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let progress = ProgressBar(label: "dedupe")
                    let report: @Sendable (Double) -> Void = { progress.update(fraction: $0, detail: "of \(x.rows) items' pairs") }
                    if let topK {
                        pairs = try ParaphraseMining.topK(x.values, dimension: x.dimension, k: topK, maxPairs: maxPairs, normalize: !noNormalize, progress: report)
                        if let threshold { pairs.removeAll { $0.score < threshold } }
                    } else {
                        pairs = try ParaphraseMining.pairs(x.values, dimension: x.dimension, threshold: threshold!, normalize: !noNormalize, progress: report)
                    }
                    progress.finish()
                    elapsed = min(elapsed, seconds(since: t0))
                }
            } catch let e as IndexError {
                throw IndexCLIError(file: source, message: "\(e)")
            }
            // Cosine similarities computed in float can pass 1 by a rounding error.
            if !noNormalize { for i in pairs.indices { pairs[i].score = min(1, max(-1, pairs[i].score)) } }
            guard let output else {
                // A store's pairs on stdout, named by id.
                let records: [JSONValue] = pairs.map { .object([("a", .string(ids![$0.a])), ("b", .string(ids![$0.b])), ("score", .number(Double($0.score)))]) }
                formatting.emit(records: records) {
                    pairs.map { "\(jsonNumber($0.score))  \(ids![$0.a])  \(ids![$0.b])" }.joined(separator: "\n")
                }
                note(String(format: "%d pairs among %d items in %.3f s", pairs.count, x.rows, elapsed))
                return
            }
            var text = ""
            text.reserveCapacity(pairs.count * 40)
            for p in pairs {
                if let ids {
                    text += JSONValue.object([("a", .string(ids[p.a])), ("b", .string(ids[p.b])), ("score", .number(Double(p.score)))]).serialized(pretty: false) + "\n"
                } else {
                    text += "{\"a\":\(p.a),\"b\":\(p.b),\"score\":\(jsonNumber(p.score))}\n"
                }
            }
            try writeText(text, to: output)
            formatting.emit(.object([("pairs", .int(pairs.count)), ("vectors", .int(x.rows)), ("mining_seconds", .number(elapsed)),
                                     ("threads", .int(Threading.threadCount)), ("output", .string(output))])) {
                String(format: "%d pairs among %d vectors in %.3f s (mining_seconds=%.3f, threads=%d); wrote %@",
                       pairs.count, x.rows, elapsed, elapsed, Threading.threadCount, output)
            }
        }
    }
}
