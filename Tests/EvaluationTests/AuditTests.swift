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

    private func audit(_ parts: [(scores: [Double], labels: [Bool], groups: [String])], tolerance: Double, minGroupSize: Int = 0) throws -> GroupAudit {
        let pairs = try ScoredPairs(scores: parts.flatMap(\.scores), labels: parts.flatMap(\.labels), groups: parts.flatMap(\.groups))
        return try GroupAudit(pairs: pairs, threshold: 0.5, direction: .higherIsSame, tolerance: tolerance, minGroupSize: minGroupSize)
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
    @Test("the summary names the pair it flags, with that pair's gap, even when another pair's gap is larger")
    func reportedPairIsTheFlaggedOne() throws {
        // c (one different pair, falsely accepted) has the highest FAR, but its interval [0.21, 1]
        // overlaps a's [0.188, 0.212] and b's: the largest gap is c vs a, the flagged pair b vs a.
        let a = try audit([group("a", n: 4000, far: 0.20, frr: 0.05), group("b", n: 4000, far: 0.30, frr: 0.05),
                           group("c", n: 1, far: 1.0, frr: 0.0)], tolerance: 0.02)
        #expect(a.farGap.status == .flagged)
        #expect(a.farGap.highestGroup == "c")
        #expect(a.farGap.reportedPair == GroupAudit.GroupPair(high: "b", low: "a"))
        #expect(close(a.farGap.reportedGap, 0.10))
        #expect(close(a.farGap.largest, 0.80))
    }

    @Test("groups below the minimum size are reported but neither compared nor flagged; rows come sorted by gap")
    func minimumGroupSize() throws {
        let parts = [group("a", n: 4000, far: 0.02, frr: 0.05), group("b", n: 4000, far: 0.03, frr: 0.05),
                     group("tiny", n: 30, far: 0.9, frr: 0.9), group("d", n: 4000, far: 0.12, frr: 0.05)]
        let all = try audit(parts, tolerance: 0.02)
        #expect(all.farGap.highestGroup == "tiny")
        let a = try audit(parts, tolerance: 0.02, minGroupSize: 100)
        #expect(a.rows.count == 4)
        #expect(a.rows.first { $0.group == "tiny" }?.small == true)
        #expect(a.rows.filter(\.small).count == 1)
        #expect(a.farGap.highestGroup == "d" && a.farGap.lowestGroup == "a")
        #expect(a.farGap.reportedPair == GroupAudit.GroupPair(high: "d", low: "a"))
        #expect(a.frrGap.status == .ok, "tiny's FRR of 90% is not compared")
        #expect(a.rowsByGap.map(\.group) == ["d", "b", "a", "tiny"])
        #expect(throws: EvaluationError.self) { try audit(parts, tolerance: 0.02, minGroupSize: -1) }
    }
}
