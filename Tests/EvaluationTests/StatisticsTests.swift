@testable import Evaluation
import Core
import FileSupport
import Testing

@Suite("Statistical building blocks")
struct StatisticsTests {
    @Test("normal quantile equals scipy.stats.norm.ppf")
    func normalQuantile() throws {
        let reference = try #require(try Fixture.json("statistics_reference.json").object("normal_quantile"))
        for (p, z) in zip(reference.doubles("p"), reference.doubles("z")) {
            let ours = NormalDistribution.quantile(p!)
            #expect(abs(ours - z!) <= 1e-14 * max(1, abs(z!)), "p=\(p!): \(ours) vs \(z!)")
        }
        #expect(NormalDistribution.quantile(0) == -.infinity && NormalDistribution.quantile(1) == .infinity)
        #expect(NormalDistribution.quantile(1.5).isNaN)
    }

    @Test("Wilson intervals equal scipy's binomtest(...).proportion_ci(method='wilson')")
    func wilson() throws {
        let cases = try #require(try Fixture.json("statistics_reference.json")["wilson"] as? [[String: Any]])
        #expect(cases.count == 8)
        for c in cases {
            let ci = try #require(ProportionInterval.wilson(successes: c.int("k")!, trials: c.int("n")!))
            #expect(close(ci.lower, c.double("lower"), 1e-12) && close(ci.upper, c.double("upper"), 1e-12), "\(c)")
        }
        #expect(ProportionInterval.wilson(successes: 0, trials: 0) == nil)
    }

    @Test("SHA-256 equals hashlib, whether fed at once or in pieces")
    func sha256() throws {
        let reference = try #require(try Fixture.json("statistics_reference.json")["sha256"] as? [String: String])
        for (message, digest) in reference {
            #expect(SHA256.hash(Array(message.utf8)).hexString == digest)
            var h = SHA256()
            let bytes = Array(message.utf8)
            var i = 0
            while i < bytes.count { let j = min(bytes.count, i + 7); h.update(bytes[i..<j]); i = j }
            #expect(h.finalize().hexString == digest)
        }
    }

    @Test("binomial draws have the right mean and variance in both regimes", arguments: [(50, 0.1), (100_000, 0.3), (5_000_000, 0.001)])
    func binomial(n: Int, p: Double) {
        var rng = SeededGenerator(seed: 99)
        let draws = (0..<20_000).map { _ in Double(Binomial.sample(trials: n, probability: p, using: &rng)) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
        let expectedMean = Double(n) * p, expectedVariance = Double(n) * p * (1 - p)
        // Five standard errors of the mean; the variance within 5%.
        #expect(abs(mean - expectedMean) < 5 * (expectedVariance / Double(draws.count)).squareRoot(), "mean \(mean) vs \(expectedMean)")
        #expect(abs(variance / expectedVariance - 1) < 0.05, "variance \(variance) vs \(expectedVariance)")
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= Double(n) })
    }

    @Test("the radix sort agrees with the standard sort, negatives, zeros and infinities included")
    func radixSort() {
        var rng = SeededGenerator(seed: 3)
        var values = (0..<50_000).map { _ in (rng.nextUnitDouble() - 0.5) * pow10(Int(rng.nextInt(below: 20)) - 10) }
        values += [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.greatestFiniteMagnitude, 1, 1, 1]
        var sorted = values
        FastSort.sortAscending(&sorted)
        #expect(sorted == values.sorted())
    }

    private func pow10(_ e: Int) -> Double { e >= 0 ? (0..<e).reduce(1.0) { r, _ in r * 10 } : 1 / pow10(-e) }
}
