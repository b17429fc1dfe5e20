import ArgumentParser
import EmbeddingStore
import Foundation
import NPY
import PostgresStore
import Tensors
import VectorIndex

// `siamese index …`, `siamese search`, `siamese dedupe`, `siamese cluster`: the vector index
// from a shell. Exit status: 0 success, 1 a failure with the input or output files (the message
// on stderr names the file), 2 a usage error.

// Helpers shared by the index commands (`siamese index …`, `search`, `dedupe`, `cluster`): the
// error that names a file, vector and id readers, and loading any index file by its kind.

/// A failure that names the file it concerns; printed on stderr, exit status 1.
struct IndexCLIError: Error, CustomStringConvertible {
    let file: String
    let message: String
    var description: String { "\(file): \(message)" }
}

/// Prints `error: …` on stderr and leaves with status 1.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}

/// A usage problem: ArgumentParser prints it with the command's usage line, and the `siamese`
/// entry point exits with status 2 for it.
func usage(_ message: String, _ command: String) -> ValidationError { ValidationError(message) }

func note(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

func runCatching(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode { throw e } catch { throw fail(error) }
}

/// Every vector of a SQLite embedding store, with the item ids in the same order (a PostgreSQL
/// store is mined inside the database instead: `DedupePostgres.swift`).
func storeVectors(_ path: String) throws -> ((rows: Int, dimension: Int, values: [Float]), [String]) {
    guard FileManager.default.fileExists(atPath: path) else { throw IndexCLIError(file: path, message: "no such store") }
    let store = try EmbeddingStore(path: path)
    var ids: [String] = [], values: [Float] = []
    var last: Int64?
    while true {
        let page = try store.items(after: last, limit: 4096)
        guard let end = page.last else { break }
        for (_, item) in page {
            ids.append(item.id)
            values += item.vector
        }
        last = end.label
    }
    let dimension = try store.dimension() ?? 0
    return ((ids.count, dimension, values), ids)
}

/// A `rows × dimension` float matrix from a .npy file (float32 or float64), or an error naming it.
func readVectors(_ path: String) throws -> (rows: Int, dimension: Int, values: [Float]) {
    let array: NPYArray
    do { array = try NPY.read(URL(fileURLWithPath: path)) } catch { throw IndexCLIError(file: path, message: withoutFile(error)) }
    guard array.shape.count == 2 else { throw IndexCLIError(file: path, message: "expected a 2-D array (rows × dimensions), found shape \(array.shape)") }
    // Before anything is sized from it: an empty (0, 10^17) array is a valid .npy of 128 bytes.
    guard array.shape[1] <= IndexFileFormat.maximumDimension else {
        throw IndexCLIError(file: path, message: "vectors have \(array.shape[1]) components; an index holds at most \(IndexFileFormat.maximumDimension)")
    }
    do {
        let m = try array.float32Matrix()
        guard m.cols > 0 else { throw IndexCLIError(file: path, message: "vectors have no components") }
        return (m.rows, m.cols, m.values)
    } catch let e as IndexCLIError { throw e } catch { throw IndexCLIError(file: path, message: "\(error)") }
}

/// An NPY error's message without its file: the reader names the file by its absolute path, and
/// the CLI error names it as the user typed it (printing both gave "x.npy: /dir/x.npy: …").
func withoutFile(_ error: Error) -> String {
    guard var e = error as? NPYError else { return "\(error)" }
    e.file = nil
    return "\(e)"
}

/// Ids from a 1-D int64/int32 .npy file or a text file with one integer per line.
func readIDs(_ path: String) throws -> [UInt64] {
    try numericIDs(StoreVectorsInput.readIDs(path), file: path, orExplain: nil)
}

/// The ids as numbers, or an error naming the first that is not one (`explain`, when given, says
/// what to do instead).
func numericIDs(_ ids: [String], file: String, orExplain explain: String?) throws -> [UInt64] {
    try ids.enumerated().map { i, s in
        guard let v = UInt64(s) else {
            throw IndexCLIError(file: file, message: "line \(i + 1): '\(s)' is not a non-negative integer id" + (explain.map { "; \($0)" } ?? ""))
        }
        return v
    }
}

/// String ids for new vectors: labels from `first` on, each name checked against `names`
/// (which gains them); an error names the line of a repeated, empty or overlong id.
func nameIDs(_ ids: [String], first: UInt64, into names: inout IndexNames, file: String) throws -> [UInt64] {
    try ids.enumerated().map { i, name in
        let label = first + UInt64(i)
        if let problem = names.problem(with: name, label: label) { throw IndexCLIError(file: file, message: "line \(i + 1): \(problem)") }
        names.insert(name, label: label)
        return label
    }
}

/// The first label free for new named vectors: after every label named or present.
func nextLabel(_ names: IndexNames, _ ids: [UInt64]) -> UInt64 {
    max(names.largestLabel.map { $0 + 1 } ?? 0, ids.max().map { $0 + 1 } ?? 0)
}

func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }

func writeText(_ text: String, to path: String) throws {
    // The durable writer (fsync of file and folder, then rename), as every file a user keeps.
    do throws(DurableWriteError) { try AtomicFile.write(Data(text.utf8), to: path) } catch {
        throw IndexCLIError(file: path, message: "cannot write: \(error.reason)")
    }
}

/// A JSON number for a score (finite, shortest round-trip form).
func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }

/// Any index file, loaded according to its header.
enum AnyIndex {
    case exact(ExactIndex)
    case hnsw(HNSWIndex)
    case int8(ScalarQuantizedIndex)
    case binary(BinaryQuantizedIndex)

    static func load(_ path: String, verify: Bool = true) throws -> AnyIndex {
        let options = IndexLoadOptions(verifyChecksums: verify)
        let info = try IndexFileInfo.read(path: path)
        switch info.kind {
        case .exact: return .exact(try ExactIndex.load(from: path, options: options))
        case .hnsw: return .hnsw(try HNSWIndex.load(from: path, options: options))
        case .scalarQuantized: return .int8(try ScalarQuantizedIndex.load(from: path, options: options))
        case .binaryQuantized: return .binary(try BinaryQuantizedIndex.load(from: path, options: options))
        }
    }

    /// The ids of the live vectors.
    var ids: [UInt64] {
        switch self {
        case .exact(let i): i.ids
        case .hnsw(let i): i.ids
        case .int8(let i): i.ids
        case .binary(let i): i.ids
        }
    }

    var dimension: Int {
        switch self {
        case .exact(let i): i.dimension
        case .hnsw(let i): i.dimension
        case .int8(let i): i.dimension
        case .binary(let i): i.dimension
        }
    }
}
