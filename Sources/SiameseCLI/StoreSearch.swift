import EmbeddingStore
import Evaluation
import FileSupport
import Foundation
import PostgresStore
import Service
import TextEncoders

/// `siamese search --store`: queries as texts (or feature arrays), embedded by the store's model,
/// answered from the store's index with ids, scores, texts and metadata, best first.
struct StoreSearch {
    var store: String
    var model: String
    var queries: [String]
    var k: Int
    var ef: Int?
    /// Metadata conditions from `--filter`, ANDed (nil: none).
    var filter: MetadataFilter?
    /// How to open a `postgres://` store (password, index settings).
    var postgres = PostgresStoreOptions()

    /// What `--filter` accepts, for `--help`.
    static let filterHelp = """
        only items whose metadata meets KEY=VALUE (equal, compared as text, so year=2021 matches the number 2021), \
        KEY!=VALUE (not equal; a missing key counts), KEY>N, KEY>=N, KEY<N, KEY<=N (numeric: only values stored as JSON numbers), \
        KEY=in:A,B,C (any of these texts: a value after = that starts with in: is always a list, whose values hold no commas) \
        or KEY? (the key is present). Repeatable; all must hold. Quote > and < in a shell: --filter 'year>=2020' --filter 'year<2024'.
        """

    /// `--filter` arguments as one ``MetadataFilter``: the key runs up to the first of `= ! < > ?`.
    static func parseFilters(_ filters: [String]) throws -> MetadataFilter? {
        guard !filters.isEmpty else { return nil }
        let conditions = try filters.map(parseFilter)
        do { return try MetadataFilter(conditions) } catch {
            throw InputError(file: "--filter", message: error.message)
        }
    }

