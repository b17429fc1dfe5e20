import EmbeddingStore
import Evaluation
import FileSupport
import Foundation
import Service

/// `siamese search --store`: queries as texts (or feature arrays), embedded by the store's model,
/// answered from the store's index with ids, scores, texts and metadata, best first.
struct StoreSearch {
    var store: String
    var model: String
    var queries: [String]
    var k: Int
    var ef: Int?
    /// Metadata equality filters (`key=value`).
    var filter: [String: String]?

    /// `key=value` pairs; a key given twice is an error.
    static func parseFilters(_ filters: [String]) throws -> [String: String]? {
        guard !filters.isEmpty else { return nil }
        var out: [String: String] = [:]
        for f in filters {
            guard let eq = f.firstIndex(of: "="), eq != f.startIndex else {
                throw InputError(file: "--filter", message: "'\(f)' is not KEY=VALUE")
            }
            let key = String(f[..<eq]), value = String(f[f.index(after: eq)...])
            guard out.updateValue(value, forKey: key) == nil else { throw InputError(file: "--filter", message: "the key '\(key)' is given twice") }
        }
        return out
    }

    /// The hits of every query, in query order.
    func run() throws -> [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] {
        guard FileManager.default.fileExists(atPath: store) else { throw InputError(file: store, message: "no such store") }
        let served = try StoreSession.model(model)
        let embeddings = try EmbeddingStore(path: store)
        try StoreSession.checkFingerprint(embeddings, model: served, modelName: model)
        let inputs: [ModelInput] = try queries.enumerated().map { i, q in
            guard served.kind == .vector else { return .text(q) }
            // A feature model's query is a JSON array of its inputs.
            guard let values = try? JSONDecoder().decode([Float].self, from: Data(q.utf8)), values.count == served.inputDimension else {
                throw InputError(file: "--query", line: i + 1, message: "the model \(model) takes arrays of \(served.inputDimension ?? 0) numbers, such as [0.1, 0.2, …]")
            }
            return .vector(values)
        }
        let vectors = try served.embed(inputs)
        let index = try StoreSession.openIndex(embeddings, model: served)
        var out: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])] = []
        for (q, v) in zip(queries, vectors) {
            let hits = try index.search(v, k: k, ef: ef, metadata: filter)
            let items = try embeddings.items(ids: hits.map(\.id))
            out.append((q, zip(hits, items).map { ($0.id, $0.score, $1) }))
        }
        return out
    }

    /// The results as JSON: `{"query", "hits": [{"id","score","text","metadata"}]}` per query.
    static func json(_ results: [(query: String, hits: [(id: String, score: Float, item: StoredItem?)])]) -> [JSONValue] {
        results.map { r in
            .object([("query", .string(r.query)), ("hits", .array(r.hits.map { h in
                var fields: [(String, JSONValue)] = [("id", .string(h.id)), ("score", .number(Double(h.score)))]
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
