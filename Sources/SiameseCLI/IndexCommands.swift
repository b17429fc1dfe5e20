import ArgumentParser
import EmbeddingStore
import Evaluation
import Foundation
import NPY
import PostgresStore
import Tensors
import VectorIndex

// `siamese index …`, `siamese search`, `siamese dedupe`, `siamese cluster`: the vector index
// from a shell. Exit status: 0 success, 1 a failure with the input or output files (the message
// on stderr names the file), 2 a usage error.

// MARK: - Shared helpers (file-private)

/// A failure that names the file it concerns; printed on stderr, exit status 1.
private struct IndexCLIError: Error, CustomStringConvertible {
    let file: String
    let message: String
    var description: String { "\(file): \(message)" }
}

/// Prints `error: …` on stderr and leaves with status 1.
private func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}

/// A usage problem: ArgumentParser prints it with the command's usage line, and the `siamese`
/// entry point exits with status 2 for it.
private func usage(_ message: String, _ command: String) -> ValidationError { ValidationError(message) }

private func note(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

private func runCatching(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode { throw e } catch { throw fail(error) }
}

/// Every vector of an embedding store, with the item ids in the same order.
private func storeVectors(_ path: String, postgres: PostgresOptionGroup) throws -> ((rows: Int, dimension: Int, values: [Float]), [String]) {
    if PostgresURL.isPostgres(path) {
        // Read page by page in id order (the database keeps its own index; dedupe compares exactly).
        let pg = try postgres.open(path, metric: nil)
        return try blocking { () async throws -> ((rows: Int, dimension: Int, values: [Float]), [String]) in
            var ids: [String] = [], values: [Float] = [], cursor: String?
            repeat {
                let page = try await pg.page(after: cursor, limit: 4096)
                for item in page.items { ids.append(item.id); values += item.vector }
                cursor = page.next
            } while cursor != nil
            let dimension = try await pg.dimension() ?? 0
            await pg.close()
            return ((ids.count, dimension, values), ids)
        }
    }
    guard FileManager.default.fileExists(atPath: path) else { throw IndexCLIError(file: path, message: "no such store") }
    let store = try EmbeddingStore(path: path)
    var ids: [String] = [], values: [Float] = []
    var last: Int64?
    while true {
        let page = try store.items(after: last, limit: 4096)
        guard let end = page.last else { break }
        for (_, item) in page {
            ids.append(item.id)
            values += item.vector
        }
        last = end.label
    }
    let dimension = try store.dimension() ?? 0
    return ((ids.count, dimension, values), ids)
}

/// A `rows × dimension` float matrix from a .npy file (float32 or float64), or an error naming it.
private func readVectors(_ path: String) throws -> (rows: Int, dimension: Int, values: [Float]) {
    let array: NPYArray
    do { array = try NPY.read(URL(fileURLWithPath: path)) } catch { throw IndexCLIError(file: path, message: withoutFile(error)) }
    guard array.shape.count == 2 else { throw IndexCLIError(file: path, message: "expected a 2-D array (rows × dimensions), found shape \(array.shape)") }
    // Before anything is sized from it: an empty (0, 10^17) array is a valid .npy of 128 bytes.
    guard array.shape[1] <= IndexFileFormat.maximumDimension else {
        throw IndexCLIError(file: path, message: "vectors have \(array.shape[1]) components; an index holds at most \(IndexFileFormat.maximumDimension)")
    }
    do {
        let m = try array.float32Matrix()
        guard m.cols > 0 else { throw IndexCLIError(file: path, message: "vectors have no components") }
        return (m.rows, m.cols, m.values)
    } catch let e as IndexCLIError { throw e } catch { throw IndexCLIError(file: path, message: "\(error)") }
}

/// An NPY error's message without its file: the reader names the file by its absolute path, and
/// the CLI error names it as the user typed it (printing both gave "x.npy: /dir/x.npy: …").
private func withoutFile(_ error: Error) -> String {
    guard var e = error as? NPYError else { return "\(error)" }
    e.file = nil
    return "\(e)"
}

/// Ids from a 1-D int64/int32 .npy file or a text file with one integer per line.
private func readIDs(_ path: String) throws -> [UInt64] {
    try numericIDs(StoreVectorsInput.readIDs(path), file: path, orExplain: nil)
}

/// The ids as numbers, or an error naming the first that is not one (`explain`, when given, says
/// what to do instead).
private func numericIDs(_ ids: [String], file: String, orExplain explain: String?) throws -> [UInt64] {
    try ids.enumerated().map { i, s in
        guard let v = UInt64(s) else {
            throw IndexCLIError(file: file, message: "line \(i + 1): '\(s)' is not a non-negative integer id" + (explain.map { "; \($0)" } ?? ""))
        }
        return v
    }
}

/// String ids for new vectors: labels from `first` on, each name checked against `names`
/// (which gains them); an error names the line of a repeated, empty or overlong id.
private func nameIDs(_ ids: [String], first: UInt64, into names: inout IndexNames, file: String) throws -> [UInt64] {
    try ids.enumerated().map { i, name in
        let label = first + UInt64(i)
        if let problem = names.problem(with: name, label: label) { throw IndexCLIError(file: file, message: "line \(i + 1): \(problem)") }
        names.insert(name, label: label)
        return label
    }
}

/// The first label free for new named vectors: after every label named or present.
private func nextLabel(_ names: IndexNames, _ ids: [UInt64]) -> UInt64 {
    max(names.largestLabel.map { $0 + 1 } ?? 0, ids.max().map { $0 + 1 } ?? 0)
}

private func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }

