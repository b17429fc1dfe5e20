import EmbeddingStore
import FileSupport
import Foundation
import NPY
import PostgresStore

/// Vectors a user already has (`.npy`, rows × dimensions, float32 or float64) and their ids (a
/// text file, one id per line, or an int64 `.npy`), for `siamese store import` without embedding.
enum StoreVectorsInput {
    /// A `.npy` matrix of vectors with their ids, checked whole before anything is stored: the
    /// shape, one id per row, no id twice, every value finite. The vectors stay in the mapped
    /// file; ``StoreVectorRows/items(_:)`` copies one batch at a time (a million rows would
    /// otherwise be decoded into gigabytes before the first one is written).
    static func read(vectors path: String, ids idsPath: String) throws -> StoreVectorRows {
        let matrix: NPYMatrixFile
        do { matrix = try NPYMatrixFile(URL(fileURLWithPath: path)) } catch { throw InputError(file: path, message: "\(error)") }
        guard matrix.shape.count == 2 else { throw InputError(file: path, message: "expected a 2-D array (rows × dimensions), found shape \(matrix.shape)") }
        guard matrix.cols > 0 else { throw InputError(file: path, message: "the vectors have no components") }
        // The values are checked on another core while the ids are read (each a third of a
        // second for 1,000,000 × 384 rows).
        let scan = Started { [matrix] in matrix.firstNonFinite(rows: 0..<matrix.rows) }
        let ids: [String]
        do { ids = try readIDs(idsPath) } catch {
            _ = try? scan.wait()
            throw error
        }
        guard ids.count == matrix.rows else {
            _ = try? scan.wait()
            throw InputError(file: idsPath, message: "\(ids.count) ids for \(matrix.rows) vectors in \(path)")
        }
        var seen = Set<String>()
        seen.reserveCapacity(ids.count)
        for (r, id) in ids.enumerated() where !seen.insert(id).inserted {
            _ = try? scan.wait()
            throw InputError(file: idsPath, line: r + 1, message: "the id '\(id)' appears twice")
        }
        if let bad = try scan.wait() {
            throw InputError(file: path, message: "row \(bad / matrix.cols) holds a NaN or infinite value")
        }
        return StoreVectorRows(ids: ids, matrix: matrix)
    }

    /// String ids: one per line of a UTF-8 text file (blank lines are errors, ids are kept as
    /// written, without surrounding spaces), or the values of an int64 `.npy`.
    static func readIDs(_ path: String) throws -> [String] {
        if path.lowercased().hasSuffix(".npy") {
            do { return try NPY.read(URL(fileURLWithPath: path)).int64Values().map(String.init) } catch {
                throw InputError(file: path, message: "\(error)")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw InputError(file: path, message: "cannot read (\(error.localizedDescription))")
        }
        // One pass over the bytes: a million ids through `components(separatedBy:)` and
        // `trimmingCharacters` per line took longer than the COPY of their vectors (perf).
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [String] in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard String(validating: bytes, as: UTF8.self) != nil else { throw InputError(file: path, message: "not UTF-8 text") }
            var ids: [String] = []
            var start = 0, line = 1
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                let next = end + 1
                if end > start && bytes[end - 1] == 0x0D { end -= 1 }
                ids.append(try id(UnsafeBufferPointer(rebasing: bytes[start..<end]), file: path, line: line))
                start = next
                line += 1
            }
            return ids
        }
    }

    /// One line's id: without surrounding white space (Unicode's, as `trimmingCharacters(in:
    /// .whitespaces)`), not empty, without NUL. The bytes are valid UTF-8 (checked for the file).
    private static func id(_ bytes: UnsafeBufferPointer<UInt8>, file: String, line: Int) throws -> String {
        if bytes.contains(0) { throw InputError(file: file, line: line, message: "the id holds a NUL character") }
        // White space at either end is a space or tab, or a scalar of two or more bytes: only then
        // is the line trimmed the slow way.
        let plain: (UInt8) -> Bool = { $0 != 0x20 && $0 != 0x09 && $0 < 0x80 }
        let trimmed: String
        if let first = bytes.first, let last = bytes.last, plain(first), plain(last) {
            trimmed = String(decoding: bytes, as: UTF8.self)
        } else {
            trimmed = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        guard !trimmed.isEmpty else { throw InputError(file: file, line: line, message: "empty id") }
        return trimmed
    }
}

/// Vectors from a `.npy` file with their ids, made into items a batch at a time.
struct StoreVectorRows {
    /// The ids, one per row.
    let ids: [String]
    /// The mapped matrix.
    let matrix: NPYMatrixFile

    /// Number of rows.
    var count: Int { ids.count }
    /// Components per vector.
    var dimension: Int { matrix.cols }

    /// Items (id and vector only) for the rows in `range`.
    func items(_ range: Range<Int>) -> [StoredItem] {
        let values = matrix.values(rows: range)
        let d = matrix.cols
        return range.enumerated().map { k, row in StoredItem(id: ids[row], vector: Array(values[(k * d)..<((k + 1) * d)])) }
    }

    /// The rows in `range` encoded for PostgreSQL's `COPY` straight from the matrix (no item per row).
    func copyBatch(_ range: Range<Int>, fingerprint: String, type: PostgresVectorType) throws -> PostgresCopyBatch {
        let values = matrix.values(rows: range)
        return try values.withUnsafeBufferPointer {
            try PostgresCopyBatch(ids: ids[range], vectors: $0, dimension: matrix.cols, fingerprint: fingerprint, type: type)
        }
    }
}
