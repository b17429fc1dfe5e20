/// L2 normalisation and layer normalisation, with fused backward passes.
extension Tensor {
    /// Each vector along the last axis divided by its Euclidean norm (at least `epsilon`, so a zero
    /// vector stays zero instead of becoming NaN).
    public func l2Normalized(epsilon: Float = 1e-12) -> Tensor {
        check(rank >= 1, "l2Normalized", "needs rank ≥ 1, got a scalar")
        let d = shape[rank - 1], rows = d == 0 ? 0 : count / d
        let out = TensorStorage(dtype: .float32, count: count)
        var norms = [Float](repeating: 0, count: rows)
        var clamped = [Bool](repeating: false, count: rows)
        let x = storage.floats, y = out.floats
        for r in 0..<rows {
            let p = x + r * d
            let raw = Kernels.dot(p, p, count: d).squareRoot()
            let norm = Swift.max(raw, epsilon)
            norms[r] = norm
            clamped[r] = raw < epsilon
            let inv = 1 / norm
            for j in 0..<d { y[r * d + j] = p[j] * inv }
        }
        let result = Tensor(shape: shape, storage: out)
        return result.recorded("l2Normalize", input: self) { g in
            // dx = (g − y·(y·g)) / ‖x‖, and g / ε where the norm was clamped.
            var dx = Tensor(shape: result.shape)
            dx.withUnsafeMutableBufferPointer { dp in
                let gp = g.storage.floats, yp = result.storage.floats
                for r in 0..<rows {
                    let o = r * d, inv = 1 / norms[r]
                    if clamped[r] {
                        for j in 0..<d { dp[o + j] = gp[o + j] * inv }
                        continue
                    }
                    let proj = Kernels.dot(yp + o, gp + o, count: d)
                    for j in 0..<d { dp[o + j] = (gp[o + j] - yp[o + j] * proj) * inv }
                }
            }
            return dx
        }
    }

    /// Layer normalisation over the last axis: (x − mean) / √(var + ε) · gamma + beta, with the
    /// biased variance as in PyTorch and BERT. `gamma` and `beta` have the last axis's size.
    public func layerNorm(gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
        check(rank >= 1, "layerNorm", "needs rank ≥ 1, got a scalar")
        let d = shape[rank - 1], rows = d == 0 ? 0 : count / d
        check(gamma.shape == [d] && beta.shape == [d], "layerNorm", "gamma \(gamma.shape) and beta \(beta.shape) must be [\(d)] for input \(shape)")
        let out = TensorStorage(dtype: .float32, count: count)
        let xhat = TensorStorage(dtype: .float32, count: count)
        let inverse = TensorStorage(dtype: .float32, count: Swift.max(rows, 1))
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats), hs = UInt(bitPattern: xhat.floats)
        let gs = UInt(bitPattern: gamma.storage.floats), bs = UInt(bitPattern: beta.storage.floats), vs = UInt(bitPattern: inverse.floats)
        // Rows in contiguous runs over the threads (each row on its own).
        Threading.parallelRanges(rows, costPerItem: 4 * d) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let h = UnsafeMutablePointer<Float>(bitPattern: hs)!, invStd = UnsafeMutablePointer<Float>(bitPattern: vs)!
            let gm = UnsafePointer<Float>(bitPattern: gs)!, bt = UnsafePointer<Float>(bitPattern: bs)!
            for r in range {
                let p = x + r * d
                let mean = Self.sumContiguous(p, d) / Float(d)
                var v: Float = 0
                for j in 0..<d { let c = p[j] - mean; v += c * c }
                let inv = 1 / (v / Float(d) + epsilon).squareRoot()
                invStd[r] = inv
                for j in 0..<d {
                    let n = (p[j] - mean) * inv
                    h[r * d + j] = n
                    y[r * d + j] = n * gm[j] + bt[j]
                }
            }
        }
        let result = Tensor(shape: shape, storage: out)
        let normalized = Tensor(shape: shape, storage: xhat)
        return result.recorded("layerNorm", inputs: [self, gamma, beta]) { g, needs in
            var dx: Tensor?
            if needs[0] {
                // dx = inv/d · (d·ĝ − Σĝ − x̂·Σ(ĝ·x̂)), with ĝ = g·gamma
                let t = TensorStorage(dtype: .float32, count: g.count)
                let gps = UInt(bitPattern: g.storage.floats), hps = UInt(bitPattern: normalized.storage.floats)
                let gms = UInt(bitPattern: gamma.storage.floats), ts = UInt(bitPattern: t.floats)
                let invs = UInt(bitPattern: inverse.floats)  // captures the storage: it lives as long as the graph
                Threading.parallelRanges(rows, costPerItem: 4 * d) { range in
                    let gp = UnsafePointer<Float>(bitPattern: gps)!, hp = UnsafePointer<Float>(bitPattern: hps)!
                    let gm = UnsafePointer<Float>(bitPattern: gms)!, dp = UnsafeMutablePointer<Float>(bitPattern: ts)!
                    let invStd = UnsafePointer<Float>(bitPattern: invs)!
                    for r in range {
                        let o = r * d
                        var sumG: Float = 0, sumGH: Float = 0
                        for j in 0..<d {
                            let gh = gp[o + j] * gm[j]
                            sumG += gh
                            sumGH += gh * hp[o + j]
                        }
                        let scale = invStd[r] / Float(d)
                        for j in 0..<d {
                            dp[o + j] = scale * (Float(d) * gp[o + j] * gm[j] - sumG - hp[o + j] * sumGH)
                        }
                    }
                }
                dx = Tensor(shape: g.shape, storage: t)
            }
            return [dx,
                    needs[1] ? (g * normalized).reshaped([rows, d]).sum(axis: 0) : nil,
                    needs[2] ? g.reshaped([rows, d]).sum(axis: 0) : nil]
        }
    }
}
