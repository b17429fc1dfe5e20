import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// following PyTorch's formulation: b ← μb + g (+λθ in g); θ ← θ − lr·(g + μb if Nesterov, else b).
public final class SGD: Optimizer {
    /// The parameters updated by ``step()``, in the order of the velocity slots `velocity.i`.
    public let parameters: [Parameter]
    /// Base step size; each parameter's step is this times its ``Parameter/learningRateScale``.
    public var learningRate: Float
    /// Momentum μ (0 = plain SGD, no velocity kept).
    public let momentum: Float
    /// Whether the update uses Nesterov momentum (g + μb instead of b).
    public let nesterov: Bool
    /// L2 weight decay λ, added to the gradient as λθ (0 = none), times each parameter's ``Parameter/weightDecayScale``.
    public let weightDecay: Float
    var velocity: [[Float]]
    var started = false

    /// Creates an SGD optimiser with zero velocity.
    /// - Parameters:
    ///   - parameters: The parameters to update.
    ///   - learningRate: Base step size.
    ///   - momentum: Momentum μ, 0 for plain SGD (default 0).
    ///   - nesterov: Use Nesterov momentum; stops with a message if set while `momentum` is 0 (default false).
    ///   - weightDecay: L2 weight decay λ added to the gradient (default 0).
    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        ensure(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    /// Applies one SGD update from the current gradients; parameters without a gradient are skipped.
    /// The first step seeds the velocity with the gradient itself, as PyTorch does.
    public func step() {
        let (mu, wd, first) = (momentum, weightDecay, !started)
        started = true
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let lr = learningRate * p.learningRateScale, decay = wd * p.weightDecayScale
            grad.withUnsafeBufferPointer { g in
                velocity[i].withUnsafeMutableBufferPointer { b in
                    p.value.withUnsafeMutableBufferPointer { w in
                        for j in 0..<w.count {
                            let gj = g[j] + decay * w[j]
                            if mu == 0 { w[j] -= lr * gj; continue }
                            // PyTorch starts the buffer at the first gradient rather than at zero.
                            b[j] = first ? gj : mu * b[j] + gj
                            w[j] -= lr * (nesterov ? gj + mu * b[j] : b[j])
                        }
                    }
                }
            }
        }
    }
}

extension SGD: StatefulOptimizer {
    /// The velocities as tensors `velocity.i` (one per parameter, flattened) and the counter `started` (0 or 1).
    public func stateDictionary() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        (velocity.indices.map { ("velocity.\($0)", Tensor(shape: [velocity[$0].count], velocity[$0])) }, ["started": started ? 1 : 0])
    }

    /// Restores velocities and the `started` flag saved by ``stateDictionary()``.
    /// - Throws: ``OptimizerStateError`` when a `velocity.i` tensor is missing or its size differs.
    public func loadState(tensors: [String: Tensor], counters: [String: Int]) throws {
        try restoreSlots(&velocity, prefix: "velocity", from: tensors)
        started = counters["started"] == 1
    }
}
