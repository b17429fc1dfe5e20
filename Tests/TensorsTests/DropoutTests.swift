import Testing
@testable import Tensors
import GradientChecking

@Suite struct DropoutTests {
    @Test func sameSeedGivesSameMask() {
        let x = randomTensor([32, 16], seed: 1, awayFromZero: 0.1)
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let ya = x.dropout(probability: 0.4, generator: &a)
        let yb = x.dropout(probability: 0.4, generator: &b)
        let yc = x.dropout(probability: 0.4, generator: &c)
        #expect(ya.scalars == yb.scalars)
        #expect(ya.scalars != yc.scalars)
        // The generator moved on: the next mask differs from the first.
        #expect(x.dropout(probability: 0.4, generator: &a).scalars != ya.scalars)
    }

    /// One draw from the caller's generator seeds a stream per block of `dropoutBlock` elements;
    /// an element is dropped exactly when its stream's next uniform number is below p (tails
    /// included). Sizes across several blocks, which several threads draw at once.
    @Test(arguments: [5, 8, 37, 3 * Tensor.dropoutBlock + 13] as [Int])
    func maskFollowsTheBlocksUniformDraws(_ n: Int) {
        let x = Tensor.ones([n])
        var rng = SeededGenerator(seed: 99), replay = SeededGenerator(seed: 99)
        let y = x.dropout(probability: 0.45, generator: &rng).scalars
        let base = replay.next()
        var expected: [Float] = []
        for b in 0..<((n + Tensor.dropoutBlock - 1) / Tensor.dropoutBlock) {
            var stream = SeededGenerator(seed: base &+ UInt64(b) &* 0x9E37_79B9_7F4A_7C15)
            for _ in (b * Tensor.dropoutBlock)..<min(n, (b + 1) * Tensor.dropoutBlock) {
                expected.append(stream.nextUniform() < 0.45 ? 0 : 1 / (1 - 0.45))
            }
        }
        #expect(y == expected)
        #expect(rng.next() == replay.next(), "one draw from the caller's generator")
    }

    @Test(arguments: [0.1, 0.5, 0.8] as [Float])
    func keptValuesAreScaledAndMeanIsPreserved(_ p: Float) {
        let n = 200_000
        let x = Tensor(shape: [n], repeating: 2)
        var rng = SeededGenerator(seed: 7)
        let y = x.dropout(probability: p, generator: &rng).scalars
        let scaled = 2 / (1 - p)
        #expect(y.allSatisfy { $0 == 0 || abs($0 - scaled) < 1e-5 })
        let dropped = Double(y.filter { $0 == 0 }.count) / Double(n)
        let mean = y.reduce(0.0) { $0 + Double($1) } / Double(n)
        // Binomial: the dropped fraction's standard deviation is √(p(1−p)/n) ≤ 0.0012; allow 5σ.
        #expect(abs(dropped - Double(p)) < 0.006, "dropped \(dropped)")
        #expect(abs(mean - 2) < 2 * 0.006 / Double(1 - p), "mean \(mean)")
    }

    @Test func zeroProbabilityAndEvaluationAreTheIdentity() {
        let x = randomTensor([4, 5], seed: 2)
        var rng = SeededGenerator(seed: 3)
        let untouched = rng
        #expect(x.dropout(probability: 0, generator: &rng).sharesStorage(with: x))
        #expect(x.dropout(probability: 0.5, training: false, generator: &rng).sharesStorage(with: x))
        var a = rng, b = untouched
        #expect(a.next() == b.next(), "identity must not consume random numbers")
    }

    @Test func identityKeepsTheGradientPath() throws {
        let x = randomTensor([3], seed: 4).requiringGrad()
        var rng = SeededGenerator(seed: 5)
        try (x.dropout(probability: 0.5, training: false, generator: &rng) * Tensor([1, 2, 3])).sum().backward()
        #expect(x.grad?.scalars == [1, 2, 3])
    }

    @Test func gradientPassesOnlyThroughKeptElements() throws {
        let x = randomTensor([20, 10], seed: 6, awayFromZero: 0.05).requiringGrad()
        let w = randomTensor([20, 10], seed: 8)
        var rng = SeededGenerator(seed: 9)
        let y = x.dropout(probability: 0.3, generator: &rng)
        try (y * w).sum().backward()
        let g = try #require(x.grad).scalars, ys = y.scalars, ws = w.scalars
        for i in 0..<g.count {
            if ys[i] == 0 {
                #expect(g[i] == 0)
            } else {
                #expect(abs(g[i] - ws[i] / 0.7) < 1e-5)
            }
        }
    }

    @Test func finiteDifferenceGradient() throws {
        let x = randomTensor([6, 7], seed: 10)
        let result = try gradCheck([x]) { t in
            // A fresh generator with the same seed each call: the same mask for every probe.
            var rng = SeededGenerator(seed: 11)
            return t[0].dropout(probability: 0.25, generator: &rng)
        }
        #expect(result.maxError < 2e-3, "\(result)")
    }

    @Test func probabilityOutOfRangeStops() async {
        let stop1 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Tensor.ones([3]).dropout(probability: 1, generator: &rng)
        }
        #expect(stopMessage(stop1).contains("dropout: probability 1.0 must be in [0, 1) (input [3])"), "\(stopMessage(stop1))")
        let stop2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = SeededGenerator(seed: 1)
            _ = Tensor.ones([3]).dropout(probability: -0.1, generator: &rng)
        }
        #expect(stopMessage(stop2).contains("dropout: probability -0.1 must be in [0, 1)"), "\(stopMessage(stop2))")
    }
}