private func writeText(_ text: String, to path: String) throws {
    // The durable writer (fsync of file and folder, then rename), as every file a user keeps.
    do throws(DurableWriteError) { try AtomicFile.write(Data(text.utf8), to: path) } catch {
        throw IndexCLIError(file: path, message: "cannot write: \(error.reason)")
    }
}

/// A JSON number for a score (finite, shortest round-trip form).
private func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }

/// Any index file, loaded according to its header.
private enum AnyIndex {
    case exact(ExactIndex)
    case hnsw(HNSWIndex)
    case int8(ScalarQuantizedIndex)
    case binary(BinaryQuantizedIndex)

    static func load(_ path: String, verify: Bool = true) throws -> AnyIndex {
        let options = IndexLoadOptions(verifyChecksums: verify)
        let info = try IndexFileInfo.read(path: path)
        switch info.kind {
        case .exact: return .exact(try ExactIndex.load(from: path, options: options))
        case .hnsw: return .hnsw(try HNSWIndex.load(from: path, options: options))
        case .scalarQuantized: return .int8(try ScalarQuantizedIndex.load(from: path, options: options))
        case .binaryQuantized: return .binary(try BinaryQuantizedIndex.load(from: path, options: options))
        }
    }

    /// The ids of the live vectors.
    var ids: [UInt64] {
        switch self {
        case .exact(let i): i.ids
        case .hnsw(let i): i.ids
        case .int8(let i): i.ids
        case .binary(let i): i.ids
        }
    }

    var dimension: Int {
        switch self {
        case .exact(let i): i.dimension
        case .hnsw(let i): i.dimension
        case .int8(let i): i.dimension
        case .binary(let i): i.dimension
        }
    }
}

/// `--threads`, applied to every kernel and parallel loop.
private func applyThreads(_ threads: Int?) {
    if let threads { Threading.threadCount = threads }
}

// MARK: - siamese index

/// `siamese index …`: build, change and inspect index files.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build, change and inspect vector index files (exact, HNSW, int8, binary).",
        discussion: """
        Index files hold a header (magic number, format version, kind, metric, dimension), a checksum per section, and are written atomically (temporary file, fsync, rename). Loading checks every size and link first, so a damaged file gives an error, never a crash.

        Example:
          siamese index build --vectors x.npy --output x.hnsw --metric cosine --hnsw --m 16 --ef-construction 200
          siamese index add --index x.hnsw --vectors more.npy
          siamese index remove --index x.hnsw --ids 3,17
          siamese index compact --index x.hnsw
          siamese index info --index x.hnsw
        """,
        subcommands: [IndexBuildCommand.self, IndexAddCommand.self, IndexRemoveCommand.self, IndexCompactCommand.self, IndexInfoCommand.self]
    )
}

struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an index from a .npy matrix of vectors (one row per vector).",
        discussion: """
        Ids are the row numbers of the matrix unless --ids gives them: numbers, or any text, one per line (string ids such as python3-ipalib are kept in the index file, taken by index add and index remove, and printed by search; --string-ids keeps all-numeric ids as text). Without --hnsw (or --quantize) the index is exact: every query is compared with every vector, batched through matrix products. With --hnsw the graph is built on --threads threads.

        Example:
          siamese index build --vectors x.npy --output x.flat --metric dot
          siamese index build --vectors x.npy --ids names.txt --output x.hnsw --hnsw
          siamese index build --vectors x.npy --output x.hnsw --metric cosine --hnsw --m 16 --ef-construction 200 --threads 2
          siamese index build --vectors x.npy --output x.int8 --metric cosine --quantize int8
        """)

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

    @Option(help: "Threads (default: all CPUs, or SIAMESE_THREADS).")
    var threads: Int?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard Metric(rawValue: metric) != nil else { throw usage("--metric must be cosine, dot or l2, got '\(metric)'", "index build") }
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "index build") }
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
        applyThreads(threads)
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

struct IndexAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add vectors to an exact or HNSW index file (rewritten atomically).",
        discussion: """
        Ids continue after the largest id in the index unless --ids gives them; an id already present is an error (nothing is written).

        Example:
          siamese index add --index x.hnsw --vectors more.npy --threads 2
        """)

    @Option(help: ArgumentHelp("Index file to change.", valueName: "index"))
    var index: String

    @Option(help: ArgumentHelp("Vectors to add: .npy, rows × dimensions.", valueName: "y.npy"))
    var vectors: String

    @Option(help: ArgumentHelp("Ids of the new vectors: int64 .npy or text, one per line.", valueName: "ids"))
    var ids: String?

    @Option(help: "Threads (default: all CPUs).")
    var threads: Int?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "index add") }
    }

    func run() throws {
        applyThreads(threads)
        try runCatching {
            let info = try IndexFileInfo.read(path: index)
            let x = try readVectors(vectors)
            guard x.dimension == info.dimension else {
                throw IndexCLIError(file: vectors, message: "vectors have \(x.dimension) components but \(index) holds \(info.dimension)")
            }
            let names = try IndexNames.read(path: index)
            let loaded = try AnyIndex.load(index)
            // A named index takes names (any text); a numbered one, numbers.
            var idList: [UInt64]?, newNames = names
            if var named = names {
                guard let ids else { throw IndexCLIError(file: index, message: "the index has string ids: give --ids with one id per new vector") }
                let given = try StoreVectorsInput.readIDs(ids)
                guard given.count == x.rows else { throw IndexCLIError(file: ids, message: "\(given.count) ids for \(x.rows) vectors in \(vectors)") }
                idList = try nameIDs(given, first: nextLabel(named, loaded.ids), into: &named, file: ids)
                newNames = named
            } else if let ids {
                let given = try StoreVectorsInput.readIDs(ids)
                idList = try numericIDs(given, file: ids, orExplain: ids.lowercased().hasSuffix(".npy") ? nil
                                        : "\(index) has numeric ids (build it with --string-ids to name vectors by any text)")
            }
            do {
                switch loaded {
                case .exact(var flat):
                    try flat.add(x.values, ids: idList)
                    try flat.save(to: index, fingerprint: info.fingerprint, names: newNames)
                    formatting.emit(.object([("added", .int(x.rows)), ("count", .int(flat.count)), ("index", .string(index))])) {
                        "added \(x.rows) vectors: \(flat.count) in \(index)"
                    }
                case .hnsw(let graph):
                    try graph.add(x.values, ids: idList)
                    try graph.save(to: index, fingerprint: info.fingerprint, names: newNames)
                    formatting.emit(.object([("added", .int(x.rows)), ("count", .int(graph.count)), ("index", .string(index))])) {
                        "added \(x.rows) vectors: \(graph.count) live in \(index)"
                    }
                case .int8, .binary:
                    throw IndexCLIError(file: index, message: "quantised indexes are built once; rebuild with siamese index build")
                }
            } catch let e as IndexError {
                throw IndexCLIError(file: vectors, message: "\(e)")
            }
        }
    }
}

