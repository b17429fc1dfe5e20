import CKernels

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
    /// - Parameters:
    ///   - channels: Number of channels C.
    ///   - momentum: Weight of each new batch in the running average, in [0, 1] (default 0.1).
    public init(channels: Int, momentum: Float = 0.1) {
        self.init(mean: .zeros([channels]), variance: .ones([channels]), momentum: momentum)
    }

    /// Statistics from saved values (a checkpoint's running mean and variance), both [C]; they are
    /// stored detached. `momentum` must be in [0, 1].
    /// - Parameters:
    ///   - mean: Running mean, shape [C].
    ///   - variance: Running variance, shape [C].
    ///   - momentum: Weight of each new batch in the running average, in [0, 1] (default 0.1).
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
        // are spread over the threads; within a channel, N runs of H·W contiguous values. The loops
        // are in C (`ck_channel_moments`, `ck_channel_affine`, …), vectorised for the CPU.
        let meanS = TensorStorage(count: channels, repeating: 0), invS = TensorStorage(count: channels, repeating: 0)
        let xs = UInt(bitPattern: storage.floats)
        let cost = perChannel
        if training {
            // One pass: sums of x − s and (x − s)² with s the channel's first value, in float lanes
            // within a run and in double across runs. Shifting by a value of the channel keeps the
            // variance from cancelling when the mean is large against the spread.
            let shift = TensorStorage(dtype: .float32, count: channels)
            for c in 0..<channels { shift.floats[c] = storage.floats[c * inner] }
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
            defer { sums.deallocate() }
            let ss = UInt(bitPattern: shift.floats), ps = UInt(bitPattern: sums)
            Threading.parallelRanges(channels, costPerItem: cost) { range in
                let sums = UnsafeMutablePointer<Double>(bitPattern: ps)!
                ck_channel_moments(UnsafePointer<Float>(bitPattern: xs), Int64(batch), Int64(channels), Int64(inner),
                                   Int64(range.lowerBound), Int64(range.upperBound), UnsafePointer<Float>(bitPattern: ss),
                                   sums, sums + channels)
            }
            let unbiased = TensorStorage(dtype: .float32, count: channels)
            let n = Double(perChannel)
            for c in 0..<channels {
                let d = sums[c] / n
                let variance = Swift.max(sums[channels + c] / n - d * d, 0)
                meanS.floats[c] = Float(Double(shift.floats[c]) + d)
                invS.floats[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                unbiased.floats[c] = Float(variance * n / (n - 1))
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

        // y = (x − mean)·(gamma·inv) + beta
        let scaleS = TensorStorage(dtype: .float32, count: channels)
        for c in 0..<channels { scaleS.floats[c] = gamma.storage.floats[c] * invS.floats[c] }
        let out = TensorStorage(dtype: .float32, count: count)
        let ys = UInt(bitPattern: out.floats), ms = UInt(bitPattern: meanS.floats)
        let ks = UInt(bitPattern: scaleS.floats), bs = UInt(bitPattern: beta.storage.floats)
        Threading.parallelRanges(channels, costPerItem: cost) { range in
            ck_channel_affine(UnsafePointer<Float>(bitPattern: xs), UnsafeMutablePointer<Float>(bitPattern: ys),
                              Int64(batch), Int64(channels), Int64(inner), Int64(range.lowerBound), Int64(range.upperBound),
                              UnsafePointer<Float>(bitPattern: ms), UnsafePointer<Float>(bitPattern: ks),
                              UnsafePointer<Float>(bitPattern: bs), 0)
        }
        let result = Tensor(shape: shape, storage: out)
        // The backward pass recomputes x̂ = (x − mean)·inv from the input rather than storing it.
        let input = self.detached()

        return result.recorded(op, inputs: [self, gamma, beta]) { g, needs in
            // Σ g and Σ g·(x − mean) per channel serve all three gradients (Σ g·x̂ = inv·Σ g·(x − mean)).
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * channels)
            defer { sums.deallocate() }
            let gp = UInt(bitPattern: g.storage.floats), xp = UInt(bitPattern: input.storage.floats)
            let ps = UInt(bitPattern: sums), ms = UInt(bitPattern: meanS.floats)
            Threading.parallelRanges(channels, costPerItem: cost) { range in
                let sums = UnsafeMutablePointer<Double>(bitPattern: ps)!
                ck_channel_grad_sums(UnsafePointer<Float>(bitPattern: gp), UnsafePointer<Float>(bitPattern: xp),
                                     Int64(batch), Int64(channels), Int64(inner), Int64(range.lowerBound),
                                     Int64(range.upperBound), UnsafePointer<Float>(bitPattern: ms), sums, sums + channels)
            }
            let sumG = TensorStorage(dtype: .float32, count: channels), sumGH = TensorStorage(dtype: .float32, count: channels)
            for c in 0..<channels {
                sumG.floats[c] = Float(sums[c])
                sumGH.floats[c] = Float(sums[channels + c] * Double(invS.floats[c]))
            }
            var dx: TensorStorage?
            if needs[0] {
                // Training: dx = γ·inv·(g − Σg/n − x̂·Σ(g·x̂)/n), as the batch statistics depend on x
                // too; that is a·g + b·(x − mean) + k per channel. Evaluation: the statistics are
                // constants, dx = γ·inv·g.
                let coefficients = TensorStorage(dtype: .float32, count: 3 * channels)
                let a = coefficients.floats, b = a + channels, k = a + 2 * channels
                for c in 0..<channels {
                    let scale = gamma.storage.floats[c] * invS.floats[c]
                    a[c] = scale
                    b[c] = training ? -scale * invS.floats[c] * sumGH.floats[c] / Float(perChannel) : 0
                    k[c] = training ? -scale * sumG.floats[c] / Float(perChannel) : 0
                }
                let d = TensorStorage(dtype: .float32, count: g.count)
                let ds = UInt(bitPattern: d.floats), cs = UInt(bitPattern: a)
                Threading.parallelRanges(channels, costPerItem: cost) { range in
                    let a = UnsafePointer<Float>(bitPattern: cs)!
                    ck_channel_affine2(UnsafePointer<Float>(bitPattern: gp), UnsafePointer<Float>(bitPattern: xp),
                                       UnsafeMutablePointer<Float>(bitPattern: ds), Int64(batch), Int64(channels),
                                       Int64(inner), Int64(range.lowerBound), Int64(range.upperBound),
                                       a, a + channels, UnsafePointer<Float>(bitPattern: ms), a + 2 * channels)
                }
                withExtendedLifetime(coefficients) {}
                dx = d
            }
            return [dx.map { Tensor(shape: g.shape, storage: $0) },
                    needs[1] ? Tensor(shape: [channels], storage: sumGH) : nil,
                    needs[2] ? Tensor(shape: [channels], storage: sumG) : nil]
        }
    }
}
