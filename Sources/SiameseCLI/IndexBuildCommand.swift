import ArgumentParser
import Foundation
import Tensors
import VectorIndex

struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an index from a .npy matrix of vectors (one row per vector).",
        discussion: HelpText.reflow("""
        Ids are the row numbers of the matrix unless --ids gives them: numbers, or any text, one per line (string ids such as python3-ipalib are kept in the index file, taken by index add and index remove, and printed by search; --string-ids keeps all-numeric ids as text). Without --hnsw (or --quantize) the index is exact: every query is compared with every vector, batched through matrix products. With --hnsw the graph is built on --threads threads.

        Example:
          siamese index build --vectors x.npy --output x.flat --metric dot
          siamese index build --vectors x.npy --ids names.txt --output x.hnsw --hnsw
          siamese index build --vectors x.npy --output x.hnsw --metric cosine --hnsw --m 16 --ef-construction 200 --threads 2
          siamese index build --vectors x.npy --output x.int8 --metric cosine --quantize int8
        """))

    @Option(help: ArgumentHelp("Vectors: float32 or float64 .npy, rows × dimensions.", valueName: "x.npy"))
    var vectors: String

    @Option(help: ArgumentHelp("Index file to write.", valueName: "index"))
    var output: String

    @Option(help: "cosine, dot or l2 (squared Euclidean).")
    var metric: String = "cosine"

    @Flag(help: "Build an HNSW graph (approximate, fast) instead of an exact index.")
    var hnsw = false

    @Option(help: "HNSW: links per node (layer 0 keeps twice as many).")
    var m: Int = 16

    @Option(help: "HNSW: candidate list size while building.")
    var efConstruction: Int = 200

    @Option(help: "HNSW: default candidate list size of searches (saved in the file).")
    var efSearch: Int = 64

    @Option(help: "Quantised exact index instead: int8 or binary (float vectors kept for rescoring).")
    var quantize: String?

    @Option(help: ArgumentHelp("Ids, one per row: int64 .npy or a text file with one per line (any text: ids that are not all numbers are kept as strings).", valueName: "ids"))
    var ids: String?

    @Flag(help: "Keep the --ids as strings even when every one is a number (so that later ids may be any text).")
    var stringIds = false

    @Option(help: "Model fingerprint stored with the vectors.")
    var fingerprint: String?

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard Metric(rawValue: metric) != nil else { throw usage("--metric must be cosine, dot or l2, got '\(metric)'", "index build") }
        if let quantize, !["int8", "binary"].contains(quantize) { throw usage("--quantize must be int8 or binary", "index build") }
        if hnsw, quantize != nil { throw usage("--hnsw and --quantize cannot be combined", "index build") }
        if hnsw {
            do { _ = try HNSWIndex(dimension: 1, metric: .dot, configuration: HNSWConfiguration(m: m, efConstruction: efConstruction, efSearch: efSearch)) } catch {
                throw usage("\(error)", "index build")
            }
        }
    }

    func run() throws {
        let metric = Metric(rawValue: metric)!
        let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction, efSearch: efSearch)
        threading.apply()
        try runCatching {
            let x = try readVectors(vectors)
            var idList: [UInt64]?, names: IndexNames?
            if let ids {
                let given = try StoreVectorsInput.readIDs(ids)
                guard given.count == x.rows else { throw IndexCLIError(file: ids, message: "\(given.count) ids for \(x.rows) vectors in \(vectors)") }
                if !stringIds, ids.lowercased().hasSuffix(".npy") || given.allSatisfy({ UInt64($0) != nil }) {
                    idList = try numericIDs(given, file: ids, orExplain: nil)
                } else {
                    var named = IndexNames()
                    idList = try nameIDs(given, first: 0, into: &named, file: ids)
                    names = named
                }
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            var kind = "exact"
            let buildSeconds: Double
            do {
                if hnsw {
                    kind = "HNSW"
                    let index = try HNSWIndex(dimension: x.dimension, metric: metric, configuration: configuration, capacity: max(16, x.rows))
                    // Added in twentieths, so that the build shows progress (each part is inserted on
                    // every thread; early parts also run the reachability walk, a small cost).
                    let progress = ProgressBar(label: "index build")
                    let part = max(4096, (x.rows + 19) / 20)
                    for start in stride(from: 0, to: x.rows, by: part) {
                        let end = min(x.rows, start + part)
                        try index.add(Array(x.values[(start * x.dimension)..<(end * x.dimension)]),
                                      ids: idList.map { Array($0[start..<end]) } ?? (start..<end).map(UInt64.init))
                        progress.update(done: end, of: x.rows, unit: "vectors")
                    }
                    progress.finish()
                    buildSeconds = seconds(since: t0)
                    try index.save(to: output, fingerprint: fingerprint, names: names)
                } else if quantize == "int8" {
                    kind = "int8"
                    let index = try ScalarQuantizedIndex(vectors: x.values, ids: idList, dimension: x.dimension, metric: metric)
                    buildSeconds = seconds(since: t0)
                    try index.save(to: output, fingerprint: fingerprint, names: names)
                } else if quantize == "binary" {
                    kind = "binary"
                    let index = try BinaryQuantizedIndex(vectors: x.values, ids: idList, dimension: x.dimension, metric: metric)
                    buildSeconds = seconds(since: t0)
                    try index.save(to: output, fingerprint: fingerprint, names: names)
                } else {
                    var index = ExactIndex(dimension: x.dimension, metric: metric)
                    try index.add(x.values, ids: idList)
                    buildSeconds = seconds(since: t0)
                    try index.save(to: output, fingerprint: fingerprint, names: names)
                }
            } catch let e as IndexError {
                throw IndexCLIError(file: vectors, message: "\(e)")
            }
            formatting.emit(.object([("kind", .string(kind)), ("vectors", .int(x.rows)), ("dimension", .int(x.dimension)), ("metric", .string(metric.rawValue)),
                                     ("build_seconds", .number(buildSeconds)), ("threads", .int(Threading.threadCount)), ("output", .string(output))])) {
                String(format: "built %@ index: %d vectors, dimension %d, %@, in %.3f s (build_seconds=%.3f, threads=%d); wrote %@",
                       kind, x.rows, x.dimension, metric.rawValue, buildSeconds, buildSeconds, Threading.threadCount, output)
            }
        }
    }
}