struct IndexRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove vectors by id (HNSW: tombstones until compact).",
        discussion: """
        Example:
          siamese index remove --index x.hnsw --ids 3,17,42
          siamese index remove --index x.hnsw --ids-file gone.txt
        """)

    @Option(help: ArgumentHelp("Index file to change.", valueName: "index"))
    var index: String

    @Option(help: "Comma-separated ids.")
    var ids: String?

    @Option(help: ArgumentHelp("Ids to remove: int64 .npy or text, one per line.", valueName: "file"))
    var idsFile: String?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard (ids == nil) != (idsFile == nil) else { throw usage("give exactly one of --ids and --ids-file", "index remove") }
    }

    func run() throws {
        try runCatching {
            let given = try idsFile.map { try StoreVectorsInput.readIDs($0) }
                ?? (ids ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let info = try IndexFileInfo.read(path: index)
            var names = try IndexNames.read(path: index)
            // Names that the index does not hold count as absent, as numbers do.
            let list = try names.map { n in given.compactMap { n.label(of: $0) } } ?? given.enumerated().map { i, s in
                guard let v = UInt64(s) else {
                    throw IndexCLIError(file: idsFile ?? "--ids", message: (idsFile == nil ? "" : "line \(i + 1): ") + "'\(s)' is not a non-negative integer id")
                }
                return v
            }
            for label in list { names?.remove(label: label) }
            switch try AnyIndex.load(index) {
            case .exact(var flat):
                let n = flat.remove(list)
                try flat.save(to: index, fingerprint: info.fingerprint, names: names)
                formatting.emit(.object([("removed", .int(n)), ("requested", .int(given.count)), ("count", .int(flat.count)), ("index", .string(index))])) {
                    "removed \(n) of \(given.count) ids: \(flat.count) left in \(index)"
                }
            case .hnsw(let graph):
                let n = graph.remove(list)
                try graph.save(to: index, fingerprint: info.fingerprint, names: names)
                formatting.emit(.object([("removed", .int(n)), ("requested", .int(given.count)), ("count", .int(graph.count)),
                                         ("tombstones", .int(graph.tombstoneCount)), ("index", .string(index))])) {
                    "removed \(n) of \(given.count) ids: \(graph.count) live, \(graph.tombstoneCount) tombstones in \(index) (siamese index compact reclaims them)"
                }
            case .int8, .binary:
                throw IndexCLIError(file: index, message: "quantised indexes are built once; rebuild with siamese index build")
            }
        }
    }
}

struct IndexCompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Reclaim an HNSW index's tombstones (relinks their neighbours, renumbers nodes).",
        discussion: """
        Example:
          siamese index compact --index x.hnsw --threads 2
        """)

    @Option(help: ArgumentHelp("Index file to compact.", valueName: "index"))
    var index: String

    @Option(help: "Threads (default: all CPUs).")
    var threads: Int?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "index compact") }
    }

    func run() throws {
        applyThreads(threads)
        try runCatching {
            let info = try IndexFileInfo.read(path: index)
            guard case .hnsw(let graph) = try AnyIndex.load(index) else {
                formatting.emit(.object([("reclaimed", .int(0)), ("kind", .string(info.kind.name)), ("count", .int(info.count)), ("index", .string(index))])) {
                    "\(index) is a\(info.kind == .exact ? "n" : "") \(info.kind) index: removals are already compact"
                }
                return
            }
            let names = try IndexNames.read(path: index)
            let n = graph.compact()
            try graph.save(to: index, fingerprint: info.fingerprint, names: names)
            formatting.emit(.object([("reclaimed", .int(n)), ("kind", .string(info.kind.name)), ("count", .int(graph.count)), ("index", .string(index))])) {
                "reclaimed \(n) tombstones: \(graph.count) nodes in \(index)"
            }
        }
    }
}

