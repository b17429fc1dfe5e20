import ArgumentParser
import Evaluation
import Foundation
import NPY
import PostgresStore
import Tensors
import TextEncoders
import VectorIndex

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the k nearest vectors of an index for each query.",
        discussion: HelpText.reflow("""
        With --output, writes an int64 .npy of shape queries × k: the ids of each query's hits, best first (ids are the row numbers of the indexed matrix unless given at build time; -1 marks a missing hit when the index has fewer than k vectors). Without --output, or with --format json|jsonl, the hits go to stdout: text lines, one JSON array, or one JSON object per query ({"query":i,"ids":[…],"scores":[…]}; --json is --format jsonl). Scores: cosine/dot similarity, l2 squared distance. The time spent searching (loading excluded) goes to stderr.

        Example:
          siamese search --index x.hnsw --queries q.npy --k 10 --ef 128 --output ids.npy
          siamese search --index x.flat --queries q.npy --k 5 --format jsonl > hits.jsonl
        """))

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

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(name: .customLong("repeat"), help: "Time the search this many times and report the fastest (benchmarking).")
    var repetitions: Int = 1

    @Option(help: ArgumentHelp("With --store: rerank the hits with this cross-encoder (a sentence-transformers CrossEncoder folder) and keep the best --k.", valueName: "dir"))
    var rerank: String?

    @Option(help: "With --rerank: how many hits the store returns for the cross-encoder to reorder (default 100).")
    var rerankK: Int?

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
        if rerank != nil && store == nil { throw usage("--rerank goes with --store (the cross-encoder reads the stored texts)", "search") }
        if rerankK != nil && rerank == nil { throw usage("--rerank-k goes with --rerank", "search") }
        if let rerankK, rerankK < 1 { throw usage("--rerank-k must be at least 1", "search") }
        if let ef, ef < 1 { throw usage("--ef must be at least 1", "search") }
        if let rescore, rescore < 1 { throw usage("--rescore must be at least 1", "search") }
        guard repetitions >= 1 else { throw usage("--repeat must be at least 1", "search") }
    }

    func run() throws {
        threading.apply()
        if let store, let model {
            let texts = try query + (queries.map { try readTextLines(URL(fileURLWithPath: $0)) } ?? [])
            let started = DispatchTime.now().uptimeNanoseconds
            let reranker = try rerank.map { try CrossEncoder(folder: try ModelLocator.resolve($0)) }
            let fetched = reranker == nil ? k : max(k, rerankK ?? 100)
            let search = StoreSearch(store: store, model: model, queries: texts, k: fetched, ef: ef, filter: try StoreSearch.parseFilters(filter),
                                     postgres: try postgres.options(metric: nil))
            var results = try search.run()
            var rerankScores: [[Float?]]?
            if let reranker { (results, rerankScores) = StoreSearch.reranked(results, by: reranker, k: k) }
            let records = StoreSearch.json(results, rerankScores: rerankScores)
            switch json ? .jsonl : formatting.format {
            case .jsonl: for r in records { print(r.serialized(pretty: false)) }
            // One query gives one object; several, an array of them.
            case .json: print((records.count == 1 ? records[0] : .array(records)).serialized(pretty: true))
            case .text:
                for (qi, r) in results.enumerated() {
                    print("query: \(r.query)")
                    for (i, h) in r.hits.enumerated() {
                        let crossScore = rerankScores?[qi][i].map { "  rerank \(jsonNumber($0))" } ?? ""
                        print("  \(i + 1). \(h.id)  \(jsonNumber(h.score))" + crossScore + (h.item?.text.map { "  \($0.prefix(100))" } ?? ""))
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
