/// Ops that move elements without arithmetic: reshape, broadcast, permute, slice, concatenate, stack.
extension Tensor {
    /// The same elements under another shape with the same count. One dimension may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let infer = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != infer }.reduce(1) { $0 * $1.element }
            check(known > 0 && count % known == 0, "reshape", "cannot infer −1 in \(newShape) for \(count) elements (shape \(shape))")
            target[infer] = count / known
        }
        check(Shape.validCount(target, op: "reshape") == count, "reshape", "shape \(shape) (\(count) elements) cannot become \(newShape)")
        if target == shape { return self }
        let source = shape
        return Tensor(shape: target, storage: storage).recorded("reshape", input: self) { g in g.reshaped(source) }
    }

    /// Flattens every dimension from `axis` on into one.
    public func flattened(from axis: Int = 1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "flatten")
        return reshaped(Array(shape[..<a]) + [Shape.count(Array(shape[a...]))])
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: Shape.axis(axis, rank: rank + 1, op: "unsqueeze"))
        return reshaped(s)
    }

    /// Removes a dimension of size 1 at `axis`.
    public func squeezed(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "squeeze")
        check(shape[a] == 1, "squeeze", "axis \(axis) of shape \(shape) has size \(shape[a]), not 1")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }

    /// The elements repeated to a larger shape by NumPy's broadcasting rules.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        check(Shape.broadcast(shape, target) == target, "broadcast", "shape \(shape) cannot broadcast to \(target)")
        let zeros = Tensor(shape: target)
        let source = shape
        return Self.zipElements(zeros, self, op: "broadcast") { $1 }.recorded("broadcast", input: self) { g in
            g.sumToShape(source)
        }
    }

    /// Axes reordered: dimension i of the result is dimension `axes[i]` of this tensor.
    public func permuted(_ axes: [Int]) -> Tensor {
        let resolved = axes.map { Shape.axis($0, rank: rank, op: "permute") }
        check(resolved.count == rank && Set(resolved).count == rank, "permute", "\(axes) is not a permutation of the axes of shape \(shape)")
        if resolved == Array(0..<rank) { return self }
        let outShape = resolved.map { shape[$0] }
        let inStrides = Shape.strides(shape)
        let srcStrides = resolved.map { inStrides[$0] }
        let out = TensorStorage(dtype: .float32, count: count)
        Self.stridedCopy(from: storage.floats, strides: srcStrides, shape: outShape, to: out.floats)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in resolved.enumerated() { inverse[a] = i }
        return Tensor(shape: outShape, storage: out).recorded("permute", input: self) { g in g.permuted(inverse) }
    }

    /// Two axes swapped.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(Shape.axis(a, rank: rank, op: "transpose"), Shape.axis(b, rank: rank, op: "transpose"))
        return permuted(axes)
    }

    /// Copies a strided view into contiguous memory; the innermost dimension is the tight loop.
    static func stridedCopy(from src: UnsafePointer<Float>, strides: [Int], shape: [Int], to dst: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        let n = Shape.count(shape)
        guard n > 0 else { return }
        guard rank > 0 else { dst[0] = src[0]; return }
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var offset = 0, written = 0
        while written < n {
            let s = src + offset, d = dst + written
            if innerStride == 1 {
                d.update(from: s, count: inner)
            } else {
                for j in 0..<inner { d[j] = s[j * innerStride] }
            }
            written += inner
            var dim = rank - 2
            while dim >= 0 {
                index[dim] += 1
                offset += strides[dim]
                if index[dim] < shape[dim] { break }
                offset -= strides[dim] * shape[dim]
                index[dim] = 0
                dim -= 1
            }
        }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "slice")
        check(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice", "range \(range) is outside 0..<\(shape[a]) on axis \(axis) of shape \(shape)")
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        var outShape = shape
        outShape[a] = range.count
        let out = TensorStorage(dtype: .float32, count: outer * range.count * inner)
        let chunk = range.count * inner
        for o in 0..<outer {
            (out.floats + o * chunk).update(from: storage.floats + (o * shape[a] + range.lowerBound) * inner, count: chunk)
        }
        let source = shape
        return Tensor(shape: outShape, storage: out).recorded("slice", input: self) { g in
            var dx = Tensor(shape: source)
            dx.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { gp in
                    for o in 0..<outer {
                        (d.baseAddress! + (o * source[a] + range.lowerBound) * inner).update(from: gp.baseAddress! + o * chunk, count: chunk)
                    }
                }
            }
            return dx
        }
    }

    /// Tensors joined along an existing axis; every other dimension must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        check(!tensors.isEmpty, "concatenate", "needs at least one tensor")
        let first = tensors[0]
        let a = Shape.axis(axis, rank: first.rank, op: "concatenate")
        for t in tensors {
            check(t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == a || $0.element == first.shape[$0.offset] },
                  "concatenate", "shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
        }
        let outer = Shape.count(Array(first.shape[..<a])), inner = Shape.count(Array(first.shape[(a + 1)...]))
        let sizes = tensors.map { $0.shape[a] }
        let total = sizes.reduce(0, +)
        var outShape = first.shape
        outShape[a] = total
        let out = TensorStorage(dtype: .float32, count: outer * total * inner)
        var offset = 0
        for (t, size) in zip(tensors, sizes) {
            let chunk = size * inner
            for o in 0..<outer {
                (out.floats + (o * total + offset) * inner).update(from: t.storage.floats + o * chunk, count: chunk)
            }
            offset += size
        }
        return Tensor(shape: outShape, storage: out).recorded("concatenate", inputs: tensors) { g, needs in
            var start = 0
            return zip(sizes, needs).map { size, need in
                defer { start += size }
                return need ? g.slice(axis: a, start..<(start + size)) : nil
            }
        }
    }

    /// Tensors of one shape joined along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "stack", "needs at least one tensor")
        check(tensors.allSatisfy { $0.shape == tensors[0].shape }, "stack", "shapes differ: \(tensors.map(\.shape))")
        let a = Shape.axis(axis, rank: tensors[0].rank + 1, op: "stack")
        return concatenate(tensors.map { $0.unsqueezed(a) }, axis: a)
    }
}
