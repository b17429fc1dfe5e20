import Foundation

/// One item of an ``EmbeddingStore``: an id, what was embedded (text, or a reference to where
/// it came from), metadata, and its vector.
public struct StoredItem: Sendable, Equatable {
    /// The caller's id (unique in the store).
    public var id: String
    /// The text the vector was made from; needed by ``EmbeddingStore/reembed(to:batchSize:embed:)``.
    public var text: String?
    /// Where the item came from (a file path, a URL), when the text itself is not stored.
    public var source: String?
    /// A JSON object of metadata (checked to be a JSON object on write); searchable with
    /// ``StoreIndex/search(_:k:ef:metadata:)``.
    public var metadata: String?
    /// The embedding.
    public var vector: [Float]

    public init(id: String, text: String? = nil, source: String? = nil, metadata: String? = nil, vector: [Float]) {
        self.id = id
        self.text = text
        self.source = source
        self.metadata = metadata
        self.vector = vector
    }
}

/// Errors of the embedding store.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Vectors from another model than the store's: vectors of different models are not comparable.
    case fingerprintMismatch(store: String, given: String)
    /// A vector of another length than the store's.
    case dimensionMismatch(expected: Int, got: Int)
    /// A vector holding NaN or infinity, or an empty one.
    case invalidVector(id: String)
    /// Metadata that is not a JSON object.
    case invalidMetadata(id: String)
    /// An item without text cannot be re-embedded.
    case missingText(id: String)
    /// The embedding closure returned the wrong number of vectors.
    case embedderReturned(expected: Int, got: Int)
    /// A fingerprint must be a non-empty string of at most 4096 bytes.
    case invalidFingerprint(String)
    /// The same id twice in one upsert.
    case duplicateID(String)
    /// An id, text or source holding a NUL character: SQLite's C strings end at the first NUL,
    /// so it would be stored cut short (and two ids could become one).
    case nulCharacter(field: String, id: String)
    /// The database file is unusable (the message says why).
    case database(String)

    public var description: String {
        switch self {
        case .fingerprintMismatch(let s, let g): "the store holds vectors of model '\(s)'; refusing vectors of model '\(g)' (re-embed the store to change models)"
        case .dimensionMismatch(let e, let g): "the store holds \(e)-dimensional vectors, got \(g)"
        case .invalidVector(let id): "item '\(id)': the vector is empty or holds NaN or infinity"
        case .invalidMetadata(let id): "item '\(id)': metadata must be a JSON object"
        case .missingText(let id): "item '\(id)' has no text to re-embed"
        case .embedderReturned(let e, let g): "the embedding function returned \(g) vectors for \(e) texts"
        case .invalidFingerprint(let f): "invalid model fingerprint '\(f)'"
        case .duplicateID(let id): "id '\(id)' appears twice in one upsert"
        case .nulCharacter(let field, let id): "item '\(id.replacingOccurrences(of: "\0", with: "\\u0000"))': the \(field) holds a NUL character (U+0000), which the store cannot keep"
        case .database(let m): m
        }
    }
}

/// Vectors as SQLite blobs: little-endian float32.
enum VectorBlob {
    static func encode(_ v: [Float]) -> Data {
        var d = Data(count: v.count * 4)
        d.withUnsafeMutableBytes { raw in
            for (i, x) in v.enumerated() { raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        return d
    }

    static func decode(_ d: Data) -> [Float]? {
        guard d.count % 4 == 0 else { return nil }
        return d.withUnsafeBytes { raw in
            (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
