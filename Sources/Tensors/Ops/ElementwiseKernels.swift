/// The loops behind elementwise ops: a same-shape map, a scalar map, and NumPy-style broadcasting.
/// They are `@inline(__always)` so that each call site's closure is specialised into a plain loop.
/// The same-shape and scalar loops split a large tensor into contiguous runs over the threads
/// (`Threading.parallelRanges`): a training step of a text encoder spends a third of its time in
/// elementwise work between matrix products, which one thread would do alone.
extension Tensor {
    /// `f` applied to every element, into a new tensor of the same shape (no gradient recorded).
    @inline(__always)
    func mapElements(_ f: @Sendable (Float) -> Float) -> Tensor {
        let out = TensorStorage(dtype: .float32, count: count)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        Threading.parallelRanges(count, costPerItem: 1) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            for i in range { y[i] = f(x[i]) }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// A whole-buffer kernel (such as a vectorised C routine) applied into a new tensor, in
    /// contiguous runs over the threads when the tensor is large. `kernel(x, y, n)` must treat
    /// each run of `unit` elements on its own (1 for an elementwise function, the row length for
    /// a row-wise one such as softmax): runs are cut at multiples of `unit`.
    @inline(__always)
    func mapBuffer(unit: Int = 1, _ kernel: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let out = TensorStorage(dtype: .float32, count: count)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        let unit = Swift.max(unit, 1)
        Threading.parallelRanges(count / unit, costPerItem: unit) { range in
            kernel(UnsafePointer<Float>(bitPattern: xs)! + range.lowerBound * unit,
                   UnsafeMutablePointer<Float>(bitPattern: ys)! + range.lowerBound * unit, range.count * unit)
        }
        return Tensor(shape: shape, storage: out)
    }

    /// `f(a, b)` elementwise with broadcasting (no gradient recorded).
    @inline(__always)
    static func zipElements(_ a: Tensor, _ b: Tensor, op: String, _ f: @Sendable (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            let out = TensorStorage(dtype: .float32, count: a.count)
            let xs = UInt(bitPattern: a.storage.floats), ys = UInt(bitPattern: b.storage.floats), zs = UInt(bitPattern: out.floats)
            Threading.parallelRanges(a.count, costPerItem: 1) { range in
                let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafePointer<Float>(bitPattern: ys)!
                let z = UnsafeMutablePointer<Float>(bitPattern: zs)!
                for i in range { z[i] = f(x[i], y[i]) }
            }
            return Tensor(shape: a.shape, storage: out)
        }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            fatalError(TensorError(op: op, "shapes \(a.shape) and \(b.shape) do not broadcast").description)
        }
        let n = Shape.count(shape)
        let out = TensorStorage(dtype: .float32, count: n)
        let x = a.storage.floats, y = b.storage.floats, z = out.floats
        if b.count == 1 {
            let s = y[0]
            for i in 0..<n { z[i] = f(x[i], s) }
            return Tensor(shape: shape, storage: out)
        }
        if a.count == 1 {
            let s = x[0]
            for i in 0..<n { z[i] = f(s, y[i]) }
            return Tensor(shape: shape, storage: out)
        }
        let sa = Shape.broadcastStrides(a.shape, to: shape)
        let sb = Shape.broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        let inner = shape[rank - 1]
        let ia = sa[rank - 1], ib = sb[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var offA = 0, offB = 0, offZ = 0
        while offZ < n {
            let pa = x + offA, pb = y + offB, pz = z + offZ
            switch (ia, ib) {
            case (1, 1): for j in 0..<inner { pz[j] = f(pa[j], pb[j]) }
            case (1, 0): let s = pb[0]; for j in 0..<inner { pz[j] = f(pa[j], s) }
            case (0, 1): let s = pa[0]; for j in 0..<inner { pz[j] = f(s, pb[j]) }
            default: for j in 0..<inner { pz[j] = f(pa[j * ia], pb[j * ib]) }
            }
            offZ += inner
            // Odometer over the outer dimensions.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                offA += sa[d]; offB += sb[d]
                if index[d] < shape[d] { break }
                offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Sums a broadcast gradient back down to `target` (the shape of the operand that was broadcast).
    func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        var g = self
        let extra = g.rank - target.count
        if extra > 0 {
            let lead = Shape.count(Array(g.shape[..<extra]))
            g = g.reshaped([lead] + Array(g.shape[extra...])).sum(axis: 0)
        }
        for (axis, dim) in target.enumerated() where dim == 1 && g.shape[axis] != 1 {
            g = g.sum(axis: axis, keepDims: true)
        }
        return g.reshaped(target)
    }

    /// True when no element is NaN or infinite.
    public var allFinite: Bool { Kernels.allFinite(storage.floats, count: count) }
}
