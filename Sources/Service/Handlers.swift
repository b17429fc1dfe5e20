import EmbeddingStore
import Foundation
import TextEncoders
import VectorIndex

/// The API's operations on parsed request bodies; ``ServiceRouter`` wires them to routes.
extension ServiceState {
    // MARK: embed, compare, verify

    struct EmbedResponse: Encodable {
        let model: String
        let dimension: Int
        let embeddings: [[Float]]
    }

    func embed(_ body: JSONObject) async throws -> EmbedResponse {
        try body.allowOnly(["inputs", "prompt", "role"])
        let inputs = try modelInputs(body, key: "inputs")
        let prompt = try promptChoice(body, default: .modelDefault)
        return EmbedResponse(model: model.fingerprint, dimension: model.dimension, embeddings: try await embedChecked(inputs, prompt: prompt))
    }

    /// The prompt a request picks: `"prompt"` (a name among the model's prompts) or `"role"`
    /// (`query` or `document`), at most one of them; `fallback` without either.
    func promptChoice(_ body: JSONObject, default fallback: Prompts.Choice) throws(APIError) -> Prompts.Choice {
        switch (body.has("prompt"), body.has("role")) {
        case (false, false): return fallback
        case (true, true): throw APIError(.invalidValue, "give either 'prompt' or 'role', not both", field: "role")
        case (true, false): return .named(try body.string("prompt"))
        case (false, true):
            let role = try body.string("role")
            guard let r = Prompts.Role(rawValue: role) else {
                throw APIError(.invalidValue, "'role' must be \"query\" or \"document\", got \"\(role)\"", field: "role")
            }
            return .role(r)
        }
    }

    /// Inputs under `key`: 1 to `maxInputs` strings or number arrays, checked against the model.
    func modelInputs(_ body: JSONObject, key: String) throws(APIError) -> [ModelInput] {
        let raw = try body.array(key)
        guard !raw.isEmpty else { throw APIError(.invalidValue, "'\(key)' must hold at least one input", field: key) }
        guard raw.count <= configuration.maxInputs else {
            throw APIError(.tooManyInputs, "'\(key)' holds \(raw.count) inputs; at most \(configuration.maxInputs) per request", field: key)
        }
        var inputs: [ModelInput] = []
        for (i, value) in raw.enumerated() {
            let input = try value.modelInput(field: "\(key)[\(i)]")
            try model.validate(input, field: "\(key)[\(i)]")
            inputs.append(input)
        }
        return inputs
    }

    func singleInput(_ body: JSONObject, key: String) throws(APIError) -> ModelInput {
        let input = try body.value(key).modelInput(field: key)
        try model.validate(input, field: key)
        return input
    }

    /// Embeds through the batcher; an embedding with NaN or infinity (inputs too large for the
    /// model's arithmetic) is the client's error, reported as such.
    func embedChecked(_ inputs: [ModelInput], prompt: Prompts.Choice = .modelDefault) async throws -> [[Float]] {
        // Checked here, so that a bad name fails this request alone, never a shared batch.
        try model.checkPrompt(prompt)
        let rows = try await batcher.embed(inputs, prompt: prompt)
        for (i, row) in rows.enumerated() where !row.allSatisfy(\.isFinite) {
            throw APIError(.nonFinite, "input \(i) gives a non-finite embedding (values too large for the model?)", field: "inputs[\(i)]")
        }
        return rows
    }

    struct CompareResponse: Encodable {
        let score: Float
        let comparison: String
        let score_direction: String
    }

    func compare(_ body: JSONObject) async throws -> CompareResponse {
        try body.allowOnly(["a", "b"])
        return CompareResponse(score: try await pairScore(body), comparison: model.scoreName, score_direction: direction)
    }

    var direction: String { model.higherScoreMeansSame ? "higher_is_same" : "lower_is_same" }

    func pairScore(_ body: JSONObject) async throws -> Float {
        let a = try singleInput(body, key: "a"), b = try singleInput(body, key: "b")
        let e = try await embedChecked([a, b])
        let model = self.model
        let score = try await batcher.run { model.score(e[0], e[1]) }
        guard score.isFinite else { throw APIError(.nonFinite, "the score of this pair is not finite") }
        return score
    }

    struct VerifyResponse: Encodable {
        struct Rule: Encodable {
            let kind: String
            let target: Double?
            let source: String
        }
        let same: Bool
        let score: Float
        let threshold: Double
        let score_direction: String
        let rule: Rule
    }

