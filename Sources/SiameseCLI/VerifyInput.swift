import FileSupport
import Foundation
import NPY
import Siamese

/// One item for `siamese verify` with a Siamese model: a feature vector in the order of the
/// model's feature columns, read from
///
/// - an inline JSON array: `'[0.1, 0.2, …]'`;
/// - a `.json` file holding such an array, or an object `{"column": value, …}` naming every
///   column the model reads (extra keys are ignored);
/// - a `.npy` file: a 1-D float array, or a 2-D array with one row;
/// - a `.csv` file: a header and exactly one data row, columns picked by name (others ignored);
/// - an image (`.png`, `.jpg`, `.jpeg`, `.pgm`, `.ppm`, `.pnm`) for a CNN model: its samples as
///   `siamese train` reads them from an image folder, converted between grayscale and RGB when
///   the model takes the other (see ``ImageFile``).
///
/// Every problem names the file (or argument), the line or field, and what was expected.
enum VerifyInput {
    static func features(_ argument: String, option: String, columns: [String]) throws -> [Float] {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") { return try fromJSON(Data(trimmed.utf8), source: option, columns: columns) }
        let url = URL(fileURLWithPath: argument)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InputError(file: argument, message: "no such file (\(option) takes a .csv, .npy, .json or image file, or an inline JSON array)")
        }
        switch url.pathExtension.lowercased() {
        case "json":
            let data: Data
            do { data = try Data(contentsOf: url) } catch { throw InputError(file: url.path, message: "cannot read: \(error.localizedDescription)") }
            return try fromJSON(data, source: url.path, columns: columns)
        case "npy":
            let matrix: (rows: Int, cols: Int, values: [Float])
            do {
                let array = try NPY.read(url)
                matrix = try array.float32Matrix()
                guard array.shape.count == 1 || array.rows == 1 else {
                    throw InputError(file: url.path, message: "holds \(array.rows) rows; \(option) takes one item (a 1-D array or one row)")
                }
            } catch let error as NPYError {
                throw InputError(file: url.path, message: error.description)
            }
            return try checked(matrix.values, count: columns.count, source: url.path)
        case "csv":
            let rows = try FeatureCSV.readFeatures(url, columns: columns)
            guard rows.shape[0] == 1 else {
                throw InputError(file: url.path, message: "holds \(rows.shape[0]) data rows; \(option) takes a file with a header and one row")
            }
            return rows.scalars
        case let ext where ImageFile.extensions.contains(ext):
            return try checked(imageSamples(try ImageFile.read(url), count: columns.count, source: url.path), count: columns.count, source: url.path)
        default:
            throw InputError(file: url.path, message: "unknown input format (expected .csv, .npy, .json, an image (.png, .jpg, .pgm, .ppm) or an inline JSON array)")
        }
    }

    /// The image's samples in the model's channel count, which is the one whose size matches.
    private static func imageSamples(_ image: PNMImage, count: Int, source: String) throws -> [Float] {
        let plane = image.width * image.height
        for channels in [image.channels, 1, 3] where channels * plane == count { return image.samples(channels: channels) }
        throw InputError(file: source, message: "image is \(image.width)×\(image.height) with \(image.channels) channel(s), but the model reads \(count) features (an image of \(count) pixels in grayscale, or \(count / 3) in RGB)")
    }

    private static func fromJSON(_ data: Data, source: String, columns: [String]) throws -> [Float] {
        // JSONDecoder, not JSONSerialization: it refuses true/false and strings where numbers belong,
        // and its coding path names the offending element.
        let decoder = JSONDecoder()
        do {
            return try checked(try decoder.decode([Double].self, from: data).map(Float.init), count: columns.count, source: source)
        } catch let error as DecodingError {
            guard let object = try? decoder.decode([String: JSONNumberOrOther].self, from: data) else { throw located(error, source) }
            let values = try columns.map { name -> Float in
                guard let v = object[name] else { throw InputError(file: source, field: name, message: "missing: the model reads this column") }
                guard case .number(let n) = v else { throw InputError(file: source, field: name, message: "not a number") }
                return Float(n)
            }
            return try checked(values, count: columns.count, source: source)
        }
    }

    /// A JSON value that is either a number or anything else (reported as "not a number").
    private enum JSONNumberOrOther: Decodable {
        case number(Double), other
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if (try? c.decode(Bool.self)) != nil { self = .other } else if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .other }
        }
    }

    private static func located(_ error: DecodingError, _ source: String) -> InputError {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined()
            return InputError(file: source, field: field.isEmpty ? nil : field, message: "not a number (expected a JSON array of numbers or an object keyed by column name)")
        default:
            return InputError(file: source, message: "not valid JSON: expected an array of numbers or an object keyed by column name")
        }
    }

    private static func checked(_ values: [Float], count: Int, source: String) throws -> [Float] {
        guard values.count == count else {
            throw InputError(file: source, message: "\(values.count) values, but the model reads \(count) features")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw InputError(file: source, field: "[\(bad)]", message: "not a finite Float32 value")
        }
        return values
    }
}
