import CKernels

extension ExactIndex {
    /// Saves the index atomically (temporary file, fsync, rename); see ``IndexFileFormat``.
    ///
    /// - Parameter fingerprint: the model that made the vectors (stored in the file, returned by
    ///   ``IndexFileInfo``), so vectors of different models are never mixed by accident.
    public func save(to path: String, fingerprint: String? = nil) throws(IndexFileError) {
        try save(to: path, fingerprint: fingerprint, failAfterBytes: nil)
    }

    func save(to path: String, fingerprint: String?, failAfterBytes: Int?) throws(IndexFileError) {
        if let fingerprint, fingerprint.utf8.count > Fingerprint.maxBytes {
            throw IndexFileError(.io("the fingerprint is longer than \(Fingerprint.maxBytes) bytes"), file: path)
        }
        let s = storage
        let labels = s.ids.map(\.littleEndian)
        let fp = Array((fingerprint ?? "").utf8)
        try withBytes(of: labels) { (lb) throws(IndexFileError) in
            try withBytes(of: fp) { (fb) throws(IndexFileError) in
                var sections = [
                    IndexFileFormat.Section(tag: "VECS", bytes: UnsafeRawBufferPointer(start: s.vectors, count: s.count * dimension * 4)),
                    IndexFileFormat.Section(tag: "LABL", bytes: lb),
                ]
                if fingerprint != nil { sections.append(.init(tag: "FPRT", bytes: fb)) }
                try IndexFileFormat.write(path: path, kind: .exact, metric: metric, dimension: dimension, count: s.count,
                                          sections: sections, failAfterBytes: failAfterBytes)
            }
        }
    }

    /// Loads an index saved by ``save(to:fingerprint:)``. The vectors stay in the memory-mapped
    /// file (read on demand, copied only if the index grows); everything is checked first.
    public static func load(from path: String, options: IndexLoadOptions = .default) throws(IndexFileError) -> ExactIndex {
        let c = try IndexFileFormat.Contents(path: path, verifyChecksums: options.verifyChecksums)
        try c.expectKind(.exact)
        let n = c.count, dim = c.dimension
        let vectors = try c.section("VECS", bytes: try c.size(n, dim, 4))
        let labels = try c.section("LABL", bytes: try c.size(n, 8))
        _ = try Fingerprint.read(c)
        let v = vectors.baseAddress!.assumingMemoryBound(to: Float.self)
        try c.checkVectors(v, count: n, dimension: dim)
        let ids = (0..<n).map { UInt64(littleEndian: labels.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        guard Set(ids).count == n else { throw c.error(.malformed("an id appears twice")) }
        let storage = ExactStorage(dimension: dim, metric: c.metric, count: n, vectors: v, owner: c.file, ids: ids)
        return ExactIndex(storage: storage)
    }
}
