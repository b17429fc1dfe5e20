/// Reductions along axes, and their gradients.
extension Tensor {
    /// Splits the shape around `axis` into (outer, axis length, inner) for the reduction loops.
    private func split(around axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (Shape.count(Array(shape[..<axis])), shape[axis], Shape.count(Array(shape[(axis + 1)...])))
    }

    private func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let total = Tensor(Self.sumContiguous(storage.floats, count))
        let s = shape
        return total.recorded("sum", input: self) { g in Tensor(shape: s, repeating: g.item) }
    }

    /// Sum along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "sum")
        let (outer, n, inner) = split(around: a)
        let out = TensorStorage(count: outer * inner, repeating: 0)
        let x = storage.floats, y = out.floats
        if inner == 1 {
            for o in 0..<outer { y[o] = Self.sumContiguous(x + o * n, n) }
        } else {
            for o in 0..<outer {
                let dst = y + o * inner
                for j in 0..<n {
                    let src = x + (o * n + j) * inner
                    for i in 0..<inner { dst[i] += src[i] }
                }
            }
        }
        let result = Tensor(shape: reducedShape(a, keepDims: keepDims), storage: out)
        let keptShape = reducedShape(a, keepDims: true), fullShape = shape
        return result.recorded("sum", input: self) { g in
            g.reshaped(keptShape).broadcast(to: fullShape)
        }
    }

    /// Sum along several axes.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Set(axes.map { Shape.axis($0, rank: rank, op: "sum") }).sorted(by: >)
        var t = self
        for a in resolved { t = t.sum(axis: a, keepDims: true) }
        if keepDims { return t }
        return t.reshaped(shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element))
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Mean along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "mean")
        return sum(axis: a, keepDims: keepDims) * (1 / Float(Swift.max(shape[a], 1)))
    }

    /// Maximum along one axis; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "max")
        check(shape[a] > 0, "max", "axis \(axis) of shape \(shape) is empty")
        let (outer, n, inner) = split(around: a)
        let index = argmaxIndices(outer: outer, n: n, inner: inner)
        let out = TensorStorage(dtype: .float32, count: outer * inner)
        let x = storage.floats
        for o in 0..<outer {
            for i in 0..<inner { out.floats[o * inner + i] = x[(o * n + index[o * inner + i]) * inner + i] }
        }
        let result = Tensor(shape: reducedShape(a, keepDims: keepDims), storage: out)
        let fullShape = shape
        return result.recorded("max", input: self) { g in
            var dx = Tensor(shape: fullShape)
            dx.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { gp in
                    for o in 0..<outer {
                        for i in 0..<inner { d[(o * n + index[o * inner + i]) * inner + i] = gp[o * inner + i] }
                    }
                }
            }
            return dx
        }
    }

    /// Index of the maximum along `axis` (the first, on ties), in row-major order of the other axes.
    public func argmax(axis: Int) -> [Int] {
        let a = Shape.axis(axis, rank: rank, op: "argmax")
        check(shape[a] > 0, "argmax", "axis \(axis) of shape \(shape) is empty")
        let (outer, n, inner) = split(around: a)
        return argmaxIndices(outer: outer, n: n, inner: inner)
    }

    private func argmaxIndices(outer: Int, n: Int, inner: Int) -> [Int] {
        let x = storage.floats
        var index = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = x[o * n * inner + i], bestJ = 0
                for j in 1..<Swift.max(n, 1) {
                    let v = x[(o * n + j) * inner + i]
                    // NaN wins so that it is not hidden by the reduction.
                    if v > best || (v.isNaN && !best.isNaN) { best = v; bestJ = j }
                }
                index[o * inner + i] = bestJ
            }
        }
        return index
    }

    /// log Σ exp(x) along `axis`, stable for large values (the maximum is factored out).
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "logSumExp")
        let m = withoutGradients { max(axis: a, keepDims: true) }
        let safeM = m.mapElements { $0.isFinite ? $0 : 0 }
        let shifted = withoutGradients { (self - safeM).exp().sum(axis: a, keepDims: true) }
        var out = (shifted.log() + safeM)
        if !keepDims { out = out.reshaped(reducedShape(a, keepDims: false)) }
        let kept = reducedShape(a, keepDims: true), x = self
        return out.recorded("logsumexp", input: x) { g in
            // d/dx = softmax(x) along the axis
            g.reshaped(kept) * (x - (out.reshaped(kept))).exp()
        }
    }

    /// Sum of a contiguous run with eight partial sums: faster than one serial chain, and more accurate.
    static func sumContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }
}
