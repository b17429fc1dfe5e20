import ArgumentParser
import Evaluation
import Foundation
import PostgresStore
import VectorIndex

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Group vectors by similarity: community detection or connected components.",
        discussion: HelpText.reflow("""
        communities (default) is sentence-transformers' community_detection: items with at least --min-size neighbours at or above --threshold (themselves included) propose communities, taken largest first without overlap. components links every pair at or above the threshold and reports the connected groups (single linkage) of at least --min-size items. Writes one JSON object per line, largest first: {"cluster":c,"size":n,"members":[rows]}.

        With --store postgres://… instead of --vectors, each item's --top-k nearest others come from the database's HNSW index, batch by batch (memory stays bounded by the pairs above the threshold, not the square of the store); members are item ids, and a community holds at most its proposing item and that item's --top-k neighbours. Items in no pair above the threshold are not reported.

        Example:
          siamese cluster --vectors x.npy --threshold 0.75 --min-size 10 --output clusters.jsonl
          siamese cluster --vectors x.npy --method components --threshold 0.9 --output groups.jsonl
          siamese cluster --store postgres://me@db:5432/items --threshold 0.8 --min-size 5 --output clusters.jsonl
        """))

    @Option(help: ArgumentHelp("Vectors: .npy, rows × dimensions.", valueName: "x.npy"))
    var vectors: String?

    @Option(help: ArgumentHelp("Instead of --vectors: a PostgreSQL store (postgres://USER@HOST:PORT/DATABASE).", valueName: "url"))
    var store: String?

    @Option(help: "With --store: neighbours looked at per item, through the database's index (1–1000).")
    var topK: Int = 50

    @OptionGroup var postgres: PostgresOptionGroup

    @Option(help: "Similarity at or above which two items are linked.")
    var threshold: Float = 0.75

    @Option(help: "Smallest group reported.")
    var minSize: Int = 10

    @Option(help: "communities or components.")
    var method: String = "communities"

    @Flag(help: "Use raw inner products instead of cosine similarity.")
    var noNormalize = false

    @Option(help: ArgumentHelp("Clusters, as JSON lines.", valueName: "clusters.jsonl"))
    var output: String

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard (vectors == nil) != (store == nil) else { throw usage("give --vectors FILE or --store postgres://…, one of the two", "cluster") }
        if let store, !PostgresURL.isPostgres(store) { throw usage("--store must be postgres://… (for vectors in a file, use --vectors)", "cluster") }
        guard (1...1000).contains(topK) else { throw usage("--top-k must be 1 to 1000", "cluster") }
        guard ["communities", "components"].contains(method) else { throw usage("--method must be communities or components", "cluster") }
        guard threshold.isFinite else { throw usage("--threshold must be a finite number", "cluster") }
        guard minSize >= 1 else { throw usage("--min-size must be at least 1", "cluster") }
    }

    func run() throws {
        threading.apply()
        if let store { return try runPostgres(store) }
        guard let vectors else { return }
        try runCatching {
            let x = try readVectors(vectors)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let groups: [[Int]]
            do {
                groups = method == "communities"
                    ? try Clustering.communities(x.values, dimension: x.dimension, threshold: threshold, minCommunitySize: minSize, normalize: !noNormalize)
                    : try Clustering.connectedComponents(x.values, dimension: x.dimension, threshold: threshold, minSize: minSize, normalize: !noNormalize)
            } catch let e as IndexError {
                throw IndexCLIError(file: vectors, message: "\(e)")
            }
            let elapsed = seconds(since: t0)
            var text = ""
            for (c, g) in groups.enumerated() { text += "{\"cluster\":\(c),\"size\":\(g.count),\"members\":[\(g.map(String.init).joined(separator: ","))]}\n" }
            try writeText(text, to: output)
            let covered = groups.reduce(0) { $0 + $1.count }
            formatting.emit(.object([("clusters", .int(groups.count)), ("method", .string(method)), ("covered", .int(covered)), ("vectors", .int(x.rows)),
                                     ("seconds", .number(elapsed)), ("output", .string(output))])) {
                String(format: "%d %@ covering %d of %d vectors in %.3f s; wrote %@", groups.count, method, covered, x.rows, elapsed, output)
            }
        }
    }
}
