/// Batch normalisation over axis 1 (the channels) of [N, C], [N, C, L] or [N, C, H, W].

/// The running mean and variance of a batch-norm layer: state that training updates and evaluation
/// reads. Both are [C] and carry no gradient.
public struct BatchNormStatistics: Sendable {
    /// Running mean per channel; starts at 0.
    public var mean: Tensor
    /// Running (unbiased) variance per channel; starts at 1.
    public var variance: Tensor
    /// Weight of the new batch in each update: running = (1 − momentum)·running + momentum·batch.
    public var momentum: Float

    /// Statistics for `channels` channels: mean 0, variance 1 (PyTorch's initial state), momentum 0.1.
    public init(channels: Int, momentum: Float = 0.1) {
        self.init(mean: .zeros([channels]), variance: .ones([channels]), momentum: momentum)
    }

    /// Statistics from saved values (a checkpoint's running mean and variance), both [C]; they are
    /// stored detached. `momentum` must be in [0, 1].
    public init(mean: Tensor, variance: Tensor, momentum: Float = 0.1) {
        check(mean.rank == 1 && variance.shape == mean.shape, "BatchNormStatistics",
              "mean \(mean.shape) and variance \(variance.shape) must both be [C]")
        check(momentum >= 0 && momentum <= 1, "BatchNormStatistics", "momentum \(momentum) must be in [0, 1]")
        self.mean = mean.detached()
        self.variance = variance.detached()
        self.momentum = momentum
    }
}

extension Tensor {
    /// Batch normalisation over every axis but 1: y = (x − μ_c) / √(σ²_c + ε) · gamma[c] + beta[c].
    ///
    /// - Training (`training: true`): μ and σ² are the batch's mean and biased variance over N and
    ///   the spatial axes, and the gradient flows through them. `statistics` is then updated as
    ///   PyTorch does: mean ← (1 − m)·mean + m·μ, variance ← (1 − m)·variance + m·σ²·n/(n − 1),
    ///   the unbiased variance, with n = N·L (or N·H·W) values per channel; n must be at least 2.
    /// - Evaluation (`training: false`): μ and σ² are `statistics.mean` and `statistics.variance`,
    ///   which are left unchanged; the op is then an affine map per channel.
    ///
    /// `gamma`, `beta` and the statistics are [C]; the output has the input's shape.
    public func batchNorm(gamma: Tensor, beta: Tensor, statistics: inout BatchNormStatistics,
                          training: Bool, epsilon: Float = 1e-5) -> Tensor {
        let op = "batchNorm"
        check(rank >= 2 && rank <= 4, op, "input must be [N, C], [N, C, L] or [N, C, H, W], got \(shape)")
        let batch = shape[0], channels = shape[1], inner = Shape.count(Array(shape[2...]))
        check(gamma.shape == [channels] && beta.shape == [channels], op,
              "gamma \(gamma.shape) and beta \(beta.shape) must be [\(channels)] for input \(shape)")
        check(statistics.mean.shape == [channels], op,
              "running statistics are [\(statistics.mean.shape.first ?? 0)], input \(shape) has \(channels) channels")
        let perChannel = batch * inner
        check(!training || perChannel > 1, op, "training needs more than one value per channel, input is \(shape)")

        // Per channel: the mean and 1/√(var + ε) that normalise. Channels are independent, so they
        // are spread over the threads; within a channel, N runs of H·W contiguous values.
        let meanS = TensorStorage(count: channels, repeating: 0), invS = TensorStorage(count: channels, repeating: 0)
        let xs = UInt(bitPattern: storage.floats), ms = UInt(bitPattern: meanS.floats), iv = UInt(bitPattern: invS.floats)
        if training {
            let unbiased = TensorStorage(count: channels, repeating: 0)
            let us = UInt(bitPattern: unbiased.floats)
            spatialParallelRanges(channels, costPerItem: 2 * perChannel) { range in
                let x = UnsafePointer<Float>(bitPattern: xs)!
                let mean = UnsafeMutablePointer<Float>(bitPattern: ms)!, inv = UnsafeMutablePointer<Float>(bitPattern: iv)!
                let unbiased = UnsafeMutablePointer<Float>(bitPattern: us)!
                for c in range {
                    // Two passes (mean, then squared deviations), summed across runs in Double, so
                    // that a large N·H·W loses neither the mean nor the variance to cancellation.
                    var sum = 0.0
                    for n in 0..<batch { sum += Double(Self.sumContiguous(x + (n * channels + c) * inner, inner)) }
                    let mu = sum / Double(perChannel)
                    var squares = 0.0
                    for n in 0..<batch { squares += Double(squaredDeviations(x + (n * channels + c) * inner, inner, Float(mu))) }
                    mean[c] = Float(mu)
                    inv[c] = Float(1 / (squares / Double(perChannel) + Double(epsilon)).squareRoot())
                    unbiased[c] = Float(squares / Double(perChannel - 1))
                }
            }
            let m = statistics.momentum
            statistics.mean = statistics.mean.detached() * (1 - m) + Tensor(shape: [channels], storage: meanS) * m
            statistics.variance = statistics.variance.detached() * (1 - m) + Tensor(shape: [channels], storage: unbiased) * m
        } else {
            let rm = statistics.mean.storage.floats, rv = statistics.variance.storage.floats
            for c in 0..<channels {
                meanS.floats[c] = rm[c]
                invS.floats[c] = 1 / (rv[c] + epsilon).squareRoot()
            }
        }

        let out = TensorStorage(dtype: .float32, count: count)
        let xhat = TensorStorage(dtype: .float32, count: count)
        let ys = UInt(bitPattern: out.floats), hs = UInt(bitPattern: xhat.floats)
        let gs = UInt(bitPattern: gamma.storage.floats), bs = UInt(bitPattern: beta.storage.floats)
        spatialParallelRanges(channels, costPerItem: perChannel) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let h = UnsafeMutablePointer<Float>(bitPattern: hs)!
            let mean = UnsafePointer<Float>(bitPattern: ms)!, inv = UnsafePointer<Float>(bitPattern: iv)!
            let gm = UnsafePointer<Float>(bitPattern: gs)!, bt = UnsafePointer<Float>(bitPattern: bs)!
            for c in range {
                for n in 0..<batch {
                    let o = (n * channels + c) * inner
                    normalize(x + o, inner, mean: mean[c], inv: inv[c], gamma: gm[c], beta: bt[c], xhat: h + o, y: y + o)
                }
            }
        }
        let result = Tensor(shape: shape, storage: out)
        let normalized = Tensor(shape: shape, storage: xhat)
        let invStd = Tensor(shape: [channels], storage: invS)

