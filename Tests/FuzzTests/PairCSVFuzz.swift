import FileSupport
import Foundation
import Siamese
import Testing

/// The pair CSV reader (`PairCSV.read`: prefixed column groups, same/different or score targets).
struct PairCSVTarget: FuzzTarget {
    let name = "pair-csv"
    let quickIterations = 2500
    let directory = Fuzz.scratch("pair-csv")

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.rng.chance(0.7) ? m.csv(seed, pool: pool) : m.bytes(seed, pool: pool, dictionary: [",", "\"", "\n", "a_", "b_", "label", "same"])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let url = Fuzz.write(input, to: directory.appendingPathComponent("pairs.csv"))
        // Both target kinds: the label parser differs.
        var outcome = FuzzOutcome.rejected(kind: "InputError")
        for targets in [PairCSV.Targets.sameDifferent, .score] {
            let table: PairCSV.Table
            do { table = try PairCSV.read(url, targets: targets) } catch {
                let judged = FeatureCSVTarget.judge(error, url)
                if case .violation = judged { return judged }
                if case .rejected = outcome { outcome = judged }
                continue
            }
            outcome = .accepted
            let d = table.dataset
            guard d.left.shape == d.right.shape, d.left.shape == [d.labels.count, table.leftColumns.count],
                  table.leftColumns.count == table.rightColumns.count else {
                return .violation("left \(d.left.shape), right \(d.right.shape), \(d.labels.count) labels, columns \(table.leftColumns) / \(table.rightColumns)")
            }
            guard d.left.allFinite, d.right.allFinite, d.labels.allSatisfy(\.isFinite) else { return .violation("non-finite values accepted") }
            if targets == .sameDifferent, !d.labels.allSatisfy({ $0 == 0 || $0 == 1 }) { return .violation("a same/different target other than 0 or 1") }
            // Explicitly named columns read the same pairs.
            do {
                let again = try PairCSV.read(url, leftColumns: table.leftColumns, rightColumns: table.rightColumns, labelColumn: "label", targets: targets)
                guard again.dataset.left.scalars == d.left.scalars, again.dataset.right.scalars == d.right.scalars, again.dataset.labels == d.labels else {
                    return .violation("reading by column names gives other pairs than reading by prefix")
                }
            } catch { return .violation("read by prefix accepted the file, read by names refused it: \(error)") }
        }
        return outcome
    }
}

@Suite("fuzz: pair CSV") struct PairCSVFuzz {
    @Test("corpus replay, then mutated CSV: consistent pairs, or an InputError")
    func fuzz() async throws { try await Fuzz.run(PairCSVTarget()) }
}
