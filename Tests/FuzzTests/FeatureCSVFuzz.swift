import FileSupport
import Foundation
import Siamese
import Testing

/// The feature CSV reader (`FeatureCSV.read` for training, `readFeatures` for embedding with a
/// saved model's columns).
struct FeatureCSVTarget: FuzzTarget {
    let name = "feature-csv"
    let quickIterations = 2500
    let directory = Fuzz.scratch("feature-csv")

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.rng.chance(0.7) ? m.csv(seed, pool: pool) : m.bytes(seed, pool: pool, dictionary: [",", "\"", "\n", "label", "NaN"])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let url = Fuzz.write(input, to: directory.appendingPathComponent("features.csv"))
        let table: FeatureCSV.Table
        do { table = try FeatureCSV.read(url, labelColumn: "label") } catch { return Self.judge(error, url) }
        let d = table.dataset
        guard d.features.shape == [d.labels.count, table.featureColumns.count], !table.featureColumns.isEmpty else {
            return .violation("features \(d.features.shape) for \(d.labels.count) labels and \(table.featureColumns.count) columns")
        }
        guard d.features.allFinite, d.labels.allSatisfy({ $0 >= 0 && $0 < d.classNames.count }) else {
            return .violation("non-finite features or a label outside the \(d.classNames.count) classes")
        }
        // Embedding reads the columns saved with the model; a header naming a column twice made
        // them ambiguous (issue 12, finding 5: FeatureCSV duplicate columns, fixed on the files branch).
        if Set(table.featureColumns).count != table.featureColumns.count || table.featureColumns.contains("label") {
            return .violation("a header naming a column twice was accepted (issue 12, finding 5)")
        }
        do {
            let again = try FeatureCSV.readFeatures(url, columns: table.featureColumns)
            guard again.shape == d.features.shape, again.scalars == d.features.scalars else {
                return .violation("readFeatures gives \(again.shape), read gave \(d.features.shape) or other values")
            }
        } catch {
            return .violation("read accepted the file but readFeatures refused it: \(error)")
        }
        return .accepted
    }

    /// A refusal is fine when it is the reader's own error and names the file.
    static func judge(_ error: any Error, _ url: URL) -> FuzzOutcome {
        switch error {
        case let e as InputError:
            return e.file == url.path ? .rejected(kind: "InputError") : .violation("error names \(e.file), not the file: \(e)")
        case is SamplingError: return .rejected(kind: "SamplingError")
        default: return .violation("unexpected error type \(type(of: error)): \(error)")
        }
    }
}

@Suite("fuzz: feature CSV", .serialized) struct FeatureCSVFuzz {
    @Test("corpus replay, then mutated CSV: accepted with consistent shapes, or an InputError")
    func fuzz() async throws { try await Fuzz.run(FeatureCSVTarget()) }
}