struct IndexInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe an index file (and check it).",
        discussion: """
        Checks the header, the section table and, with --verify, every checksum and link.

        Example:
          siamese index info --index x.hnsw --verify
        """)

    @Option(help: ArgumentHelp("Index file.", valueName: "index"))
    var index: String

    @Flag(help: "Load the whole index, verifying every checksum and link.")
    var verify = false

    @Flag(help: "Print JSON on one line (the same as --format jsonl).")
    var json = false

    @OptionGroup var formatting: FormatOption

    func run() throws {
        try runCatching {
            let info = try IndexFileInfo.read(path: index, verifyChecksums: verify)
            var fields: [(String, String)] = [("kind", "\"\(info.kind)\""), ("metric", "\"\(info.metric)\""), ("dimension", "\(info.dimension)"),
                                              ("count", "\(info.count)"), ("bytes", "\(info.bytes)")]
            if verify || info.kind == .hnsw {
                switch try AnyIndex.load(index, verify: verify) {
                case .hnsw(let g):
                    fields += [("live", "\(g.count)"), ("tombstones", "\(g.tombstoneCount)"), ("m", "\(g.configuration.m)"),
                               ("ef_construction", "\(g.configuration.efConstruction)"), ("ef_search", "\(g.configuration.efSearch)")]
                default: break
                }
            }
            if let names = try IndexNames.read(path: index, verifyChecksums: verify) { fields.append(("string_ids", "\(names.count)")) }
            if let fp = info.fingerprint { fields.append(("fingerprint", "\"\(fp.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"")) }
            if json || formatting.format != .text {
                let line = "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
                if formatting.format == .json, !json {
                    print("{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}")
                } else {
                    print(line)
                }
            } else {
                for (k, v) in fields { print("\(k.padding(toLength: 16, withPad: " ", startingAt: 0)) \(v.replacingOccurrences(of: "\"", with: ""))") }
                if verify { print("verified         every checksum, size and link") }
            }
        }
    }
}

// MARK: - siamese search

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the k nearest vectors of an index for each query.",
        discussion: """
        With --output, writes an int64 .npy of shape queries × k: the ids of each query's hits, best first (ids are the row numbers of the indexed matrix unless given at build time; -1 marks a missing hit when the index has fewer than k vectors). Without --output, or with --format json|jsonl, the hits go to stdout: text lines, one JSON array, or one JSON object per query ({"query":i,"ids":[…],"scores":[…]}; --json is --format jsonl). Scores: cosine/dot similarity, l2 squared distance. The time spent searching (loading excluded) goes to stderr.

        Example:
          siamese search --index x.hnsw --queries q.npy --k 10 --ef 128 --output ids.npy
          siamese search --index x.flat --queries q.npy --k 5 --format jsonl > hits.jsonl
        """)

    @Option(help: ArgumentHelp("Index file.", valueName: "index"))
    var index: String?

    @Option(help: ArgumentHelp("Queries: .npy, rows × dimensions; with --store, a text file (one query per line).", valueName: "q.npy"))
    var queries: String?

    @Option(help: ArgumentHelp("Search an embedding store (see `siamese store import`: a SQLite file or postgres://USER@HOST:PORT/DATABASE) instead of an index file.", valueName: "store.sqlite|url"))
    var store: String?

    @OptionGroup var postgres: PostgresOptionGroup

    @Option(help: ArgumentHelp("With --store: the model folder or name that embeds the queries.", valueName: "dir|name"))
    var model: String?

    @Option(help: ArgumentHelp("With --store: a query text (repeatable).", valueName: "text"))
    var query: [String] = []

    @Option(help: ArgumentHelp("With --store: \(StoreSearch.filterHelp)", valueName: "condition"))
    var filter: [String] = []

    @Option(help: "Hits per query.")
    var k: Int = 10

    @Option(help: "HNSW: candidate list size (recall rises with it); default: the index's.")
    var ef: Int?

    @Option(help: "Quantised indexes: candidates rescored per hit.")
    var rescore: Int?

    @Option(help: ArgumentHelp("Write the hit ids here (int64 .npy, queries × k).", valueName: "ids.npy"))
    var output: String?

    @Flag(help: "Print ids and scores as JSON lines on stdout (the same as --format jsonl).")
    var json = false

    @OptionGroup var formatting: FormatOption

    @Option(help: "Threads (default: all CPUs).")
    var threads: Int?

    @Option(name: .customLong("repeat"), help: "Time the search this many times and report the fastest (benchmarking).")
    var repetitions: Int = 1

    func validate() throws {
        if store != nil {
            guard model != nil else { throw usage("--store needs --model (the model that embeds the queries)", "search") }
            guard !query.isEmpty || queries != nil else { throw usage("--store needs --query TEXT or --queries FILE", "search") }
            guard index == nil, output == nil else { throw usage("--store searches the store: leave out --index and --output", "search") }
        } else {
            guard index != nil, queries != nil else { throw usage("give --index and --queries (vectors), or --store, --model and --query (texts)", "search") }
            guard query.isEmpty, filter.isEmpty, model == nil else { throw usage("--query, --filter and --model go with --store", "search") }
        }
        guard k >= 1 else { throw usage("--k must be at least 1", "search") }
        if let ef, ef < 1 { throw usage("--ef must be at least 1", "search") }
        if let rescore, rescore < 1 { throw usage("--rescore must be at least 1", "search") }
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "search") }
        guard repetitions >= 1 else { throw usage("--repeat must be at least 1", "search") }
    }

    func run() throws {
        applyThreads(threads)
        if let store, let model {
            let texts = try query + (queries.map { try readTextLines(URL(fileURLWithPath: $0)) } ?? [])
            let started = DispatchTime.now().uptimeNanoseconds
            let search = StoreSearch(store: store, model: model, queries: texts, k: k, ef: ef, filter: try StoreSearch.parseFilters(filter),
                                     postgres: try postgres.options(metric: nil))
            let results = try search.run()
            let records = StoreSearch.json(results)
            switch json ? .jsonl : formatting.format {
            case .jsonl: for r in records { print(r.serialized(pretty: false)) }
            // One query gives one object; several, an array of them.
            case .json: print((records.count == 1 ? records[0] : .array(records)).serialized(pretty: true))
            case .text:
                for r in results {
                    print("query: \(r.query)")
                    for (i, h) in r.hits.enumerated() {
                        print("  \(i + 1). \(h.id)  \(jsonNumber(h.score))" + (h.item?.text.map { "  \($0.prefix(100))" } ?? ""))
                    }
                }
            }
            note(String(format: "searched %d queries in %.3f s (model loading and embedding included)", texts.count, seconds(since: started)))
            return
        }
        let index = self.index!, queries = self.queries!
        try runCatching {
            let loaded = try AnyIndex.load(index)
            let names = try IndexNames.read(path: index, verifyChecksums: false)
            if names != nil, let output {
                throw IndexCLIError(file: output, message: "\(index) has string ids, which an int64 .npy cannot hold: print the hits with --format jsonl instead of --output")
            }
            let q = try readVectors(queries)
            guard q.dimension == loaded.dimension else {
                throw IndexCLIError(file: queries, message: "queries have \(q.dimension) components but \(index) holds \(loaded.dimension)")
            }
            var best = Double.infinity
            var results: SearchResults? = nil
            do {
                for _ in 0..<repetitions {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    switch loaded {
                    case .exact(let i): results = try i.search(queries: q.values, k: k)
                    case .hnsw(let i): results = try i.search(queries: q.values, k: k, ef: ef)
                    case .int8(let i): results = try i.search(queries: q.values, k: k, rescore: rescore ?? 4)
                    case .binary(let i): results = try i.search(queries: q.values, k: k, rescore: rescore ?? 10)
                    }
                    best = min(best, seconds(since: t0))
                }
            } catch let e as IndexError {
                throw IndexCLIError(file: queries, message: "\(e)")
            }
            let r = results!
            if let output {
                let ids = r.ids.map { $0 == SearchResults.missing ? Int64(-1) : Int64(bitPattern: $0) }
                do { try NPY.write(NPYArray(int64: ids, rows: r.queries, cols: k), to: URL(fileURLWithPath: output)) } catch {
                    throw IndexCLIError(file: output, message: "\(error)")
                }
            }
            let format = json ? .jsonl : formatting.format
            if output == nil || format != .text {
                var out = ""
                for i in 0..<r.queries {
                    let hits = r[i]
                    switch format {
                    case .text:
                        out += "query \(i): " + hits.map { "\(names?.name(of: $0.id) ?? String($0.id)) (\(jsonNumber($0.score)))" }.joined(separator: ", ") + "\n"
                    case .json, .jsonl:
                        if format == .json { out += i == 0 ? "[\n  " : ",\n  " }
                        // String ids go through the JSON writer (escaping); numbers stay numbers.
                        let ids = hits.map { h in names.map { JSONValue.string($0.name(of: h.id) ?? String(h.id)).serialized(pretty: false) } ?? String(h.id) }
                        out += "{\"query\":\(i),\"ids\":[\(ids.joined(separator: ","))],\"scores\":[\(hits.map { jsonNumber($0.score) }.joined(separator: ","))]}"
                        if format == .jsonl { out += "\n" }
                    }
                }
                if format == .json { out += r.queries == 0 ? "[]\n" : "\n]\n" }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
            note(String(format: "searched %d queries in %.4f s (%.0f queries/s; k=%d%@, %d threads)%@", r.queries, best, Double(r.queries) / best, k,
                        ef.map { ", ef=\($0)" } ?? "", Threading.threadCount, repetitions > 1 ? ", best of \(repetitions)" : ""))
        }
    }
}

