import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// following PyTorch's formulation: b ← μb + g (+λθ in g); θ ← θ − lr·(g + μb if Nesterov, else b).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    var velocity: [[Float]]
    var started = false

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        ensure(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    public func step() {
        let (mu, wd, first) = (momentum, weightDecay, !started)
        started = true
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let lr = learningRate * p.learningRateScale
            grad.withUnsafeBufferPointer { g in
                velocity[i].withUnsafeMutableBufferPointer { b in
                    p.value.withUnsafeMutableBufferPointer { w in
                        for j in 0..<w.count {
                            let gj = g[j] + wd * w[j]
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
    public func stateDictionary() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        (velocity.indices.map { ("velocity.\($0)", Tensor(shape: [velocity[$0].count], velocity[$0])) }, ["started": started ? 1 : 0])
    }

    public func loadState(tensors: [String: Tensor], counters: [String: Int]) throws {
        try restoreSlots(&velocity, prefix: "velocity", from: tensors)
        started = counters["started"] == 1
    }
}
