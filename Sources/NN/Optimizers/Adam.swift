import Foundation
import Tensors

/// Adam (Kingma & Ba 2015), and AdamW (Loshchilov & Hutter 2019) when `decoupledWeightDecay` is set.
///
/// m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − lr · m̂ / (√v̂ + ε) with bias-corrected m̂, v̂.
/// Weight decay λ: Adam adds λθ to g (L2 penalty); AdamW subtracts lr·λ·θ from θ directly.
/// Defaults are PyTorch's: lr 1e-3, β = (0.9, 0.999), ε = 1e-8, no weight decay.
public final class Adam: Optimizer {
    /// The parameters updated by ``step()``, in the order of the moment slots `m.i` / `v.i`.
    public let parameters: [Parameter]
    /// Base step size; each parameter's step is this times its ``Parameter/learningRateScale``.
    public var learningRate: Float
    /// Decay rates of the first (β₁) and second (β₂) moment estimates, and ε added to √v̂ for stability.
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Weight decay λ (0 = none); how it is applied depends on ``decoupledWeightDecay``.
    public let weightDecay: Float
    /// True for AdamW (θ ← θ − lr·λ·θ before the Adam step); false adds λθ to the gradient (L2 penalty).
    public let decoupledWeightDecay: Bool
    /// Number of steps taken (the bias correction depends on it; saved in checkpoints).
    public internal(set) var stepCount = 0
    var m: [[Float]], v: [[Float]]

    /// Creates an Adam (or AdamW) optimiser with zeroed moment estimates.
    /// - Parameters:
    ///   - parameters: The parameters to update; each gets moment buffers of its size.
    ///   - learningRate: Base step size (default 1e-3).
    ///   - beta1: Decay of the first-moment (mean) estimate, in [0, 1) (default 0.9).
    ///   - beta2: Decay of the second-moment (uncentred variance) estimate, in [0, 1) (default 0.999).
    ///   - epsilon: Added to √v̂ in the denominator to avoid division by zero (default 1e-8).
    ///   - weightDecay: Weight decay λ, 0 for none (default 0).
    ///   - decoupledWeightDecay: True for AdamW's decoupled decay, false for an L2 term in the gradient.
    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }

    /// AdamW with PyTorch's default decay of 0.01.
    public static func adamW(_ parameters: [Parameter], learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// Applies one Adam update from the current gradients and increments ``stepCount``.
    /// Parameters without a gradient are skipped (their moments are left unchanged).
    public func step() {
        stepCount += 1
        let t = Float(stepCount)
        let c1 = 1 - Foundation.pow(beta1, t), c2 = 1 - Foundation.pow(beta2, t)
        let invSqrtC2 = 1 / c2.squareRoot()
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let decoupled = decoupledWeightDecay
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let lr = learningRate * p.learningRateScale, stepSize = lr / c1, decay = wd * p.weightDecayScale
            grad.withUnsafeBufferPointer { g in
                m[i].withUnsafeMutableBufferPointer { mp in
                    v[i].withUnsafeMutableBufferPointer { vp in
                        p.value.withUnsafeMutableBufferPointer { wb in
                            // Large tensors (a text encoder's matrices) in runs over the threads.
                            let gs = UInt(bitPattern: g.baseAddress), ms = UInt(bitPattern: mp.baseAddress)
                            let vs = UInt(bitPattern: vp.baseAddress), ws = UInt(bitPattern: wb.baseAddress)
                            Threading.parallelRanges(wb.count, costPerItem: 8) { range in
                                guard let g = UnsafePointer<Float>(bitPattern: gs), let mp = UnsafeMutablePointer<Float>(bitPattern: ms),
                                      let vp = UnsafeMutablePointer<Float>(bitPattern: vs), let w = UnsafeMutablePointer<Float>(bitPattern: ws) else { return }
                                for j in range {
                                    var gj = g[j]
                                    if decay != 0 {
                                        if decoupled { w[j] -= lr * decay * w[j] } else { gj += decay * w[j] }
                                    }
                                    mp[j] = b1 * mp[j] + (1 - b1) * gj
                                    vp[j] = b2 * vp[j] + (1 - b2) * gj * gj
                                    w[j] -= stepSize * mp[j] / (vp[j].squareRoot() * invSqrtC2 + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Adam: StatefulOptimizer {
    /// The moment estimates as tensors `m.i` / `v.i` (one per parameter, flattened) and the counter `step`.
    public func stateDictionary() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        let tensors = m.indices.flatMap { i in
            [("m.\(i)", Tensor(shape: [m[i].count], m[i])), ("v.\(i)", Tensor(shape: [v[i].count], v[i]))]
        }
        return (tensors, ["step": stepCount])
    }

    /// Restores moments and step count saved by ``stateDictionary()``.
    /// - Throws: ``OptimizerStateError`` when `step`, an `m.i` / `v.i` tensor is missing or a size differs.
    public func loadState(tensors: [String: Tensor], counters: [String: Int]) throws {
        guard let step = counters["step"] else { throw OptimizerStateError(message: "missing Adam step count") }
        try restoreSlots(&m, prefix: "m", from: tensors)
        try restoreSlots(&v, prefix: "v", from: tensors)
        stepCount = step
    }
}