    /// One `--filter` argument.
    static func parseFilter(_ f: String) throws -> (key: String, condition: MetadataFilter.Condition) {
        func bad(_ why: String) -> InputError {
            InputError(file: "--filter", message: "'\(f)': \(why) (use KEY=VALUE, KEY!=VALUE, KEY>=N, KEY>N, KEY<=N, KEY<N, KEY=in:A,B,C or KEY?)")
        }
        guard let at = f.firstIndex(where: { "=!<>?".contains($0) }) else { throw bad("no operator") }
        guard at != f.startIndex else { throw bad("the KEY before the operator is empty") }
        let key = String(f[..<at]), rest = f[at...]
        do { try MetadataFilter.check(key: key) } catch { throw bad(error.message) }
        func number(_ s: Substring) throws -> MetadataFilter.Number {
            if let i = Int64(s) { return .integer(i) }
            // Double("nan") and Double("inf") parse; neither is a bound anyone means.
            guard let d = Double(s), d.isFinite else { throw bad("'\(s)' is not a number") }
            return .real(d)
        }
        // Longest first: `>=` before `>`, `=in:` before `=`.
        let operators: [(String, (Substring) throws -> MetadataFilter.Condition)] = [
            ("!=", { .notEqual(.string(String($0))) }),
            (">=", { .compare(.greaterOrEqual, try number($0)) }),
            ("<=", { .compare(.lessOrEqual, try number($0)) }),
            (">", { .compare(.greater, try number($0)) }),
            ("<", { .compare(.less, try number($0)) }),
            ("=in:", { .in($0.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) }) }),
            ("=", { .equal(.string(String($0))) }),
            ("?", { v in guard v.isEmpty else { throw bad("nothing may follow '?'") }; return .exists(true) }),
        ]
        for (op, make) in operators where rest.hasPrefix(op) {
            let value = rest.dropFirst(op.count)
            if op == "=in:", value.split(separator: ",").count > MetadataFilter.maxListValues {
                throw bad("more than \(MetadataFilter.maxListValues) values")
            }
            return (key, try make(value))
        }
        throw bad("no operator")
    }

    /// The hits of every query, in query order.
    func run() throws -> [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] {
        let isPostgres = PostgresURL.isPostgres(store)
        guard isPostgres || FileManager.default.fileExists(atPath: store) else { throw InputError(file: store, message: "no such store") }
        let served = try StoreSession.model(model)
        if isPostgres { return try runPostgres(served) }
        let embeddings = try EmbeddingStore(path: store)
        try StoreSession.checkFingerprint(embeddings, model: served, modelName: model)
        let vectors = try embed(served)
        let index = try StoreSession.openIndex(embeddings, model: served)
        var out: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] = []
        for (q, v) in zip(queries, vectors) {
            let hits = try index.search(v, k: k, ef: ef, metadata: filter)
            let items = try embeddings.items(ids: hits.map(\.id))
            out.append((q, zip(hits, items).map { ($0.id, $0.score, $1) }))
        }
        return out
    }

    /// The same search in a PostgreSQL store: its pgvector index answers, the items come from it too.
    func runPostgres(_ served: any ServedModel) throws -> [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] {
        var options = postgres
        options.metric = IndexMetric.metric(for: served)
        let pg = try PostgresOptionGroup.open(store, options: options)
        try StoreSession.checkFingerprint(try blocking { try await pg.fingerprint() }, location: pg.location, model: served, modelName: model)
        let vectors = try embed(served)
        let (queries, k, ef, filter) = (self.queries, self.k, self.ef, self.filter)
        return try blocking {
            var out: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] = []
            for (q, v) in zip(queries, vectors) {
                let hits = try await pg.search(v, k: k, ef: ef, metadata: filter)
                let items = try await pg.items(ids: hits.map(\.id))
                out.append((q, zip(hits, items).map { ($0.id, $0.score, $1) }))
            }
            await pg.close()
            return out
        }
    }

    /// The queries embedded by the model (a feature model's query is a JSON array of its inputs).
    func embed(_ served: any ServedModel) throws -> [[Float]] {
        let inputs: [ModelInput] = try queries.enumerated().map { i, q in
            guard served.kind == .vector else { return .text(q) }
            // A feature model's query is a JSON array of its inputs.
            guard let values = try? JSONDecoder().decode([Float].self, from: Data(q.utf8)), values.count == served.inputDimension else {
                throw InputError(file: "--query", line: i + 1, message: "the model \(model) takes arrays of \(served.inputDimension ?? 0) numbers, such as [0.1, 0.2, …]")
            }
            return .vector(values)
        }
        // Queries get the model's query prompt, when it has one (stored items got its document prompt).
        return try served.embed(inputs, prompt: .role(.query))
    }

    /// Each query's hits reordered by the cross-encoder's score of the query with the hit's text
    /// (hits without text after those with one, in their order), the best `k` kept; with the
    /// scores, per hit (nil for hits without text).
    static func reranked(_ results: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])], by reranker: CrossEncoder, k: Int)
        -> ([(query: String, hits: [(id: String, score: Float, item: StoredItem?)])], [[Float?]]) {
        var out: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] = []
        var scores: [[Float?]] = []
        for r in results {
            let texted = r.hits.indices.filter { r.hits[$0].item?.text != nil }
            let cross = reranker.scores(query: r.query, candidates: texted.map { r.hits[$0].item!.text! })
            var perHit = [Float?](repeating: nil, count: r.hits.count)
            for (i, s) in zip(texted, cross) { perHit[i] = s }
            let kept = CrossEncoder.ranking(perHit, keep: k)
            out.append((r.query, kept.map { r.hits[$0] }))
            scores.append(kept.map { perHit[$0] })
        }
        return (out, scores)
    }

    /// The results as JSON: `{"query", "hits": [{"id","score","text","metadata"}]}` per query
    /// (and `rerank_score` per hit after a rerank).
    static func json(_ results: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])], rerankScores: [[Float?]]? = nil) -> [JSONValue] {
        results.enumerated().map { qi, r in
            .object([("query", .string(r.query)), ("hits", .array(r.hits.enumerated().map { hi, h in
                var fields: [(String, JSONValue)] = [("id", .string(h.id)), ("score", .number(Double(h.score)))]
                if let s = rerankScores?[qi][hi] { fields.append(("rerank_score", .number(Double(s)))) }
                if let t = h.item?.text { fields.append(("text", .string(t))) }
                if let m = h.item?.metadata, let object = try? JSONSerialization.jsonObject(with: Data(m.utf8)) { fields.append(("metadata", value(object))) }
                return .object(fields)
            }))])
        }
    }

    /// A parsed JSON value (from JSONSerialization) as the CLI's ``JSONValue``.
    static func value(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: return .string(s)
        case let d as [String: Any]: return .object(d.keys.sorted().map { ($0, value(d[$0]!)) })
        case let a as [Any]: return .array(a.map(value))
        case let n as NSNumber:
            // JSONSerialization's booleans are NSNumbers of Objective-C type char.
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9e15 { return .int(n.intValue) }
            return .number(d)
        default: return .null
        }
    }
}
