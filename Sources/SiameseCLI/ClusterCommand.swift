import ArgumentParser
import Evaluation
import Foundation
import VectorIndex

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Group vectors by similarity: community detection or connected components.",
        discussion: """
        communities (default) is sentence-transformers' community_detection: items with at least --min-size neighbours at or above --threshold (themselves included) propose communities, taken largest first without overlap. components links every pair at or above the threshold and reports the connected groups (single linkage) of at least --min-size items. Writes one JSON object per line, largest first: {"cluster":c,"size":n,"members":[rows]}.

        Example:
          siamese cluster --vectors x.npy --threshold 0.75 --min-size 10 --output clusters.jsonl
          siamese cluster --vectors x.npy --method components --threshold 0.9 --output groups.jsonl
        """)

    @Option(help: ArgumentHelp("Vectors: .npy, rows × dimensions.", valueName: "x.npy"))
    var vectors: String

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
        guard ["communities", "components"].contains(method) else { throw usage("--method must be communities or components", "cluster") }
        guard threshold.isFinite else { throw usage("--threshold must be a finite number", "cluster") }
        guard minSize >= 1 else { throw usage("--min-size must be at least 1", "cluster") }
    }

    func run() throws {
        threading.apply()
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
