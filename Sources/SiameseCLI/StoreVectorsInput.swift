import FileSupport
import Foundation
import NPY

/// Vectors a user already has (`.npy`, rows × dimensions, float32 or float64) and their ids (a
/// text file, one id per line, or an int64 `.npy`), for `siamese store import` without embedding.
enum StoreVectorsInput {
    /// The rows with their ids, in file order. Every problem names the file (and the line of an id).
    static func read(vectors path: String, ids idsPath: String) throws -> [(id: String, vector: [Float])] {
        let array: NPYArray
        do { array = try NPY.read(URL(fileURLWithPath: path)) } catch { throw InputError(file: path, message: "\(error)") }
        guard array.shape.count == 2 else { throw InputError(file: path, message: "expected a 2-D array (rows × dimensions), found shape \(array.shape)") }
        let matrix: (rows: Int, cols: Int, values: [Float])
        do {
            let m = try array.float32Matrix()
            matrix = (m.rows, m.cols, m.values)
        } catch { throw InputError(file: path, message: "\(error)") }
        guard matrix.cols > 0 else { throw InputError(file: path, message: "the vectors have no components") }
        let ids = try readIDs(idsPath)
        guard ids.count == matrix.rows else {
            throw InputError(file: idsPath, message: "\(ids.count) ids for \(matrix.rows) vectors in \(path)")
        }
        var seen = Set<String>()
        var out: [(id: String, vector: [Float])] = []
        out.reserveCapacity(matrix.rows)
        for (r, id) in ids.enumerated() {
            guard seen.insert(id).inserted else { throw InputError(file: idsPath, line: r + 1, message: "the id '\(id)' appears twice") }
            let row = Array(matrix.values[(r * matrix.cols)..<((r + 1) * matrix.cols)])
            guard row.allSatisfy(\.isFinite) else { throw InputError(file: path, message: "row \(r) holds a NaN or infinite value") }
            out.append((id, row))
        }
        return out
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
