import Evaluation
import Foundation
import Testing

@Suite("Probability calibration against scikit-learn")
struct ProbabilityCalibrationTests {
    static let sets = ["continuous", "ties", "distance"]

    private func load(_ name: String) throws -> (ScoredPairs, ScoreDirection, [String: Any]) {
        let reference = try #require(try Fixture.json("probability_reference.json").object("sets")?.object(name))
        let direction: ScoreDirection = name == "distance" ? .lowerIsSame : .higherIsSame
        return (try ScoredPairsCSV.read(try Fixture.url("pairs_\(name).csv")), direction, reference)
    }

    @Test("Platt scaling matches CalibratedClassifierCV's sigmoid fit", arguments: sets)
    func platt(name: String) throws {
        let (pairs, _, reference) = try load(name)
        let fit = try PlattScaling(scores: pairs.scores, labels: pairs.labels)
        // scikit-learn stops L-BFGS at its default tolerance; Newton converges further, so the
        // parameters agree to about 1e-4 and the probabilities closer.
        #expect(close(fit.a, reference.double("platt_a"), 2e-4 * max(1, abs(fit.a))), "A \(fit.a) vs \(reference.double("platt_a")!)")
        #expect(close(fit.b, reference.double("platt_b"), 2e-4 * max(1, abs(fit.b))), "B \(fit.b) vs \(reference.double("platt_b")!)")
        for (x, p) in zip(reference.doubles("probes"), reference.doubles("platt")) {
            #expect(close(fit.probability(x!), p, 5e-5))
        }
    }

    @Test("isotonic regression matches IsotonicRegression(out_of_bounds='clip')", arguments: sets)
    func isotonic(name: String) throws {
        let (pairs, direction, reference) = try load(name)
        let fit = try IsotonicCalibration(scores: pairs.scores, labels: pairs.labels, direction: direction)
        for (x, p) in zip(reference.doubles("probes"), reference.doubles("isotonic")) {
            #expect(close(fit.probability(x!), p, 1e-12), "at \(x!)")
        }
        // Monotone in the direction of the scores.
        let ps = fit.probabilities
        #expect(direction == .higherIsSame ? ps == ps.sorted() : ps == ps.sorted(by: >))
    }

    @Test("single class and empty input are errors")
    func degenerate() {
        #expect(throws: EvaluationError.self) { try PlattScaling(scores: [1, 2], labels: [true, true]) }
        #expect(throws: EvaluationError.self) { try PlattScaling(scores: [], labels: []) }
        #expect(throws: EvaluationError.self) { try IsotonicCalibration(scores: [], labels: [], direction: .higherIsSame) }
    }
}
