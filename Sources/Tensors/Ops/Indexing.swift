/// Selecting by index (embedding lookup) and masking.
extension Tensor {
    /// Slices `indices` along `axis`, in that order, repeats allowed: `weights.indexSelect([3, 1, 3])`
    /// is an embedding lookup. The gradient adds back into the selected rows.
    public func indexSelect(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "indexSelect")
        let n = shape[a]
        for i in indices { check(i >= 0 && i < n, "indexSelect", "index \(i) is out of range 0..<\(n) on axis \(axis) of shape \(shape)") }
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        var outShape = shape
        outShape[a] = indices.count
        let out = TensorStorage(dtype: .float32, count: outer * indices.count * inner)
        let x = storage.floats
        for o in 0..<outer {
            for (j, i) in indices.enumerated() {
                (out.floats + (o * indices.count + j) * inner).update(from: x + (o * n + i) * inner, count: inner)
            }
        }
        let source = shape
        return Tensor(shape: outShape, storage: out).recorded("indexSelect", input: self) { g in
            var dx = Tensor(shape: source)
            dx.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { gp in
                    for o in 0..<outer {
                        for (j, i) in indices.enumerated() {
                            let dst = d.baseAddress! + (o * n + i) * inner, src = gp.baseAddress! + (o * indices.count + j) * inner
                            for k in 0..<inner { dst[k] += src[k] }
                        }
                    }
                }
            }
            return dx
        }
    }

    /// `value` where `mask` is non-zero, this tensor elsewhere; `mask` broadcasts to this shape.
    /// No gradient flows to masked positions.
    public func maskedFill(_ mask: Tensor, with value: Float) -> Tensor {
        check(Shape.broadcast(shape, mask.shape) == shape, "maskedFill", "mask shape \(mask.shape) does not broadcast to \(shape)")
        return Self.zipElements(self, mask, op: "maskedFill") { $1 != 0 ? value : $0 }.recorded("maskedFill", input: self) { g in
            Self.zipElements(g, mask, op: "maskedFill") { $1 != 0 ? 0 : $0 }
        }
    }
}