        return result.recorded(op, inputs: [self, gamma, beta]) { g, needs in
            // Σ g and Σ g·x̂ per channel serve all three gradients.
            let sumG = TensorStorage(count: channels, repeating: 0), sumGH = TensorStorage(count: channels, repeating: 0)
            let dx = needs[0] ? TensorStorage(dtype: .float32, count: g.count) : nil
            let gp = UInt(bitPattern: g.storage.floats), hp = UInt(bitPattern: normalized.storage.floats)
            let sg = UInt(bitPattern: sumG.floats), sgh = UInt(bitPattern: sumGH.floats)
            let gm = UInt(bitPattern: gamma.storage.floats), iv = UInt(bitPattern: invStd.storage.floats)
            let dp = dx.map { UInt(bitPattern: $0.floats) }
            spatialParallelRanges(channels, costPerItem: 2 * perChannel) { range in
                let g = UnsafePointer<Float>(bitPattern: gp)!, h = UnsafePointer<Float>(bitPattern: hp)!
                let sumG = UnsafeMutablePointer<Float>(bitPattern: sg)!, sumGH = UnsafeMutablePointer<Float>(bitPattern: sgh)!
                let gamma = UnsafePointer<Float>(bitPattern: gm)!, inv = UnsafePointer<Float>(bitPattern: iv)!
                for c in range {
                    for n in 0..<batch {
                        let o = (n * channels + c) * inner
                        sumG[c] += Self.sumContiguous(g + o, inner)
                        sumGH[c] += Kernels.dot(g + o, h + o, count: inner)
                    }
                    guard let dp else { continue }
                    let d = UnsafeMutablePointer<Float>(bitPattern: dp)!
                    let k = gamma[c] * inv[c]
                    // Training: dx = γ·inv·(g − Σg/n − x̂·Σ(g·x̂)/n), as the batch statistics depend
                    // on x too. Evaluation: the statistics are constants, dx = γ·inv·g.
                    let meanG = training ? sumG[c] / Float(perChannel) : 0
                    let meanGH = training ? sumGH[c] / Float(perChannel) : 0
                    for n in 0..<batch {
                        let o = (n * channels + c) * inner
                        inputGradient(g + o, h + o, inner, k: k, meanG: meanG, meanGH: meanGH, into: d + o)
                    }
                }
            }
            return [dx.map { Tensor(shape: g.shape, storage: $0) },
                    needs[1] ? Tensor(shape: [channels], storage: sumGH) : nil,
                    needs[2] ? Tensor(shape: [channels], storage: sumG) : nil]
        }
    }
}

// MARK: - Vector loops over one contiguous run of a channel

@inline(__always)
private func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Σ (x − mean)² over n values.
private func squaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, _ mean: Float) -> Float {
    var acc = SIMD8<Float>()
    let mu = SIMD8<Float>(repeating: mean)
    var i = 0
    while i + 8 <= n {
        let d = load8(x, i) - mu
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < n { let d = x[i] - mean; s += d * d; i += 1 }
    return s
}

/// x̂ = (x − mean)·inv and y = x̂·gamma + beta over n values.
private func normalize(_ x: UnsafePointer<Float>, _ n: Int, mean: Float, inv: Float, gamma: Float, beta: Float,
                       xhat: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
    let mu = SIMD8<Float>(repeating: mean), k = SIMD8<Float>(repeating: inv)
    let scale = SIMD8<Float>(repeating: gamma), shift = SIMD8<Float>(repeating: beta)
    var i = 0
    while i + 8 <= n {
        let h = (load8(x, i) - mu) * k
        store8(h, xhat, i)
        store8(h * scale + shift, y, i)
        i += 8
    }
    while i < n {
        let h = (x[i] - mean) * inv
        xhat[i] = h
        y[i] = h * gamma + beta
        i += 1
    }
}

/// dx = k·(g − meanG − x̂·meanGH) over n values.
private func inputGradient(_ g: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ n: Int,
                           k: Float, meanG: Float, meanGH: Float, into dx: UnsafeMutablePointer<Float>) {
    let kv = SIMD8<Float>(repeating: k), mg = SIMD8<Float>(repeating: meanG), mgh = SIMD8<Float>(repeating: meanGH)
    var i = 0
    while i + 8 <= n {
        store8(kv * (load8(g, i) - mg - load8(h, i) * mgh), dx, i)
        i += 8
    }
    while i < n { dx[i] = k * (g[i] - meanG - h[i] * meanGH); i += 1 }
}
