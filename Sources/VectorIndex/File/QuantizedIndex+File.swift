import CKernels

extension ScalarQuantizedIndex {
    /// Saves the quantiser, codes, ids and (when kept) float vectors atomically.
    ///
    /// - Parameters:
    ///   - fingerprint: the model that made the vectors, stored in the file.
    ///   - names: string ids of the vectors, saved in the same file (see ``IndexNames``).
    public func save(to path: String, fingerprint: String? = nil, names: IndexNames? = nil) throws(IndexFileError) {
        let labels = ids.map(\.littleEndian)
        try withBytes(of: quantizer.minimums) { (mn) throws(IndexFileError) in
            try withBytes(of: quantizer.scales) { (sc) throws(IndexFileError) in
                try withBytes(of: codes) { (cb) throws(IndexFileError) in
                    try withBytes(of: labels) { (lb) throws(IndexFileError) in
                        try withBytes(of: rows.originals) { (vb) throws(IndexFileError) in
                            try Annotations.withSections(fingerprint: fingerprint, names: names, path: path) { (optional) throws(IndexFileError) in
                                var sections: [IndexFileFormat.Section] = [.init(tag: "SQMN", bytes: mn), .init(tag: "SQSC", bytes: sc),
                                                                            .init(tag: "CODE", bytes: cb), .init(tag: "LABL", bytes: lb)]
                                if keepsOriginals { sections.append(.init(tag: "VECS", bytes: vb)) }
                                sections += optional
                                try IndexFileFormat.write(path: path, kind: .scalarQuantized, metric: metric, dimension: dimension,
                                                          count: count, sections: sections)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Loads an index saved by ``save(to:fingerprint:)`` (checked like every index file).
    public static func load(from path: String, options: IndexLoadOptions = .default) throws(IndexFileError) -> ScalarQuantizedIndex {
        let c = try IndexFileFormat.Contents(path: path, verifyChecksums: options.verifyChecksums)
        try c.expectKind(.scalarQuantized)
        let n = c.count, dim = c.dimension
        let mins = QuantizedFile.floats(try c.section("SQMN", bytes: try c.size(dim, 4)))
        let scales = QuantizedFile.floats(try c.section("SQSC", bytes: try c.size(dim, 4)))
        let quantizer: ScalarQuantizer
        do { quantizer = try ScalarQuantizer(minimums: mins, scales: scales) } catch { throw c.error(.malformed("quantiser ranges: \(error)")) }
        let codes = [UInt8](UnsafeRawBufferPointer(try c.section("CODE", bytes: try c.size(n, dim))))
        let rows = try QuantizedFile.rows(c)
        return ScalarQuantizedIndex(quantizer: quantizer, rows: rows, codes: codes)
    }
}

extension BinaryQuantizedIndex {
    /// Saves the thresholds, codes, ids and (when kept) float vectors atomically.
    ///
    /// - Parameters:
    ///   - fingerprint: the model that made the vectors, stored in the file.
    ///   - names: string ids of the vectors, saved in the same file (see ``IndexNames``).
    public func save(to path: String, fingerprint: String? = nil, names: IndexNames? = nil) throws(IndexFileError) {
        let labels = ids.map(\.littleEndian)
        try withBytes(of: quantizer.thresholds) { (th) throws(IndexFileError) in
            try withBytes(of: codes) { (cb) throws(IndexFileError) in
                try withBytes(of: labels) { (lb) throws(IndexFileError) in
                    try withBytes(of: rows.originals) { (vb) throws(IndexFileError) in
                        try Annotations.withSections(fingerprint: fingerprint, names: names, path: path) { (optional) throws(IndexFileError) in
                            var sections: [IndexFileFormat.Section] = [.init(tag: "BQTH", bytes: th), .init(tag: "BITS", bytes: cb),
                                                                        .init(tag: "LABL", bytes: lb)]
                            if keepsOriginals { sections.append(.init(tag: "VECS", bytes: vb)) }
                            sections += optional
                            try IndexFileFormat.write(path: path, kind: .binaryQuantized, metric: metric, dimension: dimension,
                                                      count: count, sections: sections)
                        }
                    }
                }
            }
        }
    }

    /// Loads an index saved by ``save(to:fingerprint:)`` (checked like every index file).
    public static func load(from path: String, options: IndexLoadOptions = .default) throws(IndexFileError) -> BinaryQuantizedIndex {
        let c = try IndexFileFormat.Contents(path: path, verifyChecksums: options.verifyChecksums)
        try c.expectKind(.binaryQuantized)
        let n = c.count, dim = c.dimension
        let quantizer: BinaryQuantizer
        do { quantizer = try BinaryQuantizer(thresholds: QuantizedFile.floats(try c.section("BQTH", bytes: try c.size(dim, 4)))) } catch {
            throw c.error(.malformed("thresholds: \(error)"))
        }
        let bits = try c.section("BITS", bytes: try c.size(n, quantizer.words, 8))
        let codes = (0..<(n * quantizer.words)).map { UInt64(littleEndian: bits.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        return BinaryQuantizedIndex(quantizer: quantizer, rows: try QuantizedFile.rows(c), codes: codes)
    }
}

enum QuantizedFile {
    static func floats(_ b: UnsafeMutableRawBufferPointer) -> [Float] {
        (0..<(b.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }

    /// Ids and the optional float vectors, checked.
    static func rows(_ c: IndexFileFormat.Contents) throws(IndexFileError) -> QuantizedRows {
        let n = c.count, dim = c.dimension
        let labels = try c.section("LABL", bytes: try c.size(n, 8))
        let ids = (0..<n).map { UInt64(littleEndian: labels.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        guard Set(ids).count == n else { throw c.error(.malformed("an id appears twice")) }
        var originals: [Float] = []
        if c.hasSection("VECS") {
            originals = floats(try c.section("VECS", bytes: try c.size(n, dim, 4)))
            guard originals.allSatisfy(\.isFinite) else { throw c.error(.malformed("a vector holds NaN or infinity")) }
        }
        try Annotations.check(c)
        return QuantizedRows(dimension: dim, metric: c.metric, ids: ids, originals: originals)
    }
}
