import Evaluation
import FileSupport
import Foundation
import Testing

/// The scored-pairs CSV reader (`evaluate`, `calibrate`, `report`), and the report computed from
/// what it accepts: the crashes found in this area were downstream of the reader.
struct ScoredPairsCSVTarget: FuzzTarget {
    let name = "scored-pairs-csv"
    let quickIterations = 2500

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.rng.chance(0.7) ? m.csv(seed, pool: pool) : m.bytes(seed, pool: pool, dictionary: [",", "\"", "\n", "score", "label", "group"])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        var outcome = FuzzOutcome.rejected(kind: "InputError")
        for columns in [ScoredPairsCSV.Columns(), ScoredPairsCSV.Columns(group: "group")] {
            let pairs: ScoredPairs
            do { pairs = try ScoredPairsCSV.parse(Data(input), file: "pairs.csv", columns: columns) } catch {
                guard error.file == "pairs.csv" else { return .violation("error names \(error.file): \(error)") }
                continue
            }
            outcome = .accepted
            guard pairs.scores.count == pairs.labels.count, pairs.count > 0, pairs.scores.allSatisfy(\.isFinite) else {
                return .violation("\(pairs.scores.count) scores, \(pairs.labels.count) labels, or a non-finite score")
            }
            if let g = pairs.groupIndices {
                guard g.count == pairs.count, g.allSatisfy({ $0 >= 0 && Int($0) < pairs.groupNames.count }) else { return .violation("group index out of range") }
            }
            if let problem = report(pairs) { return problem }
        }
        return outcome
    }

    /// Runs the verification report (curve, threshold, bootstrap, histogram, audit) on accepted pairs.
    func report(_ pairs: ScoredPairs) -> FuzzOutcome? {
        guard pairs.genuineCount > 0, pairs.impostorCount > 0 else { return nil }
        // Issue 12, finding 5: the histogram width overflows on finite but huge scores (files branch).
        let options = VerificationReport.Options(bootstrap: BootstrapOptions(replicates: 20))
        do {
            let r = try VerificationReport.evaluate(pairs, options: options)
            guard r.pairCount == pairs.count, r.histogram.genuine.reduce(0, +) == pairs.genuineCount,
                  r.histogram.impostor.reduce(0, +) == pairs.impostorCount else {
                return .violation("report counts do not add up to the pairs read")
            }
        } catch is EvaluationError {} catch is ThresholdUnreachable {} catch {
            return .violation("report failed with \(type(of: error)): \(error)")
        }
        return nil
    }
}

@Suite("fuzz: scored-pairs CSV") struct ScoredPairsCSVFuzz {
    @Test("corpus replay, then mutated CSV: pairs and a report, or an InputError")
    func fuzz() async throws { try await Fuzz.run(ScoredPairsCSVTarget()) }
}
