import Evaluation
import FileSupport
import Foundation
import Siamese
import Tensors
import TextEncoders

/// A model folder loaded once to score many pairs: a sentence-transformers folder (cosine of the
/// two texts' embeddings, higher is same) or a Siamese model folder (its own distance or head).
struct PairScorer {
    private enum Model {
        case text(SentenceTransformer)
        case siamese(SiameseNetwork, columns: [String])
    }

    private let model: Model
    /// Which way the scores point.
    let direction: ScoreDirection
    /// "sentence-transformers" or "siamese".
    let kind: String

    /// Loads `folder` (a folder with modules.json is a text model; one with siamese.json a Siamese model).
    init(folder: URL) throws {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("modules.json").path) {
            model = .text(try SentenceTransformer(folder: folder))
            (direction, kind) = (.higherIsSame, "sentence-transformers")
        } else {
            let (network, config) = try ModelFolder(folder).load()
            let columns = config.featureColumns ?? (0..<config.encoder.inputFeatures).map { "f\($0)" }
            model = .siamese(network, columns: columns)
            (direction, kind) = (network.higherScoreMeansSame ? .higherIsSame : .lowerIsSame, "siamese")
        }
    }

    /// The score of every pair, in order. For a Siamese model each input is an inline JSON array or
    /// a .csv/.npy/.json file; a relative file name is looked up beside the pairs file first.
    func scores(_ pairs: [PairRecord], pairsFile: String, int8: Bool = false) throws -> [Double] {
        switch model {
        case .text(let encoder):
            return Self.textScores(encoder, pairs, int8: int8)
        case .siamese(let network, let columns):
            let n = columns.count
            let base = URL(fileURLWithPath: pairsFile).deletingLastPathComponent()
            var a = [Float](), b = [Float]()
            a.reserveCapacity(pairs.count * n)
            b.reserveCapacity(pairs.count * n)
            for p in pairs {
                a += try features(p.a, line: p.line, column: "a", columns: columns, base: base, pairsFile: pairsFile)
                b += try features(p.b, line: p.line, column: "b", columns: columns, base: base, pairsFile: pairsFile)
            }
            var out: [Double] = []
            out.reserveCapacity(pairs.count)
            let batch = 1024
            var start = 0
            while start < pairs.count {
                let m = min(batch, pairs.count - start)
                let s = withoutGradients {
                    network.score(Tensor(shape: [m, n], Array(a[start * n..<(start + m) * n])),
                                  Tensor(shape: [m, n], Array(b[start * n..<(start + m) * n])))
                }
                out += s.scalars.map(Double.init)
                start += m
            }
            return out
        }
    }

    /// Cosine similarities of text pairs under `encoder` (in inference mode); each distinct text
    /// is embedded once, since pair files repeat their texts a lot.
    static func textScores(_ encoder: SentenceTransformer, _ pairs: [PairRecord], int8: Bool = false) -> [Double] {
        var index: [String: Int] = [:], unique: [String] = []
        for p in pairs {
            for t in [p.a, p.b] where index[t] == nil {
                index[t] = unique.count
                unique.append(t)
            }
        }
        let wasTraining = encoder.isTraining
        encoder.isTraining = false
        defer { encoder.isTraining = wasTraining }
        let e = encoder.encode(unique, batchSize: 64, precision: int8 ? .int8 : .float32).scalars
        let d = encoder.dimension
        return pairs.map { p in cosine(e, index[p.a]! * d, index[p.b]! * d, d) }
    }

    private func features(_ cell: String, line: Int, column: String, columns: [String], base: URL, pairsFile: String) throws -> [Float] {
        var argument = cell
        if !cell.hasPrefix("["), !cell.hasPrefix("/"),
           FileManager.default.fileExists(atPath: base.appendingPathComponent(cell).path) {
            argument = base.appendingPathComponent(cell).path
        }
        do {
            return try VerifyInput.features(argument, option: "the input", columns: columns)
        } catch let error as InputError {
            // Named by the pairs file's line and column; the inner error names the input's own file, if any.
            throw InputError(file: pairsFile, line: line, field: column, message: error.file == "the input" ? error.message : error.description)
        }
    }

    private static func cosine(_ e: [Float], _ i: Int, _ j: Int, _ d: Int) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for k in 0..<d {
            let x = Double(e[i + k]), y = Double(e[j + k])
            dot += x * y
            na += x * x
            nb += y * y
        }
        // Clamped: rounding can carry a cosine of identical texts a hair past 1.
        return min(1, max(-1, dot / max(1e-12, (na * nb).squareRoot())))
    }
}