// MARK: - siamese dedupe

struct DedupeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedupe",
        abstract: "Find near-duplicate pairs (paraphrase mining) among vectors.",
        discussion: """
        Compares every pair exactly (cosine similarity unless --no-normalize), in tiles on every thread, with memory bounded by the tiles and the pairs found. With --threshold: every pair at or above it. With --top-k: each item's k most similar others, merged into unique pairs (as sentence-transformers' paraphrase_mining); both options together keep the top-k pairs at or above the threshold. Writes one JSON object per line, {"a":i,"b":j,"score":s} with i < j row numbers, highest score first.

        With --store, the vectors of an embedding store, and pairs named by item id ({"a":"id","b":"id","score":s}), printed unless --output is given.

        Example:
          siamese dedupe --vectors x.npy --threshold 0.9 --output pairs.jsonl
          siamese dedupe --store items.sqlite --threshold 0.95 --format jsonl
          siamese dedupe --vectors x.npy --top-k 10 --output pairs.jsonl
        """)

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

    @Option(help: "Threads (default: all CPUs).")
    var threads: Int?

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
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "dedupe") }
    }

    func run() throws {
        applyThreads(threads)
        try runCatching {
            let source = vectors ?? redactedLocation(store!)
            let x: (rows: Int, dimension: Int, values: [Float]), ids: [String]?
            if let store {
                let (matrix, names) = try storeVectors(store, postgres: postgres)
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

// MARK: - siamese cluster

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

    @Option(help: "Threads (default: all CPUs).")
    var threads: Int?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard ["communities", "components"].contains(method) else { throw usage("--method must be communities or components", "cluster") }
        guard threshold.isFinite else { throw usage("--threshold must be a finite number", "cluster") }
        guard minSize >= 1 else { throw usage("--min-size must be at least 1", "cluster") }
        if let threads, threads < 1 { throw usage("--threads must be at least 1", "cluster") }
    }

    func run() throws {
        applyThreads(threads)
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