    func verify(_ body: JSONObject) async throws -> VerifyResponse {
        try body.allowOnly(["a", "b", "threshold"])
        let requested = try body.optionalNumber("threshold")
        guard requested != nil || model.calibration != nil else {
            throw APIError(.notCalibrated, "the model has no calibration.json; calibrate it on labelled pairs (siamese calibrate --model DIR --pairs PAIRS.csv --eer) or pass \"threshold\"", field: "threshold")
        }
        let score = try await pairScore(body)
        let rule: VerifyResponse.Rule
        let calibration: ServedCalibration
        if let requested {
            calibration = ServedCalibration(threshold: requested, scoreDirection: direction, rule: "fixed", ruleTarget: nil)
            rule = .init(kind: "fixed", target: nil, source: "request")
        } else {
            calibration = model.calibration!
            rule = .init(kind: calibration.rule, target: calibration.ruleTarget, source: "calibration.json")
        }
        return VerifyResponse(same: calibration.isSame(Double(score)), score: score, threshold: calibration.threshold,
                              score_direction: calibration.scoreDirection, rule: rule)
    }

    // MARK: search and items

    struct Hit: Encodable {
        let id: String
        let score: Float
        /// The cross-encoder's score, in reranked searches.
        var rerankScore: Float? = nil
        let text: String?
        let metadata: JSONText?

        enum CodingKeys: String, CodingKey { case id, score, rerankScore = "rerank_score", text, metadata }
    }

    struct SearchResponse: Encodable, DirectJSON {
        let results: [Hit]

        /// Written by hand: the busiest route, where `JSONEncoder` was 6 % of the service's CPU per
        /// search (perf, PostgreSQL store). The same text as the encoder's, keys in a fixed order.
        var directJSON: String? {
            var out = "{\"results\":["
            for (i, hit) in results.enumerated() {
                // A non-finite score is not JSON: the encoder's error path answers it.
                guard hit.score.isFinite else { return nil }
                if i > 0 { out += "," }
                out += "{\"id\":" + JSONValue.quoted(hit.id) + ",\"score\":" + JSONValue.floatText(hit.score)
                if let r = hit.rerankScore {
                    guard r.isFinite else { return nil }
                    out += ",\"rerank_score\":" + JSONValue.floatText(r)
                }
                if let text = hit.text { out += ",\"text\":" + JSONValue.quoted(text) }
                if let metadata = hit.metadata { out += ",\"metadata\":" + metadata.normalized.jsonText }
                out += "}"
            }
            return out + "]}"
        }
    }

    func search(_ body: JSONObject) async throws -> SearchResponse {
        try body.allowOnly(["query", "vector", "k", "ef", "filter", "prompt", "role", "rerank_k"])
        let k = try body.integer("k", default: 10, in: 1...1000)
        // Without "ef" the index's own setting (HNSW's ef_search) applies; with it, a client trades
        // speed for recall per request, bounded like pgvector's hnsw.ef_search.
        let ef: Int? = body.has("ef") ? try body.integer("ef", default: 0, in: 1...1000) : nil
        let filter = body.has("filter") ? try MetadataFilterRequest.parse(try body.object("filter")) : nil
        // Reranking: the first rerank_k hits (at least k) go to the cross-encoder with the query text.
        let rerankK: Int? = body.has("rerank_k") ? try body.integer("rerank_k", default: 0, in: 1...1000) : nil
        if rerankK != nil {
            guard body.has("query"), case .string = try body.value("query") else {
                throw APIError(.invalidValue, "'rerank_k' needs a text 'query' (the cross-encoder reads the query with each hit's text)", field: "rerank_k")
            }
            _ = try requireReranker()
        }
        let vector = try await searchVector(body)
        let hits: [SearchHit]
        let vectorStore = self.vectorStore
        // The hits with their text and metadata: one query on PostgreSQL, the search and one
        // read of the items on SQLite; an item deleted since the search is left out.
        let fetched = max(k, rerankK ?? 0)
        do { hits = try await reachable { try await vectorStore.searchHits(vector, k: fetched, ef: ef, metadata: filter) } } catch let e as IndexError {
            throw APIError(.invalidValue, "the query cannot be searched: \(e)", field: "query")
        }
        if rerankK != nil, case .string(let query) = try body.value("query") {
            let ordered = try await reranked(hits, query: query, k: k)
            return SearchResponse(results: ordered.map {
                Hit(id: $0.hit.id, score: $0.hit.score, rerankScore: $0.rerank, text: $0.hit.text, metadata: $0.hit.metadata.map(JSONText.init))
            })
        }
        return SearchResponse(results: hits.map { Hit(id: $0.id, score: $0.score, text: $0.text, metadata: $0.metadata.map(JSONText.init)) })
    }

