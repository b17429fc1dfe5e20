import Core
import Evaluation
import Foundation
import Testing

/// Each committed scored-pairs set with the numbers scikit-learn computed for it.
struct ReferenceSet: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }

    static let all = ["continuous", "ties", "distance", "separated", "overlap_top"].map(ReferenceSet.init)

    func load() throws -> (pairs: ScoredPairs, curve: VerificationCurve, reference: [String: Any]) {
        let reference = try #require(try Fixture.json("verification_reference.json").object("sets")?.object(name))
        let direction = ScoreDirection(rawValue: reference["direction"] as! String)!
        let pairs = try ScoredPairsCSV.read(try Fixture.url("pairs_\(name).csv"), columns: .init(group: name == "continuous" ? "group" : nil))
        return (pairs, try VerificationCurve(pairs, direction: direction), reference)
    }
}

@Suite("Verification metrics against scikit-learn")
struct VerificationTests {
    @Test("ROC curve equals roc_curve(drop_intermediate=False), ties included", arguments: ReferenceSet.all)
    func roc(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        let expected = try #require(reference.object("roc"))
        let roc = curve.roc()
        #expect(roc.far.count == expected.doubles("far").count)
        #expect(zip(roc.far, expected.doubles("far")).allSatisfy { close($0, $1, 1e-15) })
        #expect(zip(roc.tar, expected.doubles("tar")).allSatisfy { close($0, $1, 1e-15) })
        // The first threshold is infinite (JSON null); the rest are the distinct scores.
        #expect(roc.thresholds[0].isInfinite && expected.doubles("thresholds")[0] == nil)
        #expect(zip(roc.thresholds.dropFirst(), expected.doubles("thresholds").dropFirst()).allSatisfy { $0 == $1 })
    }

    @Test("AUC equals roc_auc_score and AP equals average_precision_score", arguments: ReferenceSet.all)
    func aucAndAP(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        #expect(close(curve.auc(), reference.double("auc"), 1e-14))
        #expect(close(curve.averagePrecision(), reference.double("average_precision"), 1e-12))
    }

    @Test("interpolated EER equals a root finder on the ROC; threshold follows the minimax rule", arguments: ReferenceSet.all)
    func eer(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        let eer = curve.equalErrorRate()
        #expect(close(eer.rate, reference.double("eer"), 1e-10))
        #expect(eer.threshold == reference.double("eer_threshold"))
    }

    @Test("DET points equal det_curve", arguments: ReferenceSet.all)
    func det(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        let expected = try #require(reference.object("det"))
        let det = curve.detCurve()
        #expect(det.far.count == expected.doubles("far").count)
        #expect(zip(det.far, expected.doubles("far")).allSatisfy { close($0, $1, 1e-15) })
        #expect(zip(det.frr, expected.doubles("frr")).allSatisfy { close($0, $1, 1e-15) })
        #expect(zip(det.thresholds, expected.doubles("thresholds")).allSatisfy { $1 == nil ? $0.isInfinite : $0 == $1 })
    }

    @Test("FAR, FRR, accuracy, precision, recall, F1, MCC at fixed thresholds equal sklearn.metrics", arguments: ReferenceSet.all)
    func metricsAtThreshold(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        let fixed = try #require(reference.object("fixed"))
        for (_, value) in fixed {
            let expected = try #require(value as? [String: Any])
            let c = curve.counts(at: try #require(expected.double("threshold")))
            try expectMetrics(c, expected)
        }
    }

    @Test("single class and empty input are clear errors")
    func degenerate() throws {
        let single = #expect(throws: EvaluationError.self) {
            try VerificationCurve(scores: [0.1, 0.2], labels: [true, true], direction: .higherIsSame)
        }
        #expect(single?.message.contains("all 2 pairs are labelled same") == true)
        let none = #expect(throws: EvaluationError.self) {
            try VerificationCurve(scores: [], labels: [], direction: .higherIsSame)
        }
        #expect(none?.message.contains("empty") == true)
        #expect(throws: EvaluationError.self) { try VerificationCurve(scores: [0.1, .nan], labels: [true, false], direction: .higherIsSame) }
        #expect(throws: EvaluationError.self) { try ScoredPairs(scores: [0.1, .infinity], labels: [true, false]) }
        #expect(throws: EvaluationError.self) { try ScoredPairs(scores: [0.1], labels: [true, false]) }
    }

    @Test("a distance is the mirror image of a similarity")
    func directionSymmetry() throws {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.9, 0.2]
        let labels = [false, false, true, true, false, true, false, true]
        let sim = try VerificationCurve(scores: scores, labels: labels, direction: .higherIsSame)
        let dist = try VerificationCurve(scores: scores.map { -$0 }, labels: labels, direction: .lowerIsSame)
        #expect(sim.auc() == dist.auc())
        #expect(sim.equalErrorRate().rate == dist.equalErrorRate().rate)
        #expect(sim.equalErrorRate().threshold == -dist.equalErrorRate().threshold)
        #expect(sim.roc().far == dist.roc().far)
        #expect(sim.counts(at: 0.4) == dist.counts(at: -0.4))
    }

    @Test("the downsampled ROC keeps the ends and stays within a few hundred points")
    func downsampling() throws {
        var rng = SeededGenerator(seed: 7)
        let n = 200_000
        let labels = (0..<n).map { $0 % 3 == 0 }
        let scores = labels.map { ($0 ? 0.5 : 0.0) + rng.nextUnitDouble() }
        let curve = try VerificationCurve(scores: scores, labels: labels, direction: .higherIsSame)
        let full = curve.roc(), small = curve.downsampledROC(maxPoints: 600)
        #expect(full.far.count == n + 1)
        #expect(small.far.count <= 700 && small.far.count > 50)
        #expect(small.far.first == 0 && small.tar.first == 0 && small.far.last == 1 && small.tar.last == 1)
        // Every kept point is a real point of the full curve, in order.
        let index = Dictionary(uniqueKeysWithValues: full.thresholds.enumerated().map { ($1, $0) })
        let positions = small.thresholds.map { index[$0]! }
        #expect(positions == positions.sorted())
        #expect(positions.allSatisfy { small.far[positions.firstIndex(of: $0)!] == full.far[$0] })
    }
}

func expectMetrics(_ c: ConfusionCounts, _ expected: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let counts = try #require(expected.object("counts"))
    #expect(c.truePositives == counts.int("tp") && c.falsePositives == counts.int("fp"), sourceLocation: sourceLocation)
    #expect(c.trueNegatives == counts.int("tn") && c.falseNegatives == counts.int("fn"), sourceLocation: sourceLocation)
    #expect(close(c.far, expected.double("far")), sourceLocation: sourceLocation)
    #expect(close(c.frr, expected.double("frr")), sourceLocation: sourceLocation)
    #expect(close(c.accuracy, expected.double("accuracy")), sourceLocation: sourceLocation)
    #expect(close(c.precision, expected.double("precision")), sourceLocation: sourceLocation)
    #expect(close(c.recall, expected.double("recall")), sourceLocation: sourceLocation)
    #expect(close(c.f1, expected.double("f1")), sourceLocation: sourceLocation)
    #expect(close(c.mcc, expected.double("mcc"), 1e-12), sourceLocation: sourceLocation)
}
