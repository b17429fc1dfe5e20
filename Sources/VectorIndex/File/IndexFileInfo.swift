/// What a file holds, read from its header and checked container (see ``IndexFileFormat``).
public struct IndexFileInfo: Sendable, Equatable {
    /// What the file holds (its ``IndexKind/name`` is what `siamese index info` prints).
    public let kind: IndexKind
    /// How the stored index measures closeness.
    public let metric: Metric
    /// Components per vector.
    public let dimension: Int
    /// Items stored (HNSW: node slots, tombstones included).
    public let count: Int
    /// File size in bytes.
    public let bytes: Int
    /// The model fingerprint saved with the vectors, if any.
    public let fingerprint: String?

    /// Reads and checks an index file's header and section table (checksums too when asked).
    public static func read(path: String, verifyChecksums: Bool = false) throws(IndexFileError) -> IndexFileInfo {
        let c = try IndexFileFormat.Contents(path: path, verifyChecksums: verifyChecksums)
        return IndexFileInfo(kind: c.kind, metric: c.metric, dimension: c.dimension, count: c.count, bytes: c.file.count,
                             fingerprint: try Fingerprint.read(c))
    }
}

/// The model fingerprint section ("FPRT"): UTF-8, at most 4 KiB.
enum Fingerprint {
    static let maxBytes = 4096

    static func read(_ c: IndexFileFormat.Contents) throws(IndexFileError) -> String? {
        guard c.hasSection("FPRT") else { return nil }
        let b = try c.section("FPRT", bytes: nil, maxBytes: maxBytes)
        guard let s = String(validating: UnsafeRawBufferPointer(b).bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw c.error(.malformed("the model fingerprint is not UTF-8"))
        }
        return s
    }
}
