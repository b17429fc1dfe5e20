import EmbeddingStore
import NIOCore

/// Rows checked and encoded for PostgreSQL's binary `COPY`, ready for
/// ``PostgresStore/bulkUpsert(_:newIDs:)``.
///
/// Made apart from the sending so that a loader encodes the next batch while the database takes
/// this one: made and sent in turn, a load of 1,000,000 × 384 left half of both cores idle, our
/// process and the PostgreSQL backend waiting for each other (`perf`, stop 23).
public struct PostgresCopyBatch: Sendable {
    /// Number of rows.
    public let count: Int
    /// Components of every vector.
    public let dimension: Int
    /// The model fingerprint of every row.
    public let fingerprint: String
    /// Header, rows and trailer.
    let bytes: ByteBuffer

    /// The rows of `items`, checked as ``PostgresStore/upsert(_:fingerprint:)`` checks them (ids
    /// unique and free of NUL, finite vectors of one length, metadata a JSON object).
    /// - Parameters:
    ///   - items: The items.
    ///   - fingerprint: The model fingerprint of their vectors.
    ///   - type: The store's vector column type (``PostgresStore/vectorType``).
    public init(_ items: [StoredItem], fingerprint: String, type: PostgresVectorType) throws {
        try PostgresStore.check(items, fingerprint: fingerprint)
        let dimension = items.first?.vector.count ?? 0
        for item in items where item.vector.count != dimension {
            throw StoreError.dimensionMismatch(expected: dimension, got: item.vector.count)
        }
        var buffer = Self.start(rows: items.count, dimension: dimension, type: type)
        for item in items {
            item.vector.withUnsafeBufferPointer {
                PostgresBinaryCopy.appendRow(id: item.id, text: item.text, source: item.source, metadata: item.metadata,
                                             fingerprint: fingerprint, vector: $0, type: type, to: &buffer)
            }
        }
        PostgresBinaryCopy.appendTrailer(to: &buffer)
        self.init(count: items.count, dimension: dimension, fingerprint: fingerprint, bytes: buffer)
    }

    /// Rows of vectors with ids only (no text, source or metadata), straight from a matrix: row
    /// `r` is `vectors[r * dimension ..< (r + 1) * dimension]`. Checked: ids unique and free of NUL,
    /// every value finite, one row per id.
    /// - Parameters:
    ///   - ids: The ids, one per row.
    ///   - vectors: The rows, one after another.
    ///   - dimension: Components per row.
    ///   - fingerprint: The model fingerprint of the vectors.
    ///   - type: The store's vector column type.
    public init(ids: ArraySlice<String>, vectors: UnsafeBufferPointer<Float>, dimension: Int,
                fingerprint: String, type: PostgresVectorType) throws {
        try PostgresStore.check([], fingerprint: fingerprint)
        guard dimension > 0, vectors.count == ids.count * dimension else {
            throw StoreError.invalidVector(id: ids.first ?? "")
        }
        var seen = Set<String>(minimumCapacity: ids.count)
        var buffer = Self.start(rows: ids.count, dimension: dimension, type: type)
        for (r, id) in ids.enumerated() {
            if EmbeddingStore.holdsNUL(id) { throw StoreError.nulCharacter(field: "id", id: id) }
            guard seen.insert(id).inserted else { throw StoreError.duplicateID(id) }
            let row = UnsafeBufferPointer(rebasing: vectors[(r * dimension)..<((r + 1) * dimension)])
            // A plain loop: a key path here (`allSatisfy(\.isFinite)`) was projected per component
            // at run time, most of a 200,000-row load's CPU (perf).
            for x in row where !x.isFinite { throw StoreError.invalidVector(id: id) }
            PostgresBinaryCopy.appendRow(id: id, text: nil, source: nil, metadata: nil, fingerprint: fingerprint,
                                         vector: row, type: type, to: &buffer)
        }
        PostgresBinaryCopy.appendTrailer(to: &buffer)
        self.init(count: ids.count, dimension: dimension, fingerprint: fingerprint, bytes: buffer)
    }

    private init(count: Int, dimension: Int, fingerprint: String, bytes: ByteBuffer) {
        self.count = count
        self.dimension = dimension
        self.fingerprint = fingerprint
        self.bytes = bytes
    }

    /// A buffer with the header, sized for `rows` rows (ids and fingerprints of about 100 bytes).
    private static func start(rows: Int, dimension: Int, type: PostgresVectorType) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + rows * (128 + (type == .halfvec ? 2 : 4) * dimension))
        PostgresBinaryCopy.appendHeader(to: &buffer)
        return buffer
    }
}
