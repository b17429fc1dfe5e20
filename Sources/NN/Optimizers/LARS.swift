import Tensors

/// LARS, layer-wise adaptive rate scaling (You et al. 2017, "Large Batch Training of Convolutional
/// Networks"), the optimiser of SimCLR and Barlow Twins, as lightly's `LARS` (itself PyTorch
/// Lightning Bolts'): SGD with momentum whose step for each parameter tensor is rescaled by the
/// trust ratio of its weight norm to its gradient norm.
///
/// For a parameter θ with gradient g, weight decay λ, trust coefficient η:
///
///     if λ ≠ 0 and θ is not excluded and ‖θ‖ > 0 and ‖g‖ > 0:
///         d = (g + λθ) · η‖θ‖ / (‖g‖ + λ‖θ‖ + ε)
///     else: d = g
///     b ← d on the first step, μb + d after;  θ ← θ − lr·(d + μb if Nesterov, else b)
///
/// Parameters for which `excluded` is true (by default those of rank ≤ 1: biases and the scales
/// and shifts of normalisation layers, lightly's `get_weight_decay_parameters`) get neither weight
/// decay nor the adaptation, as SimCLR, BYOL and Barlow Twins train them.
public final class LARS: Optimizer {
    /// The parameters updated by ``step()``, in the order of the velocity slots `velocity.i`.
    public let parameters: [Parameter]
    /// Base step size; each parameter's step is this times its ``Parameter/learningRateScale``.
    public var learningRate: Float
    /// Momentum μ (0: no velocity kept).
    public let momentum: Float
    /// Nesterov momentum.
    public let nesterov: Bool
    /// Weight decay λ, applied with the adaptation to the parameters that are not excluded.
    public let weightDecay: Float
    /// Trust coefficient η.
    public let trustCoefficient: Float
    /// Added to the denominator of the trust ratio.
    public let epsilon: Float
    /// Per parameter: true when it is excluded from weight decay and adaptation.
    public let excluded: [Bool]
    var velocity: [[Float]]
    var started = false

    /// Creates a LARS optimiser with zero velocity.
    /// - Parameters:
    ///   - parameters: The parameters to update.
    ///   - learningRate: Base step size.
    ///   - momentum: Momentum μ (lightly 0.9).
    ///   - nesterov: Nesterov momentum (needs μ > 0; default false).
    ///   - weightDecay: λ (lightly 1e-6 for SimCLR; default 0, which also turns the adaptation off).
    ///   - trustCoefficient: η (lightly 0.001).
    ///   - epsilon: added to the trust ratio's denominator (1e-8).
    ///   - exclude: which parameters get neither decay nor adaptation (default: rank ≤ 1, biases and norms).
    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0.9, nesterov: Bool = false,
                weightDecay: Float = 0, trustCoefficient: Float = 0.001, epsilon: Float = 1e-8,
                exclude: (Parameter) -> Bool = LARS.isBiasOrNorm) {
        ensure(!nesterov || momentum > 0, "LARS: Nesterov momentum needs momentum > 0")
        ensure(weightDecay >= 0 && trustCoefficient > 0, "LARS: weight decay must be ≥ 0 and the trust coefficient > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.trustCoefficient = trustCoefficient
        self.epsilon = epsilon
        excluded = parameters.map(exclude)
        velocity = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    /// True for biases and normalisation scales and shifts: the parameters of rank ≤ 1.
    public static func isBiasOrNorm(_ parameter: Parameter) -> Bool { parameter.value.rank <= 1 }

    /// Applies one update from the current gradients; parameters without a gradient are skipped.
    public func step() {
        let (first, mu, trust, eps, nesterov) = (!started, momentum, trustCoefficient, epsilon, self.nesterov)
        started = true
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let lr = learningRate * p.learningRateScale
            let wd = excluded[i] ? 0 : weightDecay * p.weightDecayScale
            grad.withUnsafeBufferPointer { g in
                velocity[i].withUnsafeMutableBufferPointer { b in
                    p.value.withUnsafeMutableBufferPointer { w in
                        var wNorm = 0.0, gNorm = 0.0
                        for j in 0..<w.count { wNorm += Double(w[j]) * Double(w[j]); gNorm += Double(g[j]) * Double(g[j]) }
                        wNorm = wNorm.squareRoot(); gNorm = gNorm.squareRoot()
                        let adapt = wd != 0 && wNorm > 0 && gNorm > 0
                        let ratio = adapt ? Float(Double(trust) * wNorm / (gNorm + Double(wd) * wNorm + Double(eps))) : 1
                        for j in 0..<w.count {
                            let d = adapt ? (g[j] + wd * w[j]) * ratio : g[j]
                            if mu == 0 { w[j] -= lr * d; continue }
                            // As PyTorch's SGD: the buffer starts at the first update rather than at zero.
                            b[j] = first ? d : mu * b[j] + d
                            w[j] -= lr * (nesterov ? d + mu * b[j] : b[j])
                        }
                    }
                }
            }
        }
    }
}

extension LARS: StatefulOptimizer {
    /// The velocities as tensors `velocity.i` and the counter `started` (0 or 1).
    public func stateDictionary() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        (velocity.indices.map { ("velocity.\($0)", Tensor(shape: [velocity[$0].count], velocity[$0])) }, ["started": started ? 1 : 0])
    }

    /// Restores what ``stateDictionary()`` saved.
    /// - Throws: ``OptimizerStateError`` when a `velocity.i` tensor is missing or its size differs.
    public func loadState(tensors: [String: Tensor], counters: [String: Int]) throws {
        try restoreSlots(&velocity, prefix: "velocity", from: tensors)
        started = counters["started"] == 1
    }
}
