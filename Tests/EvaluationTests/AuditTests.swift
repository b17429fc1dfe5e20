import Evaluation
import Testing

@Suite("Per-group audit")
struct AuditTests {
    @Test("per-group FAR/FRR and Wilson intervals at the global threshold equal the reference")
    func reference() throws {
        let (pairs, curve, reference) = try ReferenceSet(name: "continuous").load()
        let expected = try #require(reference.object("groups_at_eer_threshold"))
        let threshold = curve.equalErrorRate().threshold
        let audit = try GroupAudit(pairs: pairs, threshold: threshold, direction: .higherIsSame, tolerance: 0.05)
        #expect(audit.rows.map(\.group).sorted() == expected.keys.sorted())
        for row in audit.rows {
            let e = try #require(expected.object(row.group))
            let counts = try #require(e.object("counts"))
            #expect(row.counts.falsePositives == counts.int("fp") && row.counts.falseNegatives == counts.int("fn"))
            #expect(close(row.far, e.double("far")) && close(row.frr, e.double("frr")))
            let farCI = e.doubles("far_ci"), frrCI = e.doubles("frr_ci")
            #expect(close(row.farInterval?.lower, farCI[0]) && close(row.farInterval?.upper, farCI[1]))
            #expect(close(row.frrInterval?.lower, frrCI[0]) && close(row.frrInterval?.upper, frrCI[1]))
        }
        let fars = audit.rows.compactMap(\.far)
        #expect(close(audit.farGap.largest, fars.max()! - fars.min()!))
    }

    /// Scores for one group: `n` same pairs of which `frr·n` fall below 0.5, and `n` different pairs of
    /// which `far·n` rise above it.
    private func group(_ name: String, n: Int, far: Double, frr: Double) -> (scores: [Double], labels: [Bool], groups: [String]) {
        let falseRejects = Int((frr * Double(n)).rounded()), falseAccepts = Int((far * Double(n)).rounded())
        let genuine = (0..<n).map { $0 < falseRejects ? 0.2 : 0.8 }
        let impostor = (0..<n).map { $0 < falseAccepts ? 0.8 : 0.2 }
        return (genuine + impostor, Array(repeating: true, count: n) + Array(repeating: false, count: n), Array(repeating: name, count: 2 * n))
    }

    private func audit(_ parts: [(scores: [Double], labels: [Bool], groups: [String])], tolerance: Double) throws -> GroupAudit {
        let pairs = try ScoredPairs(scores: parts.flatMap(\.scores), labels: parts.flatMap(\.labels), groups: parts.flatMap(\.groups))
        return try GroupAudit(pairs: pairs, threshold: 0.5, direction: .higherIsSame, tolerance: tolerance)
    }

    @Test("a large gap between large groups is flagged")
    func flagged() throws {
        let a = try audit([group("a", n: 2000, far: 0.02, frr: 0.05), group("b", n: 2000, far: 0.10, frr: 0.05)], tolerance: 0.02)
        #expect(a.farGap.status == .flagged)
        #expect(a.farGap.flaggedPair?.high == "b" && a.farGap.flaggedPair?.low == "a")
        #expect(close(a.farGap.largest, 0.08))
        #expect(a.frrGap.status == .ok)
        #expect(a.flagged)
    }

    @Test("the same gap in small groups is inconclusive, not bias")
    func noise() throws {
        let a = try audit([group("a", n: 20, far: 0.05, frr: 0.05), group("b", n: 20, far: 0.15, frr: 0.05)], tolerance: 0.02)
        #expect(a.farGap.status == .inconclusive)
        #expect(a.farGap.flaggedPair == nil)
        #expect(!a.flagged)
    }

    @Test("a gap within the tolerance is ok even when significant")
    func tolerated() throws {
        let a = try audit([group("a", n: 50_000, far: 0.02, frr: 0.05), group("b", n: 50_000, far: 0.03, frr: 0.05)], tolerance: 0.02)
        #expect(a.farGap.status == .ok)
        #expect(!a.flagged)
    }

    @Test("pairs without groups, and a negative tolerance, are errors")
    func errors() throws {
        let pairs = try ScoredPairs(scores: [0.1, 0.9], labels: [false, true])
        #expect(throws: EvaluationError.self) { try GroupAudit(pairs: pairs, threshold: 0.5, direction: .higherIsSame, tolerance: 0.01) }
        let grouped = try ScoredPairs(scores: [0.1, 0.9], labels: [false, true], groups: ["x", "x"])
        #expect(throws: EvaluationError.self) { try GroupAudit(pairs: grouped, threshold: 0.5, direction: .higherIsSame, tolerance: -1) }
    }
}
