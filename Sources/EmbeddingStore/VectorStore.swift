import Foundation
import VectorIndex

/// What the command line and the service need from a store of items and their vectors, whatever
/// engine keeps it: SQLite with the in-process HNSW index (``SQLiteVectorStore``) or PostgreSQL
/// with pgvector (`PostgresStore`).
///
/// Every store keeps the rules of ``EmbeddingStore``: one model fingerprint per store (vectors of
/// another model are refused with ``StoreError/fingerprintMismatch(store:given:)``), one
/// dimension, string ids, metadata as a JSON object, and a write that has returned is durable.
/// Methods are `async` because a database server answers over the network; the SQLite store
/// answers at once.
public protocol VectorStore: AnyObject, Sendable {
    /// Where the store is, for messages: a file path, or a URL without its password.
    var location: String { get }
    /// The metric its searches rank by.
    var metric: Metric { get }
    /// The fingerprint of the model that made the vectors (nil while the store is empty).
    func fingerprint() async throws -> String?
    /// The length of the vectors (nil while the store is empty).
    func dimension() async throws -> Int?
    /// Number of items.
    func count() async throws -> Int
    /// Inserts or replaces items (matched by id); durable when it returns. Refuses another
    /// model's vectors, a wrong dimension, bad vectors or metadata and repeated ids, writing nothing.
    func upsert(_ items: [StoredItem], fingerprint: String) async throws
    /// Removes items by id (unknown ids are ignored); durable when it returns. Returns how many went.
    @discardableResult
    func remove(_ ids: [String]) async throws -> Int
    /// The items with these ids, in the order given (nil where none has the id).
    func items(ids: [String]) async throws -> [StoredItem?]
    /// The `k` nearest items to `vector`, best first, as (id, score) with the score of
    /// ``Metric`` (cosine similarity, inner product, or squared Euclidean distance); with
    /// `metadata`, only items whose metadata meets the filter. `ef` widens the search (nil: the
    /// store's default).
    func search(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [(id: String, score: Float)]
    /// Like ``search(_:k:ef:metadata:)``, with each hit's text and metadata (what a search
    /// answers to a client). A store that can (PostgreSQL) reads them in the same query; the
    /// default reads them with ``items(ids:)`` after the search. An item removed between the two
    /// reads is left out.
    func searchHits(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [SearchHit]
    /// Up to `limit` items in a stable order after `cursor` (nil: from the start), and the cursor
    /// of the next page (nil after the last): how export and duplicate mining read every item.
    func page(after cursor: String?, limit: Int) async throws -> (items: [StoredItem], next: String?)
    /// Makes the next open fast (the SQLite store saves its index; a database has nothing to do).
    func save() async throws
    /// Releases connections and files; the store is unusable afterwards.
    func close() async
}

/// One hit of ``VectorStore/searchHits(_:k:ef:metadata:)``: the item's id, score, text and metadata.
public struct SearchHit: Sendable, Equatable {
    /// The item's id.
    public var id: String
    /// The score of the store's ``Metric``.
    public var score: Float
    /// The item's text, if it has one.
    public var text: String?
    /// The item's metadata (a JSON object's text), if any.
    public var metadata: String?

    /// Creates a hit.
    /// - Parameters:
    ///   - id: the item's id.
    ///   - score: its score.
    ///   - text: its text.
    ///   - metadata: its metadata as JSON text.
    public init(id: String, score: Float, text: String?, metadata: String?) {
        self.id = id
        self.score = score
        self.text = text
        self.metadata = metadata
    }
}

extension VectorStore {
    /// See ``VectorStore/searchHits(_:k:ef:metadata:)``: the search, then one read of its items.
    public func searchHits(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [SearchHit] {
        let hits = try await search(vector, k: k, ef: ef, metadata: metadata)
        let items = try await items(ids: hits.map(\.id))
        return zip(hits, items).compactMap { hit, item in
            item.map { SearchHit(id: hit.id, score: hit.score, text: $0.text, metadata: $0.metadata) }
        }
    }
}

/// The SQLite store with its in-process HNSW index, as a ``VectorStore``.
public final class SQLiteVectorStore: VectorStore {
    /// The store and its index.
    public let index: StoreIndex

    /// Wraps an open index.
    /// - Parameters:
    ///   - index: the store's index, from ``EmbeddingStore/openIndex(metric:configuration:dimension:indexPath:)``.
    public init(_ index: StoreIndex) { self.index = index }

    /// The store file.
    public var location: String { index.store.path }
    /// The index's metric.
    public var metric: Metric { index.index.metric }
    /// See ``VectorStore/fingerprint()``.
    public func fingerprint() async throws -> String? { try index.store.fingerprint() }
    /// See ``VectorStore/dimension()``.
    public func dimension() async throws -> Int? { try index.store.dimension() }
    /// See ``VectorStore/count()``.
    public func count() async throws -> Int { try index.store.count() }
    /// See ``VectorStore/upsert(_:fingerprint:)``.
    public func upsert(_ items: [StoredItem], fingerprint: String) async throws { try index.upsert(items, fingerprint: fingerprint) }
    /// See ``VectorStore/remove(_:)``.
    @discardableResult
    public func remove(_ ids: [String]) async throws -> Int { try index.remove(ids) }
    /// See ``VectorStore/items(ids:)``.
    public func items(ids: [String]) async throws -> [StoredItem?] { try index.store.items(ids: ids) }
    /// See ``VectorStore/search(_:k:ef:metadata:)``.
    public func search(_ vector: [Float], k: Int, ef: Int?, metadata: MetadataFilter?) async throws -> [(id: String, score: Float)] {
        try index.search(vector, k: k, ef: ef, metadata: metadata)
    }
    /// See ``VectorStore/page(after:limit:)``: the cursor is the last item's index label.
    public func page(after cursor: String?, limit: Int) async throws -> (items: [StoredItem], next: String?) {
        let rows = try index.store.items(after: cursor.flatMap { Int64($0) }, limit: limit)
        return (rows.map(\.item), rows.count < limit ? nil : rows.last.map { String($0.label) })
    }
    /// Saves the index beside the store (when it has a path).
    public func save() async throws { try index.save() }
    /// Nothing to release: the files close with the objects.
    public func close() async {}
}
