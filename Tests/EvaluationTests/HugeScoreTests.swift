import Foundation
import Testing
@testable import Evaluation

/// Finite but extreme scores (issue 12): the histogram's width used to overflow to infinity and
/// the conversion of an infinite bin number to `Int` trapped.
@Suite struct HugeScoreTests {
    @Test func scoresSpanningMoreThanADoubleAreRefusedWithAMessage() throws {
        let pairs = try ScoredPairs(scores: [-1e308, 1e308, -1e308, 1e308], labels: [false, true, false, true])
        let error = try #require(throws: EvaluationError.self) { try VerificationReport.evaluate(pairs, options: .init()) }
        #expect(error.message.contains("a range wider than a Double can hold"), "\(error.message)")
    }

    @Test func hugeScoresWithARepresentableSpanGiveAReport() throws {
        let pairs = try ScoredPairs(scores: [1e308, 1.7e308, 1.1e308, 1.6e308], labels: [false, true, false, true])
        let report = try VerificationReport.evaluate(pairs, options: .init())
        #expect(report.histogram.edges.allSatisfy { $0.isFinite })
        #expect(report.histogram.genuine.reduce(0, +) == 2 && report.histogram.impostor.reduce(0, +) == 2)
        #expect(HTMLReport.render(report).contains("<svg"))
    }

    /// A span too small to divide into bins (subnormal) must not divide by zero either.
    @Test func subnormalSpanGivesAReport() throws {
        let pairs = try ScoredPairs(scores: [0, 5e-324, 0, 5e-324], labels: [false, true, false, true])
        let report = try VerificationReport.evaluate(pairs, options: .init())
        #expect(report.histogram.genuine.reduce(0, +) == 2 && report.histogram.impostor.reduce(0, +) == 2)
        #expect(HTMLReport.render(report).contains("<svg"))
    }
}
