import ArgumentParser
import FileSupport
import Foundation
import Siamese
import Tensors

/// What `siamese train` trains on: labelled items (pairs and triplets are sampled from the labels)
/// or pairs and triplets given one by one.
enum TrainingData {
    case labelled(FeatureDataset, columns: [String], image: ImageShape?)
    case pairs(PairDataset, columns: [String])
    case triplets(TripletDataset, columns: [String])

    /// The size of an image input, when the data are images (IDX, an image folder).
    struct ImageShape: Equatable {
        var channels: Int, height: Int, width: Int
    }

    var featureCount: Int {
        switch self {
        case .labelled(let d, _, _): d.featureCount
        case .pairs(let d, _): d.featureCount
        case .triplets(let d, _): d.featureCount
        }
    }

    var columns: [String] {
        switch self {
        case .labelled(_, let c, _), .pairs(_, let c), .triplets(_, let c): c
        }
    }

    var imageShape: ImageShape? {
        if case .labelled(_, _, let shape) = self { return shape }
        return nil
    }
}

/// The options that say where the training data are and in which format.
struct TrainDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Training data, by extension: .csv labelled feature rows (or pre-built pairs with --pairs); \
        .jsonl pairs {"a":[…],"b":[…],"label":1} or triplets {"anchor":[…],"positive":[…],"negative":[…]}; \
        .npy features with --labels; an IDX image file with --labels; a folder with one subfolder of PGM/PPM, PNG or JPEG images per class.
        """, valueName: "path"))
    var data: String?

    @Option(help: "Name of the class-label column (labelled CSV) or of the same/different column (--pairs).") var labelColumn = "label"
    @Flag(help: "The CSV holds pre-built pairs: feature columns a_* and b_* and a same/different label column.") var pairs = false
    @Option(help: "Prefix of the first item's columns in a pair CSV.") var leftPrefix = "a_"
    @Option(help: "Prefix of the second item's columns in a pair CSV.") var rightPrefix = "b_"
    @Option(help: ArgumentHelp("Labels for .npy or IDX --data: an int .npy, a text file (one label per line) or an IDX label file.", valueName: "path"))
    var labels: String?
    @Option(help: ArgumentHelp("MNIST IDX image file (e.g. train-images-idx3-ubyte), instead of --data.", valueName: "path"))
    var idxImages: String?
    @Option(help: ArgumentHelp("MNIST IDX label file (e.g. train-labels-idx1-ubyte), with --idx-images.", valueName: "path"))
    var idxLabels: String?

    func validate() throws {
        guard (data != nil) != (idxImages != nil) else { throw ValidationError("give --data PATH or --idx-images FILE --idx-labels FILE (one of them)") }
        if (idxImages != nil) != (idxLabels != nil) { throw ValidationError("--idx-images and --idx-labels go together") }
    }

    /// The file or folder named by the options, for messages.
    var source: String { data ?? idxImages ?? "" }

    /// Reads the data; every malformed input throws an error naming the file and line (or byte).
    /// `pairScores`: a pair CSV's label column holds similarity scores rather than same/different.
    func load(pairScores: Bool = false) throws -> TrainingData {
        if let idxImages, let idxLabels {
            return labelledImages(try IDX.read(images: URL(fileURLWithPath: idxImages), labels: URL(fileURLWithPath: idxLabels)))
        }
        let path = data!
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, message: "no such file or folder")
        }
        if isDirectory.boolValue { return labelledImages(try ImageFolder.read(url)) }
        if pairs && url.pathExtension.lowercased() != "csv" { throw ValidationError("--pairs reads a CSV file; \(path) is not .csv") }
        if Self.isIDXImageFile(url) {
            guard let labels else { throw ValidationError("\(path) is an IDX image file: give its label file with --labels") }
            return labelledImages(try IDX.read(images: url, labels: URL(fileURLWithPath: labels)))
        }
        switch url.pathExtension.lowercased() {
        case "csv":
            if pairs {
                let table = try PairCSV.read(url, leftPrefix: leftPrefix, rightPrefix: rightPrefix, labelColumn: labelColumn,
                                             targets: pairScores ? .score : .sameDifferent)
                return .pairs(table.dataset, columns: table.leftColumns.map { String($0.dropFirst(leftPrefix.count)) })
            }
            let table = try FeatureCSV.read(url, labelColumn: labelColumn)
            return .labelled(table.dataset, columns: table.featureColumns, image: nil)
        case "jsonl", "ndjson":
            if try Self.jsonlHoldsTriplets(url) {
                let triplets = try JSONLines.readTriplets(url)
                return .triplets(triplets, columns: Self.genericColumns(triplets.featureCount))
            }
            let pairs = try JSONLines.readPairs(url)
            return .pairs(pairs, columns: Self.genericColumns(pairs.featureCount))
        case "npy":
            guard let labels else { throw ValidationError("\(path) is a .npy feature matrix: give its labels with --labels (int .npy or text, one per line)") }
            let dataset = try NPYData.read(features: url, labels: URL(fileURLWithPath: labels))
            return .labelled(dataset, columns: Self.genericColumns(dataset.featureCount), image: nil)
        default:
            throw ValidationError("--data \(path): unknown format (expected .csv, .jsonl, .npy, an IDX image file or a folder of class subfolders)")
        }
    }

    private func labelledImages(_ images: ImageDataset) -> TrainingData {
        .labelled(images.dataset, columns: Self.genericColumns(images.dataset.featureCount),
                  image: .init(channels: images.channels, height: images.height, width: images.width))
    }

    /// Names `f0, f1, …` for inputs without column names, so `siamese embed` can read CSVs for the model.
    static func genericColumns(_ n: Int) -> [String] { (0..<n).map { "f\($0)" } }

    /// True when the file is an IDX image file: the magic `00 00 08 03`, or gzipped (``IDX/isImageFile(_:)``).
    static func isIDXImageFile(_ url: URL) -> Bool {
        IDX.isImageFile(url)
    }

    /// Whether a JSONL file holds triplets (its first record has an `anchor` and a `negative`) or
    /// pairs; a first line that is not JSON is left for the pair reader to report with its line.
    static func jsonlHoldsTriplets(_ url: URL) throws -> Bool {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw InputError(file: url.path, message: "cannot read as UTF-8 text: \(error.localizedDescription)")
        }
        guard let first = text.split(whereSeparator: \.isNewline).first(where: { !$0.allSatisfy(\.isWhitespace) }),
              let object = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any] else { return false }
        return object["anchor"] != nil && object["negative"] != nil
    }
}
