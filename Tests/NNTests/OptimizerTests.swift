import Foundation
import Testing
@testable import NN
@testable import Tensors

/// Each optimiser against the published update rule, re-implemented here in Double over several steps.
@Suite struct OptimizerTests {
    let initial: [Float] = [0.5, -1.2, 2.0]
    let gradients: [[Float]] = [[0.1, -0.3, 0.7], [0.2, 0.1, -0.4], [-0.5, 0.6, 0.05]]

    private func run(scale: Float = 1, _ make: (Parameter) -> Optimizer) -> [Float] {
        let p = Parameter(Tensor(initial))
        p.learningRateScale = scale
        let opt = make(p)
        for g in gradients {
            p.zeroGrad()
            p.value.setGradient(Tensor(g))
            opt.step()
        }
        return p.value.scalars
    }

    private func expectClose(_ a: [Float], _ b: [Double], tol: Double = 1e-6) {
        for (x, y) in zip(a, b) { #expect(abs(Double(x) - y) < tol, "\(a) vs \(b)") }
    }

    @Test(arguments: [(Float(0), false), (0.1, false), (0.1, true)])
    func adamMatchesReference(_ decay: Float, _ decoupled: Bool) {
        let got = run { Adam([$0], learningRate: 0.01, weightDecay: decay, decoupledWeightDecay: decoupled) }
        var w = initial.map(Double.init), m = [Double](repeating: 0, count: 3), v = m
        let (b1, b2, eps, lr, wd) = (0.9, 0.999, 1e-8, 0.01, Double(decay))
        for (t, gf) in gradients.enumerated() {
            for j in 0..<3 {
                var g = Double(gf[j])
                if decoupled { w[j] -= lr * wd * w[j] } else { g += wd * w[j] }
                m[j] = b1 * m[j] + (1 - b1) * g
                v[j] = b2 * v[j] + (1 - b2) * g * g
                let mh = m[j] / (1 - pow(b1, Double(t + 1))), vh = v[j] / (1 - pow(b2, Double(t + 1)))
                w[j] -= lr * mh / (vh.squareRoot() + eps)
            }
        }
        expectClose(got, w)
    }

    @Test(arguments: [(Float(0), false, Float(0)), (0.9, false, 0), (0.9, true, 0.01)])
    func sgdMatchesReference(_ momentum: Float, _ nesterov: Bool, _ decay: Float) {
        let got = run { SGD([$0], learningRate: 0.1, momentum: momentum, nesterov: nesterov, weightDecay: decay) }
        var w = initial.map(Double.init), b = [Double](repeating: 0, count: 3)
        let mu = Double(momentum)
        for (t, gf) in gradients.enumerated() {
            for j in 0..<3 {
                let g = Double(gf[j]) + Double(decay) * w[j]
                if mu == 0 { w[j] -= 0.1 * g; continue }
                b[j] = t == 0 ? g : mu * b[j] + g
                w[j] -= 0.1 * (nesterov ? g + mu * b[j] : b[j])
            }
        }
        expectClose(got, w)
    }

    /// `learningRateScale` multiplies the rate of its parameter alone (class vectors of a metric
    /// loss learning faster than the encoder).
    @Test func aParameterScaleMultipliesItsLearningRateAlone() {
        let adamScaled = run(scale: 100) { Adam([$0], learningRate: 0.0001) }
        expectClose(adamScaled, run { Adam([$0], learningRate: 0.01) }.map(Double.init))
        #expect(adamScaled != run { Adam([$0], learningRate: 0.0001) })
        let sgdScaled = run(scale: 10) { SGD([$0], learningRate: 0.01, momentum: 0.9) }
        expectClose(sgdScaled, run { SGD([$0], learningRate: 0.1, momentum: 0.9) }.map(Double.init))
        // In one optimiser, the unscaled parameter moves at the base rate.
        let (fast, slow) = (Parameter(Tensor(initial)), Parameter(Tensor(initial)))
        fast.learningRateScale = 100
        let adam = Adam([fast, slow], learningRate: 0.0001)
        for g in gradients {
            for p in [fast, slow] {
                p.zeroGrad()
                p.value.setGradient(Tensor(g))
            }
            adam.step()
        }
        #expect(fast.value.scalars == adamScaled)
        #expect(slow.value.scalars == run { Adam([$0], learningRate: 0.0001) })
    }

    @Test func gradientClippingScalesToMaxNorm() {
        let a = Parameter(Tensor([3, 0])), b = Parameter(Tensor([0, 4]))
        a.value.setGradient(Tensor([3, 0]))
        b.value.setGradient(Tensor([0, 4]))
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(zip(a.grad!.scalars + b.grad!.scalars, [0.6, 0, 0, 0.8]).allSatisfy { abs($0 - $1) < 1e-6 })
        // Below the limit nothing changes.
        #expect(abs(clipGradientNorm([a, b], maxNorm: 10) - 1) < 1e-6)
        #expect(abs(a.grad!.scalars[0] - 0.6) < 1e-6)
    }

    @Test func schedules() {
        let warm = LearningRateSchedule(baseRate: 1, warmupSteps: 4, totalSteps: 14, decay: .linear)
        #expect(warm.rate(at: 0) == 0.25)
        #expect(warm.rate(at: 3) == 1)
        #expect(abs(warm.rate(at: 9) - 0.5) < 1e-6)
        #expect(warm.rate(at: 14) == 0)
        let cosine = LearningRateSchedule(baseRate: 2, totalSteps: 10, decay: .cosine, finalFraction: 0.1)
        #expect(abs(cosine.rate(at: 0) - 2) < 1e-6)
        #expect(abs(cosine.rate(at: 5) - (0.2 + 1.8 * 0.5)) < 1e-5)
        #expect(abs(cosine.rate(at: 10) - 0.2) < 1e-6)
    }

    @Test func trainingAnMLPReducesTheLoss() throws {
        var g = SeededGenerator(seed: 9)
        let model = Sequential(Linear(2, 16, generator: &g), Lambda.tanh, Linear(16, 1, generator: &g))
        let x = Tensor.randomUniform([64, 2], low: -1, high: 1, generator: &g)
        let target = (x.slice(axis: 1, 0..<1) * x.slice(axis: 1, 1..<2)).detached()
        let opt = Adam(model.parameters, learningRate: 0.02)
        func loss() -> Tensor { (model(x) - target).squared().mean() }
        let before = withoutGradients { loss() }.item
        for _ in 0..<300 {
            opt.zeroGrad()
            try loss().backward()
            opt.step()
        }
        let after = withoutGradients { loss() }.item
        #expect(after < before * 0.1, "loss \(before) → \(after)")
    }
}