    /// The vector a search looks for: the embedding of `"query"`, or `"vector"` itself — an
    /// embedding the client already has (same space and dimension as the model's), so that a
    /// search costs no forward pass. Exactly one of the two.
    func searchVector(_ body: JSONObject) async throws -> [Float] {
        switch (body.has("query"), body.has("vector")) {
        case (true, false):
            // A query is embedded as one: the model's "query" prompt, when it has one.
            return try await embedChecked([try singleInput(body, key: "query")], prompt: try promptChoice(body, default: .role(.query)))[0]
        case (false, true):
            if body.has("prompt") || body.has("role") {
                throw APIError(.invalidValue, "'prompt' and 'role' apply to a 'query' the model embeds, not to a 'vector'", field: body.has("prompt") ? "prompt" : "role")
            }
            guard case .vector(let v) = try body.value("vector").modelInput(field: "vector") else {
                throw body.wrongType("vector", "an array of numbers")
            }
            guard v.count == model.dimension else {
                throw APIError(.invalidValue, "'vector' has \(v.count) numbers; the model's embeddings have \(model.dimension)", field: "vector")
            }
            return v
        case (true, true):
            throw APIError(.invalidValue, "give either 'query' (embedded by the model) or 'vector' (an embedding), not both", field: "vector")
        case (false, false):
            throw APIError(.missingField, "missing field 'query' (or 'vector': an embedding to search with)", field: "query")
        }
    }

    struct UpsertResponse: Encodable {
        let upserted: Int
        let ids: [String]
    }

    /// Upserts items; returns only after the store has committed them durably.
    func upsert(_ body: JSONObject) async throws -> UpsertResponse {
        try body.allowOnly(["items"])
        let raw = try body.array("items")
        guard !raw.isEmpty else { throw APIError(.invalidValue, "'items' must hold at least one item", field: "items") }
        guard raw.count <= configuration.maxInputs else {
            throw APIError(.tooManyInputs, "'items' holds \(raw.count) items; at most \(configuration.maxInputs) per request", field: "items")
        }
        var parsed: [(id: String, text: String?, metadata: String?, input: ModelInput)] = []
        var seen = Set<String>()
        for (i, value) in raw.enumerated() {
            guard case .object(let fields) = value else {
                throw APIError(.wrongType, "'items[\(i)]' must be an object", field: "items[\(i)]")
            }
            let o = JSONObject(fields: fields, path: "items[\(i)]")
            try o.allowOnly(["id", "text", "vector", "metadata"])
            let id = try Self.validID(try o.string("id"), field: "items[\(i)].id")
            guard seen.insert(id).inserted else { throw APIError(.invalidValue, "id '\(id)' appears twice", field: "items[\(i)].id") }
            let text = try o.optionalString("text")
            if let text, EmbeddingStore.holdsNUL(text) {
                // The store keeps texts as SQLite C strings: refused rather than cut at the NUL.
                throw APIError(.invalidValue, "'items[\(i)].text' holds a NUL character (U+0000), which the store cannot keep", field: "items[\(i)].text")
            }
            let input: ModelInput
            switch model.kind {
            case .text:
                guard !o.has("vector") else { throw APIError(.inputKindMismatch, "'items[\(i)].vector': this model embeds text; send \"text\"", field: "items[\(i)].vector") }
                guard let text else { throw APIError(.missingField, "missing field 'items[\(i)].text'", field: "items[\(i)].text") }
                input = .text(text)
            case .vector:
                guard o.has("vector") else { throw APIError(.missingField, "missing field 'items[\(i)].vector' (this model embeds arrays of numbers; \"text\" is stored only)", field: "items[\(i)].vector") }
                input = try o.value("vector").modelInput(field: "items[\(i)].vector")
            }
            try model.validate(input, field: model.kind == .text ? "items[\(i)].text" : "items[\(i)].vector")
            var metadata: String?
            if o.has("metadata") {
                let m = try o.object("metadata")
                metadata = JSONValue.object(m.fields).jsonText
            }
            parsed.append((id, text, metadata, input))
        }
        // Stored items are documents: the model's document prompt, when it has one (searches embed queries).
        let vectors = try await embedChecked(parsed.map(\.input), prompt: .role(.document))
        let items = zip(parsed, vectors).map { p, v in StoredItem(id: p.id, text: p.text, metadata: p.metadata, vector: v) }
        let (vectorStore, fingerprint) = (self.vectorStore, model.fingerprint)
        do {
            if let index = sqliteIndex {
                try await write { try index.upsert(items, fingerprint: fingerprint) }
            } else {
                try await writeAsync { try await vectorStore.upsert(items, fingerprint: fingerprint) }
            }
        } catch let e as StoreError {
            throw APIError(.storeConflict, e.description)
        }
        return UpsertResponse(upserted: items.count, ids: items.map(\.id))
    }

