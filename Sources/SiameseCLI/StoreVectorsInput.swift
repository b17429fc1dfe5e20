import EmbeddingStore
import FileSupport
import Foundation
import NPY

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
        let ids = try readIDs(idsPath)
        guard ids.count == matrix.rows else {
            throw InputError(file: idsPath, message: "\(ids.count) ids for \(matrix.rows) vectors in \(path)")
        }
        var seen = Set<String>()
        seen.reserveCapacity(ids.count)
        for (r, id) in ids.enumerated() where !seen.insert(id).inserted {
            throw InputError(file: idsPath, line: r + 1, message: "the id '\(id)' appears twice")
        }
        // Finite values, checked a block of rows at a time (the copies are dropped at once).
        let block = max(1, (1 << 20) / matrix.cols)
        for first in stride(from: 0, to: matrix.rows, by: block) {
            let values = matrix.values(rows: first..<(first + block))
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw InputError(file: path, message: "row \(first + bad / matrix.cols) holds a NaN or infinite value")
            }
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
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError(file: path, message: "cannot read (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: path, message: "not UTF-8 text") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return try lines.enumerated().map { i, raw in
            let id = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            let trimmed = id.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw InputError(file: path, line: i + 1, message: "empty id") }
            guard !trimmed.utf8.contains(0) else { throw InputError(file: path, line: i + 1, message: "the id holds a NUL character") }
            return trimmed
        }
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
}
