import CKernels

extension ExactIndex {
    /// Saves the index atomically (temporary file, fsync, rename); see ``IndexFileFormat``.
    ///
    /// - Parameters:
    ///   - fingerprint: the model that made the vectors (stored in the file, returned by
    ///     ``IndexFileInfo``), so vectors of different models are never mixed by accident.
    ///   - names: string ids of the vectors, saved in the same file (see ``IndexNames``).
    public func save(to path: String, fingerprint: String? = nil, names: IndexNames? = nil) throws(IndexFileError) {
        try save(to: path, fingerprint: fingerprint, names: names, failAfterBytes: nil)
    }

    func save(to path: String, fingerprint: String?, names: IndexNames? = nil, failAfterBytes: Int?) throws(IndexFileError) {
        let s = storage
        let labels = s.ids.map(\.littleEndian)
        try withBytes(of: labels) { (lb) throws(IndexFileError) in
            try Annotations.withSections(fingerprint: fingerprint, names: names, path: path) { (optional) throws(IndexFileError) in
                let sections = [
                    IndexFileFormat.Section(tag: "VECS", bytes: UnsafeRawBufferPointer(start: s.vectors, count: s.count * dimension * 4)),
                    IndexFileFormat.Section(tag: "LABL", bytes: lb),
                ] + optional
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
        try Annotations.check(c)
        let v = vectors.baseAddress!.assumingMemoryBound(to: Float.self)
        try c.checkVectors(v, count: n, dimension: dim)
        let ids = (0..<n).map { UInt64(littleEndian: labels.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        guard Set(ids).count == n else { throw c.error(.malformed("an id appears twice")) }
        let storage = ExactStorage(dimension: dim, metric: c.metric, count: n, vectors: v, owner: c.file, ids: ids)
        return ExactIndex(storage: storage)
    }
}