    struct DeleteResponse: Encodable {
        let deleted: Int
    }

    func delete(_ body: JSONObject) async throws -> DeleteResponse {
        try body.allowOnly(["ids"])
        let raw = try body.array("ids")
        guard raw.count <= configuration.maxInputs else {
            throw APIError(.tooManyInputs, "'ids' holds \(raw.count) ids; at most \(configuration.maxInputs) per request", field: "ids")
        }
        var collected: [String] = []
        for (i, v) in raw.enumerated() {
            guard case .string(let s) = v else { throw APIError(.wrongType, "'ids[\(i)]' must be a string", field: "ids[\(i)]") }
            collected.append(try Self.validID(s, field: "ids[\(i)]"))
        }
        return DeleteResponse(deleted: try await remove(collected))
    }

    /// Removes items (durable on return): through the write queue for SQLite, directly for PostgreSQL.
    func remove(_ ids: [String]) async throws -> Int {
        if let index = sqliteIndex { return try await write { try index.remove(ids) } }
        let vectorStore = self.vectorStore
        return try await writeAsync { try await vectorStore.remove(ids) }
    }

    /// An item id as the API accepts it: 1 to 512 bytes without control characters. A NUL would
    /// be cut by SQLite (so `victim\u0000evil` would overwrite `victim`); the other control
    /// characters have no business in an id that also travels in URLs and log lines.
    static func validID(_ id: String, field: String) throws(APIError) -> String {
        guard !id.isEmpty, id.utf8.count <= 512 else { throw APIError(.invalidValue, "'\(field)' must be 1 to 512 bytes", field: field) }
        guard !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError(.invalidValue, "'\(field)' holds a control character (U+0000 to U+001F or U+007F); ids may not", field: field)
        }
        return id
    }

    /// Deletes one item by id (`DELETE /v1/items/{id}`); 404 when there is none.
    func deleteItem(_ id: String) async throws -> DeleteResponse {
        let id = try Self.validID(id, field: "id")
        let n = try await remove([id])
        guard n > 0 else { throw APIError(.notFound, "no item with id '\(id)'", field: "id") }
        return DeleteResponse(deleted: n)
    }

    struct ItemResponse: Encodable {
        let id: String
        let text: String?
        let metadata: JSONText?
        let vector: [Float]
    }

    func item(_ id: String) async throws -> ItemResponse {
        let vectorStore = self.vectorStore
        guard let found = try await reachable({ try await vectorStore.items(ids: [id]) }).first, let item = found else { throw APIError(.notFound, "no item with id '\(id)'", field: "id") }
        return ItemResponse(id: item.id, text: item.text, metadata: item.metadata.map(JSONText.init), vector: item.vector)
    }

    // MARK: duplicates

    struct DuplicatesResponse: Encodable {
        struct Pair: Encodable {
            let a: String
            let b: String
            let score: Float
        }
        let source: String
        let comparison = "cosine"
        let threshold: Double
        let pairs: [Pair]
        let truncated: Bool
    }

    static let maxDuplicateItems = 20_000

    /// Pairs with cosine similarity at or above `threshold` among the given inputs (named by
    /// their position) or, without `inputs`, among the store's items (named by id).
    ///
    /// - Parameter authorizeStore: checks the API key (when one is configured) before a search
    ///   over the store, the heaviest request there is.
    func duplicates(_ body: JSONObject, authorizeStore: () throws -> Void = {},
                    clientConnected: @escaping @Sendable () -> Bool = { true }) async throws -> DuplicatesResponse {
        try body.allowOnly(["inputs", "threshold", "limit"])
        let threshold = try body.number("threshold")
        guard (-1...1).contains(threshold) else { throw APIError(.invalidValue, "'threshold' is a cosine similarity, from -1 to 1", field: "threshold") }
        let limit = try body.integer("limit", default: 100, in: 1...10_000)
        if body.has("inputs") {
            let inputs = try modelInputs(body, key: "inputs")
            // Embedded as the store's items are, so that the two kinds of duplicates search agree.
            let vectors = try await embedChecked(inputs, prompt: .role(.document)).flatMap { $0 }
            // Among at most `maxInputs` inputs the search is small: done here, not queued behind
            // a search over the store.
            let found: ParaphraseMining.BoundedPairs
            do {
                found = try ParaphraseMining.topPairs(vectors, dimension: model.dimension, threshold: Float(threshold), limit: limit)
            } catch let e as IndexError {
                // Finite embeddings can still be too large to normalise (an input of 1e29 did this: a 500).
                throw APIError(.nonFinite, "the inputs' embeddings cannot be compared: \(e)", field: "inputs")
            }
            let kept = found.pairs.map { DuplicatesResponse.Pair(a: String($0.a), b: String($0.b), score: $0.score) }
            return DuplicatesResponse(source: "inputs", threshold: threshold, pairs: kept, truncated: found.total > kept.count)
        }
        if configuration.apiKey != nil { try authorizeStore() }
        // One search over the store at a time, taken before the store is read: a flood of
        // requests is turned away at once instead of each loading the store.
        guard duplicatesGate.tryEnter() else {
            throw APIError(.busy, "another duplicates search over the store is running; retry when it has finished (one at a time)")
        }
        defer { duplicatesGate.leave() }
        let vectorStore = self.vectorStore
        let count = try await reachable { try await vectorStore.count() }
        guard count <= Self.maxDuplicateItems else {
            throw APIError(.invalidValue, "the store holds \(count) items; duplicates over the store handles at most \(Self.maxDuplicateItems) (use `siamese dedupe`)")
        }
        let (found, names) = try await mineStoreDuplicates(threshold: Float(threshold), limit: limit, clientConnected: clientConnected)
        let kept = found.pairs.map { DuplicatesResponse.Pair(a: names[$0.a], b: names[$0.b], score: $0.score) }
        return DuplicatesResponse(source: "store", threshold: threshold, pairs: kept, truncated: found.total > kept.count)
    }

    /// A PostgreSQL store's ids and vectors, read page by page before mining (the database is
    /// read asynchronously, not from the duplicates thread).
    static func storeVectors(_ store: any VectorStore, dimension: Int) async throws -> (names: [String], vectors: [Float]) {
        var names: [String] = [], vectors: [Float] = [], cursor: String?
        repeat {
            let page = try await store.page(after: cursor, limit: 4096)
            for item in page.items where item.vector.count == dimension {
                names.append(item.id)
                vectors += item.vector
            }
            cursor = page.next
        } while cursor != nil
        return (names, vectors)
    }

    /// The store's ids and vectors, in storage order (read on the duplicates thread).
    static func storeVectors(_ store: EmbeddingStore, dimension: Int) throws -> (names: [String], vectors: [Float]) {
        var names: [String] = [], vectors: [Float] = []
        var last: Int64?
        while true {
            let page = try store.items(after: last, limit: 4096)
            guard let end = page.last else { break }
            for (_, item) in page where item.vector.count == dimension {
                names.append(item.id)
                vectors += item.vector
            }
            last = end.label
        }
        return (names, vectors)
    }

    /// The best `limit` pairs of the store's items and the items' ids, read and mined on the
    /// duplicates thread (not the inference thread, so that embed, compare and verify keep
    /// answering, nor a cooperative thread; the caller holds ``duplicatesGate``), and stopped
    /// between tiles once the request's timeout has passed, its task is cancelled or its client
    /// has closed the connection (`clientConnected` false). Memory: the store's vectors, one heap
    /// of `limit` pairs and one score tile per thread.
    func mineStoreDuplicates(threshold: Float, limit: Int, clientConnected: @escaping @Sendable () -> Bool = { true }) async throws
        -> (ParaphraseMining.BoundedPairs, [String]) {
        let (d, sqlite, vectorStore) = (model.dimension, sqliteIndex?.store, self.vectorStore)
        var read: (names: [String], vectors: [Float])?
        if sqlite == nil { read = try await reachable { try await Self.storeVectors(vectorStore, dimension: d) } }
        let preloaded = read
        let stop = Flag()
        let deadline = ContinuousClock.now + .milliseconds(configuration.timeoutMilliseconds)
        let (queue, probe) = (duplicatesQueue, duplicatesProbe)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    queue.async {
                        continuation.resume(with: Result {
                            let (names, vectors) = try preloaded ?? Self.storeVectors(sqlite!, dimension: d)
                            let found = try ParaphraseMining.topPairs(vectors, dimension: d, threshold: threshold, limit: limit, shouldStop: {
                                probe.fire(clientConnected: clientConnected)
                                return stop.isSet || ContinuousClock.now >= deadline || !clientConnected()
                            })
                            return (found, names)
                        })
                    }
                }
            } onCancel: {
                stop.set()
            }
        } catch is CancellationError where !clientConnected() {
            throw APIError(.clientClosed, "the client closed the connection; the duplicates search was stopped")
        } catch is CancellationError {
            throw APIError(.timeout, "the request took longer than \(configuration.timeoutMilliseconds) ms; the duplicates search was stopped")
        }
    }

    // MARK: models

    struct ModelsResponse: Encodable {
        struct Calibration: Encodable {
            let threshold: Double
            let score_direction: String
            let rule: String
            let target: Double?
        }
        struct Model: Encodable {
            let name: String
            let kind: String
            let input_dimension: Int?
            let dimension: Int
            let fingerprint: String
            let comparison: String
            let score_direction: String
            let calibration: Calibration?
            /// Pairs to try (the demo model's), with the ground truth, not the model's decision.
            let examples: [Example]?
        }
        struct Example: Encodable {
            let name: String
            let a: EncodableInput
            let b: EncodableInput
            let same: Bool
        }
        struct Store: Encodable {
            let items: Int
            let fingerprint: String?
        }
        let models: [Model]
        let store: Store
    }

    func models() async throws -> ModelsResponse {
        let c = model.calibration.map { ModelsResponse.Calibration(threshold: $0.threshold, score_direction: $0.scoreDirection, rule: $0.rule, target: $0.ruleTarget) }
        let m = ModelsResponse.Model(name: model.name, kind: model.kind.rawValue, input_dimension: model.inputDimension, dimension: model.dimension,
                                     fingerprint: model.fingerprint, comparison: model.scoreName, score_direction: direction, calibration: c,
                                     examples: model.examples.isEmpty ? nil : model.examples.map {
                                         .init(name: $0.name, a: EncodableInput(input: $0.a), b: EncodableInput(input: $0.b), same: $0.same)
                                     })
        let vectorStore = self.vectorStore
        let (items, fingerprint) = try await reachable { (try await vectorStore.count(), try await vectorStore.fingerprint()) }
        return ModelsResponse(models: [m], store: .init(items: items, fingerprint: fingerprint))
    }
}

/// Stored metadata (JSON text) sent back as a JSON object, not as a string.
struct JSONText: Encodable {
    let text: String
    /// The stored text parsed again: the strict parser keeps integers beyond 2⁵³ exact on the way
    /// out, as they were stored.
    var normalized: JSONValue { (try? StrictJSONParser.parse(Data(text.utf8))) ?? .null }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(EncodableJSON(value: normalized))
    }
}

/// A response body that writes its own JSON text (nil: let `JSONEncoder` write it).
protocol DirectJSON {
    var directJSON: String? { get }
}

/// A model input as the API takes it: a string or an array of numbers.
struct EncodableInput: Encodable {
    let input: ModelInput
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch input {
        case .text(let s): try c.encode(s)
        case .vector(let v): try c.encode(v)
        }
    }
}

struct EncodableJSON: Encodable {
    let value: JSONValue
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d):
            // Whole numbers as integers: JSONEncoder writes the Double 1e15 as `1e+15`.
            if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { try c.encode(Int64(d)) } else { try c.encode(d) }
        case .integer(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a.map { EncodableJSON(value: $0) })
        case .object(let o): try c.encode(o.mapValues { EncodableJSON(value: $0) })
        }
    }
}
