/// Max and average pooling over sliding windows, and global pooling over all spatial axes.
///
/// Windows follow PyTorch's defaults: the stride defaults to the kernel size, the output size is
/// ⌊(L + 2·padding − kernel) / stride⌋ + 1 (floor mode), and the padding may be at most half the
/// kernel, so every window overlaps the input. Max pooling pads with −∞ (padding never wins);
/// average pooling counts the padded zeros (PyTorch's `count_include_pad=True`), so every window
/// is divided by the full kernel area.
extension Tensor {
    /// Max pooling of [N, C, L] over windows of `kernelSize` → [N, C, L′]. The gradient goes to the
    /// first maximal element of each window.
    public func maxPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        check(rank == 3, "maxPool1d", "input must be [N, C, L], got \(shape)")
        let g = poolWindow("maxPool1d", kernel: Size2D(1, kernelSize), stride: Size2D(1, stride ?? kernelSize),
                           padding: Size2D(0, padding), input: [shape[0], shape[1], 1, shape[2]], oneD: true)
        return maxPool("maxPool1d", g, outShape: [g.batch, g.channels, g.outW])
    }

    /// Max pooling of [N, C, H, W] over windows of `kernelSize` → [N, C, H′, W′]. The gradient goes
    /// to the first maximal element (row-major) of each window.
    public func maxPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        check(rank == 4, "maxPool2d", "input must be [N, C, H, W], got \(shape)")
        let g = poolWindow("maxPool2d", kernel: kernelSize, stride: stride ?? kernelSize, padding: padding,
                           input: shape, oneD: false)
        return maxPool("maxPool2d", g, outShape: [g.batch, g.channels, g.outH, g.outW])
    }

    /// Average pooling of [N, C, L] → [N, C, L′]: each window's sum divided by `kernelSize`, padding
    /// included (PyTorch's `count_include_pad=True`).
    public func avgPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        check(rank == 3, "avgPool1d", "input must be [N, C, L], got \(shape)")
        let g = poolWindow("avgPool1d", kernel: Size2D(1, kernelSize), stride: Size2D(1, stride ?? kernelSize),
                           padding: Size2D(0, padding), input: [shape[0], shape[1], 1, shape[2]], oneD: true)
        return avgPool("avgPool1d", g, outShape: [g.batch, g.channels, g.outW])
    }

    /// Average pooling of [N, C, H, W] → [N, C, H′, W′]: each window's sum divided by KH·KW, padding
    /// included (PyTorch's `count_include_pad=True`).
    public func avgPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        check(rank == 4, "avgPool2d", "input must be [N, C, H, W], got \(shape)")
        let g = poolWindow("avgPool2d", kernel: kernelSize, stride: stride ?? kernelSize, padding: padding,
                           input: shape, oneD: false)
        return avgPool("avgPool2d", g, outShape: [g.batch, g.channels, g.outH, g.outW])
    }

    /// The mean over every axis after the first two: [N, C, …] → [N, C].
    public func globalAvgPool() -> Tensor {
        let (planes, size) = globalSplit("globalAvgPool")
        let out = TensorStorage(dtype: .float32, count: planes)
        let scale = 1 / Float(size)
        for p in 0..<planes { out.floats[p] = Self.sumContiguous(storage.floats + p * size, size) * scale }
        let inShape = shape
        return Tensor(shape: [shape[0], shape[1]], storage: out).recorded("globalAvgPool", input: self) { g in
            let dx = TensorStorage(dtype: .float32, count: planes * size)
            for p in 0..<planes { (dx.floats + p * size).update(repeating: g.storage.floats[p] * scale, count: size) }
            return Tensor(shape: inShape, storage: dx)
        }
    }

    /// The maximum over every axis after the first two: [N, C, …] → [N, C]. The gradient goes to the
    /// first maximal element of each plane.
    public func globalMaxPool() -> Tensor {
        let (planes, size) = globalSplit("globalMaxPool")
        let out = TensorStorage(dtype: .float32, count: planes)
        var index = [Int](repeating: 0, count: planes)
        let x = storage.floats
        for p in 0..<planes {
            let src = x + p * size
            var best = src[0], at = 0
            // NaN wins so that the reduction does not hide it.
            for i in 1..<size where src[i] > best || (src[i].isNaN && !best.isNaN) { best = src[i]; at = i }
            out.floats[p] = best
            index[p] = at
        }
        let inShape = shape
        return Tensor(shape: [shape[0], shape[1]], storage: out).recorded("globalMaxPool", input: self) { g in
            let dx = TensorStorage(count: planes * size, repeating: 0)
            for p in 0..<planes { dx.floats[p * size + index[p]] = g.storage.floats[p] }
            return Tensor(shape: inShape, storage: dx)
        }
    }

    private func globalSplit(_ op: String) -> (planes: Int, size: Int) {
        check(rank >= 3, op, "input must be [N, C, spatial…] (rank ≥ 3), got \(shape)")
        let size = Shape.count(Array(shape[2...]))
        check(size > 0, op, "spatial size of \(shape) is empty")
        return (shape[0] * shape[1], size)
    }

    private func poolWindow(_ op: String, kernel: Size2D, stride: Size2D, padding: Size2D, input: [Int], oneD: Bool) -> SpatialWindow {
        let g = SpatialWindow(op: op, input: input, kernel: kernel, stride: stride, padding: padding,
                              dilation: 1, oneD: oneD)
        // As PyTorch: a window that could lie wholly in the padding would have no maximum, and an
        // average made only of padding.
        check(2 * padding.height <= kernel.height && 2 * padding.width <= kernel.width, op,
              "padding \(oneD ? "\(padding.width)" : "\(padding)") must be at most half the kernel size "
                + "\(oneD ? "\(kernel.width)" : "\(kernel)") (input \(shape))")
        return g
    }

    /// The rows of the window starting at `oh` that lie in the input.
    @inline(__always)
    private static func windowRows(_ g: SpatialWindow, _ oh: Int) -> (start: Int, rows: Range<Int>) {
        let start = oh * g.strideH - g.padH
        return (start, Swift.max(0, -start)..<Swift.min(g.kernelH, g.height - start))
    }

    @inline(__always)
    private static func windowCols(_ g: SpatialWindow, _ ow: Int) -> (start: Int, cols: Range<Int>) {
        let start = ow * g.strideW - g.padW
        return (start, Swift.max(0, -start)..<Swift.min(g.kernelW, g.width - start))
    }

    private func maxPool(_ op: String, _ g: SpatialWindow, outShape: [Int]) -> Tensor {
        let planes = g.batch * g.channels
        let out = TensorStorage(dtype: .float32, count: planes * g.outPlane)
        // Where each output's maximum sits within its input plane, for the backward pass.
        var argmax = [Int32](repeating: 0, count: planes * g.outPlane)
        check(g.inPlane <= Int(Int32.max), op, "input plane of \(shape) is too large")
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        argmax.withUnsafeMutableBufferPointer { idx in
            let ids = UInt(bitPattern: idx.baseAddress!)
            spatialParallelRanges(planes, costPerItem: g.outPlane * g.kernelArea) { range in
                let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
                let index = UnsafeMutablePointer<Int32>(bitPattern: ids)!
                for p in range {
                    let plane = x + p * g.inPlane
                    for oh in 0..<g.outH {
                        let (h0, rows) = Self.windowRows(g, oh)
                        for ow in 0..<g.outW {
                            let (w0, cols) = Self.windowCols(g, ow)
                            var best = -Float.infinity, at = (h0 + rows.lowerBound) * g.width + w0 + cols.lowerBound
                            for u in rows {
                                for v in cols {
                                    let i = (h0 + u) * g.width + w0 + v
                                    let value = plane[i]
                                    if value > best || (value.isNaN && !best.isNaN) { best = value; at = i }
                                }
                            }
                            let o = p * g.outPlane + oh * g.outW + ow
                            y[o] = best
                            index[o] = Int32(at)
                        }
                    }
                }
            }
        }
        let inShape = shape
        return Tensor(shape: outShape, storage: out).recorded(op, input: self) { grad in
            let dx = TensorStorage(count: planes * g.inPlane, repeating: 0)
            // Overlapping windows (stride < kernel) may pick the same element: accumulate.
            for p in 0..<planes {
                let d = dx.floats + p * g.inPlane, gp = grad.storage.floats + p * g.outPlane
                argmax.withUnsafeBufferPointer { idx in
                    for o in 0..<g.outPlane { d[Int(idx[p * g.outPlane + o])] += gp[o] }
                }
            }
            return Tensor(shape: inShape, storage: dx)
        }
    }

    private func avgPool(_ op: String, _ g: SpatialWindow, outShape: [Int]) -> Tensor {
        let planes = g.batch * g.channels
        let out = TensorStorage(dtype: .float32, count: planes * g.outPlane)
        let scale = 1 / Float(g.kernelArea)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        spatialParallelRanges(planes, costPerItem: g.outPlane * g.kernelArea) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            for p in range {
                let plane = x + p * g.inPlane
                for oh in 0..<g.outH {
                    let (h0, rows) = Self.windowRows(g, oh)
                    for ow in 0..<g.outW {
                        let (w0, cols) = Self.windowCols(g, ow)
                        var sum: Float = 0
                        for u in rows {
                            for v in cols { sum += plane[(h0 + u) * g.width + w0 + v] }
                        }
                        y[p * g.outPlane + oh * g.outW + ow] = sum * scale
                    }
                }
            }
        }
        let inShape = shape
        return Tensor(shape: outShape, storage: out).recorded(op, input: self) { grad in
            let dx = TensorStorage(count: planes * g.inPlane, repeating: 0)
            for p in 0..<planes {
                let d = dx.floats + p * g.inPlane, gp = grad.storage.floats + p * g.outPlane
                for oh in 0..<g.outH {
                    let (h0, rows) = Self.windowRows(g, oh)
                    for ow in 0..<g.outW {
                        let (w0, cols) = Self.windowCols(g, ow)
                        let share = gp[oh * g.outW + ow] * scale
                        for u in rows {
                            for v in cols { d[(h0 + u) * g.width + w0 + v] += share }
                        }
                    }
                }
            }
            return Tensor(shape: inShape, storage: dx)
        }
    }
}
