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

        // Per channel: the mean and 1/√(var + ε) that normalise, accumulated in Double so that a
        // large N·H·W does not lose the variance to cancellation.
        var mean = [Float](repeating: 0, count: channels), invStd = [Float](repeating: 0, count: channels)
        let x = storage.floats
        if training {
            var unbiased = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                var sum = 0.0
                for n in 0..<batch { sum += Double(Self.sumContiguous(x + (n * channels + c) * inner, inner)) }
                let mu = sum / Double(perChannel)
                var squares = 0.0
                for n in 0..<batch {
                    let p = x + (n * channels + c) * inner
                    var s: Float = 0
                    for i in 0..<inner { let d = p[i] - Float(mu); s += d * d }
                    squares += Double(s)
                }
                let variance = squares / Double(perChannel)
                mean[c] = Float(mu)
                invStd[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                unbiased[c] = Float(squares / Double(perChannel - 1))
            }
            let m = statistics.momentum
            statistics.mean = statistics.mean.detached() * (1 - m) + Tensor(shape: [channels], mean) * m
            statistics.variance = statistics.variance.detached() * (1 - m) + Tensor(shape: [channels], unbiased) * m
        } else {
            let rm = statistics.mean.storage.floats, rv = statistics.variance.storage.floats
            for c in 0..<channels {
                mean[c] = rm[c]
                invStd[c] = 1 / (rv[c] + epsilon).squareRoot()
            }
        }

        let out = TensorStorage(dtype: .float32, count: count)
        let xhat = TensorStorage(dtype: .float32, count: count)
        let gm = gamma.storage.floats, bt = beta.storage.floats
        for n in 0..<batch {
            for c in 0..<channels {
                let o = (n * channels + c) * inner
                let mu = mean[c], inv = invStd[c], scale = gm[c], shift = bt[c]
                for i in 0..<inner {
                    let h = (x[o + i] - mu) * inv
                    xhat.floats[o + i] = h
                    out.floats[o + i] = h * scale + shift
                }
            }
        }
        let result = Tensor(shape: shape, storage: out)
        let normalized = Tensor(shape: shape, storage: xhat)

        return result.recorded(op, inputs: [self, gamma, beta]) { g, needs in
            let gp = g.storage.floats, hp = normalized.storage.floats, gm = gamma.storage.floats
            // Σ g and Σ g·x̂ per channel serve all three gradients.
            var sumG = [Float](repeating: 0, count: channels), sumGH = [Float](repeating: 0, count: channels)
            for n in 0..<batch {
                for c in 0..<channels {
                    let o = (n * channels + c) * inner
                    sumG[c] += Self.sumContiguous(gp + o, inner)
                    var s: Float = 0
                    for i in 0..<inner { s += gp[o + i] * hp[o + i] }
                    sumGH[c] += s
                }
            }
            var dx: Tensor?
            if needs[0] {
                let d = TensorStorage(dtype: .float32, count: batch * channels * inner)
                for n in 0..<batch {
                    for c in 0..<channels {
                        let o = (n * channels + c) * inner
                        let k = gm[c] * invStd[c]
                        if training {
                            // dx = γ·inv · (g − Σg/n − x̂·Σ(g·x̂)/n): the batch statistics depend on x too.
                            let meanG = sumG[c] / Float(perChannel), meanGH = sumGH[c] / Float(perChannel)
                            for i in 0..<inner { d.floats[o + i] = k * (gp[o + i] - meanG - hp[o + i] * meanGH) }
                        } else {
                            for i in 0..<inner { d.floats[o + i] = k * gp[o + i] }
                        }
                    }
                }
                dx = Tensor(shape: g.shape, storage: d)
            }
            return [dx,
                    needs[1] ? Tensor(shape: [channels], sumGH) : nil,
                    needs[2] ? Tensor(shape: [channels], sumG) : nil]
        }
    }
}
