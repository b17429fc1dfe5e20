/// How an index file is read.
public struct IndexLoadOptions: Sendable {
    /// Check every section's CRC-32C (reads the whole file once). Structural checks — sizes,
    /// offsets, ids and links in range — always run, so skipping checksums can give wrong
    /// answers on a damaged file but never a crash.
    public var verifyChecksums: Bool
    /// HNSW: copy the vectors and layer-0 links out of the file mapping into memory backed by
    /// huge pages (see `AlignedBuffer`), which makes graph searches markedly faster on large
    /// indexes. Costs one copy at load and private memory instead of the shared page cache;
    /// false searches the mapping in place (pages read on demand).
    public var copyIntoMemory: Bool

    /// Creates load options; the defaults favour safety and search speed.
    /// - Parameters:
    ///   - verifyChecksums: Check every section's CRC-32C (default true).
    ///   - copyIntoMemory: HNSW: copy vectors and layer-0 links into huge-page memory (default true).
    public init(verifyChecksums: Bool = true, copyIntoMemory: Bool = true) {
        self.verifyChecksums = verifyChecksums
        self.copyIntoMemory = copyIntoMemory
    }

    /// Checksums verified, HNSW data copied into memory.
    public static let `default` = IndexLoadOptions()
}
