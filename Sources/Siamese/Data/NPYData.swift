import FileSupport
import Foundation
import NPY
import Tensors

/// Datasets from NumPy `.npy` arrays, as saved by `np.save`.
///
/// Features are a 2-D float32 or float64 array `[items, features]` (float64 is narrowed to
/// Float32). Labels are either a 1-D integer `.npy` (int64 or int32) or a text file with one label
/// per line; which one is decided by the file's first bytes, not its name. Array errors are
/// ``NPYError``s naming the file; count mismatches and non-finite values are ``InputError``s
/// naming the file and the row (or line).
public enum NPYData {
    /// Labelled features: row `i` of `features` has label line (or element) `i`. Classes are
    /// numbered like ``FeatureCSV``'s: sorted numerically when every label is an integer.
    public static func read(features: URL, labels: URL) throws -> FeatureDataset {
        let matrix = try readMatrix(features)
        let texts = try readLabels(labels)
        guard texts.count == matrix.shape[0] else {
            throw InputError(file: labels.path, message: "\(texts.count) labels, but \(features.path) has \(matrix.shape[0]) rows")
        }
        let (numbers, names) = ClassNumbering.number(texts)
        return try FeatureDataset(features: matrix, labels: numbers, classNames: names)
    }

    /// Pre-built pairs: row `i` of `left` with row `i` of `right`, and target `i` of `labels` (a 1-D
    /// numeric `.npy`, or a text file with one `1`/`0`/`same`/`different` per line).
    public static func readPairs(left: URL, right: URL, labels: URL) throws -> PairDataset {
        let a = try readMatrix(left), b = try readMatrix(right)
        guard a.shape == b.shape else {
            throw InputError(file: right.path, message: "shape \(b.shape) differs from \(left.path)'s \(a.shape)")
        }
        let texts = try readLabels(labels)
        guard texts.count == a.shape[0] else {
            throw InputError(file: labels.path, message: "\(texts.count) labels, but \(left.path) has \(a.shape[0]) rows")
        }
        var targets: [Float] = []
        targets.reserveCapacity(texts.count)
        for (i, text) in texts.enumerated() {
            guard let t = PairLabel.parse(text) else {
                throw InputError(file: labels.path, line: i + 1, field: "label", message: "'\(text)' is not a pair label: expected \(PairLabel.accepted)")
            }
            targets.append(t)
        }
        return try PairDataset(left: a, right: b, labels: targets)
    }

    /// Pre-built triplets from three `[triplets, features]` arrays of one shape.
    public static func readTriplets(anchor: URL, positive: URL, negative: URL) throws -> TripletDataset {
        let a = try readMatrix(anchor), p = try readMatrix(positive), n = try readMatrix(negative)
        for (url, m) in [(positive, p), (negative, n)] where m.shape != a.shape {
            throw InputError(file: url.path, message: "shape \(m.shape) differs from \(anchor.path)'s \(a.shape)")
        }
        return try TripletDataset(anchor: a, positive: p, negative: n)
    }

    /// A 2-D float array as a `[rows, cols]` tensor; a 1-D array is refused (ambiguous: one
    /// feature per item, or one item?), as is any non-finite value.
    public static func readMatrix(_ url: URL) throws -> Tensor {
        let array = try NPY.read(url)
        guard array.shape.count == 2 else {
            throw InputError(file: url.path, message: "features must be a 2-D array [items, features], found shape \(array.shape)")
        }
        let values: [Float]
        do { values = try array.float32Matrix().values } catch var e {
            e.file = url.path
            throw e
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let cols = array.shape[1]
            throw InputError(file: url.path, field: "row \(bad / cols), column \(bad % cols)",
                             message: "\(values[bad]) is not a finite Float32 (rows and columns count from 0)")
        }
        return Tensor(shape: array.shape, values)
    }

    /// Labels as text, from a 1-D integer `.npy` or a text file with one label per line.
    static func readLabels(_ url: URL) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        if data.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
            let array: NPYArray
            do { array = try NPY.decode(data) } catch var e {
                e.file = url.path
                throw e
            }
            guard array.shape.count == 1 else {
                throw InputError(file: url.path, message: "labels must be a 1-D array, found shape \(array.shape)")
            }
            do { return try array.int64Values().map(String.init) } catch var e {
                e.file = url.path
                throw e
            }
        }
        return try labelLines(data, file: url.path)
    }

    /// One label per line. A trailing newline is fine; blank lines and surrounding spaces are errors
    /// because they almost always mean the file is out of step with the array rows.
    static func labelLines(_ data: Data, file: String) throws -> [String] {
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: file, message: "not UTF-8 text") }
        // "\r\n" is one Character in Swift, so both line endings are named.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw InputError(file: file, message: "empty: expected one label per line") }
        return try lines.enumerated().map { i, line in
            guard !line.isEmpty else { throw InputError(file: file, line: i + 1, field: "label", message: "empty label") }
            guard line.trimmingCharacters(in: .whitespaces) == line else {
                throw InputError(file: file, line: i + 1, field: "label", message: "'\(line)' has leading or trailing spaces")
            }
            return String(line)
        }
    }
}
