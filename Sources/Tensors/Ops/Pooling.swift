import CKernels

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

    private func maxPool(_ op: String, _ g: SpatialWindow, outShape: [Int]) -> Tensor {
        if g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0 {
            return maxPool2x2(op, g, outShape: outShape)
        }
        let planes = g.batch * g.channels
        let plan = PoolPlan(g, op: op, shape: shape)
        let out = TensorStorage(dtype: .float32, count: planes * g.outPlane)
        // Where each output's maximum sits within its input plane, for the backward pass.
        let argmax = PoolIndices(count: planes * g.outPlane)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        let ids = UInt(bitPattern: argmax.pointer)
        Threading.parallelRanges(planes, costPerItem: g.outPlane * g.kernelArea) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let index = UnsafeMutablePointer<Int32>(bitPattern: ids)!
            plan.forEachPlane(range, x, fill: -.infinity) { p, plane in
                plan.maxima(plane, into: y + p * g.outPlane, indices: index + p * g.outPlane)
            }
        }
        let inShape = shape
        return Tensor(shape: outShape, storage: out).recorded(op, input: self) { grad in
            let dx = TensorStorage(count: planes * g.inPlane, repeating: 0)
            // Overlapping windows (stride < kernel) may pick the same element: accumulate.
            for p in 0..<planes {
                let d = dx.floats + p * g.inPlane, gp = grad.storage.floats + p * g.outPlane
                let idx = argmax.pointer + p * g.outPlane
                for o in 0..<g.outPlane { d[Int(idx[o])] += gp[o] }
            }
            return Tensor(shape: inShape, storage: dx)
        }
    }

    /// The common 2×2 window with stride 2 and no padding, in C (`ck_maxpool2x2_forward`): eight
    /// windows at a time, and one byte per output saying which of the four elements won. The
    /// backward pass writes every input gradient element once (the windows do not overlap), with no
    /// zero fill and no scatter.
    private func maxPool2x2(_ op: String, _ g: SpatialWindow, outShape: [Int]) -> Tensor {
        let planes = g.batch * g.channels
        let out = TensorStorage(dtype: .float32, count: planes * g.outPlane)
        let taps = PoolTaps(count: planes * g.outPlane)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats), ts = UInt(bitPattern: taps.pointer)
        let (h, w) = (g.height, g.width)
        Threading.parallelRanges(planes, costPerItem: g.inPlane) { range in
            ck_maxpool2x2_forward(UnsafePointer<Float>(bitPattern: xs)! + range.lowerBound * h * w,
                                  UnsafeMutablePointer<Float>(bitPattern: ys)! + range.lowerBound * g.outPlane,
                                  UnsafeMutablePointer<UInt8>(bitPattern: ts)! + range.lowerBound * g.outPlane,
                                  Int64(range.count), Int64(h), Int64(w))
        }
        let inShape = shape
        return Tensor(shape: outShape, storage: out).recorded(op, input: self) { grad in
            let dx = TensorStorage(dtype: .float32, count: planes * g.inPlane)
            let gs = UInt(bitPattern: grad.storage.floats), ds = UInt(bitPattern: dx.floats)
            let ts = UInt(bitPattern: taps.pointer)
            Threading.parallelRanges(planes, costPerItem: g.inPlane) { range in
                ck_maxpool2x2_backward(UnsafePointer<Float>(bitPattern: gs)! + range.lowerBound * g.outPlane,
                                       UnsafePointer<UInt8>(bitPattern: ts)! + range.lowerBound * g.outPlane,
                                       UnsafeMutablePointer<Float>(bitPattern: ds)! + range.lowerBound * h * w,
                                       Int64(range.count), Int64(h), Int64(w))
            }
            return Tensor(shape: inShape, storage: dx)
        }
    }

    private func avgPool(_ op: String, _ g: SpatialWindow, outShape: [Int]) -> Tensor {
        let planes = g.batch * g.channels
        let plan = PoolPlan(g, op: op, shape: shape)
        let out = TensorStorage(dtype: .float32, count: planes * g.outPlane)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats)
        Threading.parallelRanges(planes, costPerItem: g.outPlane * g.kernelArea) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            plan.forEachPlane(range, x, fill: 0) { p, plane in
                plan.means(plane, into: y + p * g.outPlane)
            }
        }
        let inShape = shape
        return Tensor(shape: outShape, storage: out).recorded(op, input: self) { grad in
            let dx = TensorStorage(dtype: .float32, count: planes * g.inPlane)
            let gs = UInt(bitPattern: grad.storage.floats), ds = UInt(bitPattern: dx.floats)
            Threading.parallelRanges(planes, costPerItem: g.outPlane * g.kernelArea) { range in
                let gp = UnsafePointer<Float>(bitPattern: gs)!, d = UnsafeMutablePointer<Float>(bitPattern: ds)!
                plan.spreadMeans(range, gp, into: d)
            }
            return Tensor(shape: inShape, storage: dx)
        }
    }
}

/// The argmax of each max-pooling output within its input plane. A class so that the backward
/// closure keeps it alive without copying it.
private final class PoolIndices: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) { pointer = .allocate(capacity: Swift.max(count, 1)) }
    deinit { pointer.deallocate() }
}

/// Which of the four elements of each 2×2 window won, one byte per output.
private final class PoolTaps: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    init(count: Int) { pointer = .allocate(capacity: Swift.max(count, 1)) }
    deinit { pointer.deallocate() }
}

/// Where every window of a pooling op reads, computed once per call and shared by all planes.
///
/// Planes with padding are first copied into a scratch plane bordered with the fill value (−∞ for
/// max, 0 for average), so that every window is a full KH×KW block read at fixed offsets. Eight
/// consecutive outputs are then computed together, as vector lanes, with selects instead of
/// branches: which element of a window is largest is data, and a mispredicted branch per element
/// would cost more than the whole window.
private struct PoolPlan: @unchecked Sendable {
    let g: SpatialWindow
    let paddedWidth, paddedPlane: Int
    let padded: Bool
    /// Per output: the window's top-left corner in the (padded) plane.
    let start: [Int32]
    /// Per output: that corner's index in the unpadded plane (off the plane when it is padding).
    let origin: [Int32]
    /// Per output: the first element of the window that lies in the input, the answer when every
    /// element is −∞.
    let firstReal: [Int32]
    /// Per tap (u, v): its offset from the corner in the padded plane, and in the unpadded one.
    let tapOffset: [Int32]
    let tapOrigin: [Int32]

    init(_ g: SpatialWindow, op: String, shape: [Int]) {
        self.g = g
        padded = g.padH > 0 || g.padW > 0
        paddedWidth = g.width + 2 * g.padW
        paddedPlane = (g.height + 2 * g.padH) * paddedWidth
        check(paddedPlane < Int(Int32.max), op, "input plane of \(shape) is too large")
        var start: [Int32] = [], origin: [Int32] = [], firstReal: [Int32] = []
        for oh in 0..<g.outH {
            for ow in 0..<g.outW {
                let h0 = oh * g.strideH, w0 = ow * g.strideW
                start.append(Int32(h0 * paddedWidth + w0))
                origin.append(Int32((h0 - g.padH) * g.width + (w0 - g.padW)))
                firstReal.append(Int32(Swift.max(h0 - g.padH, 0) * g.width + Swift.max(w0 - g.padW, 0)))
            }
        }
        (self.start, self.origin, self.firstReal) = (start, origin, firstReal)
        var tapOffset: [Int32] = [], tapOrigin: [Int32] = []
        for u in 0..<g.kernelH {
            for v in 0..<g.kernelW {
                tapOffset.append(Int32(u * paddedWidth + v))
                tapOrigin.append(Int32(u * g.width + v))
            }
        }
        (self.tapOffset, self.tapOrigin) = (tapOffset, tapOrigin)
    }

    /// Calls `body(plane index, plane)` for each plane of `x` in `range`, with the plane bordered
    /// by `fill` when the window has padding.
    func forEachPlane(_ range: Range<Int>, _ x: UnsafePointer<Float>, fill: Float,
                      _ body: (Int, UnsafePointer<Float>) -> Void) {
        guard padded else {
            for p in range { body(p, x + p * g.inPlane) }
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: paddedPlane)
        defer { scratch.deallocate() }
        // The border is written once; each plane rewrites only the interior.
        scratch.initialize(repeating: fill, count: paddedPlane)
        for p in range {
            for i in 0..<g.height {
                (scratch + ((i + g.padH) * paddedWidth + g.padW)).update(from: x + (p * g.height + i) * g.width, count: g.width)
            }
            body(p, scratch)
        }
    }

    /// The maximum of each window of `plane` and its index in the unpadded plane.
    func maxima(_ plane: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        start.withUnsafeBufferPointer { start in
        origin.withUnsafeBufferPointer { origin in
        firstReal.withUnsafeBufferPointer { firstReal in
        tapOffset.withUnsafeBufferPointer { tapOffset in
        tapOrigin.withUnsafeBufferPointer { tapOrigin in
            var j = 0
            while j < g.outPlane {
                // The last group overlaps the one before rather than running past the end.
                let j0 = g.outPlane >= 8 ? Swift.min(j, g.outPlane - 8) : j
                if g.outPlane < 8 {
                    var best = -Float.infinity, at = firstReal[j0]
                    for t in 0..<tapOffset.count {
                        let value = plane[Int(start[j0] + tapOffset[t])]
                        // NaN wins and then stays, so that pooling does not hide it.
                        if !(value <= best) && !best.isNaN { best = value; at = origin[j0] + tapOrigin[t] }
                    }
                    y[j0] = best
                    indices[j0] = at
                    j += 1
                    continue
                }
                let corner = load8(start, j0), base = load8(origin, j0)
                var best = SIMD8<Float>(repeating: -.infinity), at = load8(firstReal, j0)
                for t in 0..<tapOffset.count {
                    let values = gather8(plane, corner &+ tapOffset[t])
                    let take = .!(values .<= best) .& (best .== best)
                    best.replace(with: values, where: take)
                    at.replace(with: base &+ tapOrigin[t], where: take)
                }
                for lane in 0..<8 { y[j0 + lane] = best[lane]; indices[j0 + lane] = at[lane] }
                j += 8
            }
        }}}}}
    }

    /// The mean of each window of `plane`, padding counted (divided by KH·KW).
    func means(_ plane: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(g.kernelArea)
        start.withUnsafeBufferPointer { start in
        tapOffset.withUnsafeBufferPointer { tapOffset in
            var j = 0
            while j < g.outPlane {
                if g.outPlane < 8 {
                    var sum: Float = 0
                    for t in 0..<tapOffset.count { sum += plane[Int(start[j] + tapOffset[t])] }
                    y[j] = sum * scale
                    j += 1
                    continue
                }
                let j0 = Swift.min(j, g.outPlane - 8)
                let corner = load8(start, j0)
                var sum = SIMD8<Float>()
                for t in 0..<tapOffset.count { sum += gather8(plane, corner &+ tapOffset[t]) }
                sum *= scale
                for lane in 0..<8 { y[j0 + lane] = sum[lane] }
                j += 8
            }
        }}
    }

    /// The backward pass of ``means(_:into:)`` for the planes in `range`: each output's gradient,
    /// divided by KH·KW, added to every input element of its window (through a padded scratch
    /// plane, then cropped).
    func spreadMeans(_ range: Range<Int>, _ grad: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(g.kernelArea)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: paddedPlane)
        defer { scratch.deallocate() }
        start.withUnsafeBufferPointer { start in
        tapOffset.withUnsafeBufferPointer { tapOffset in
            for p in range {
                scratch.initialize(repeating: 0, count: paddedPlane)
                let gp = grad + p * g.outPlane
                for j in 0..<g.outPlane {
                    let share = gp[j] * scale, corner = Int(start[j])
                    for t in 0..<tapOffset.count { scratch[corner + Int(tapOffset[t])] += share }
                }
                for i in 0..<g.height {
                    (dx + (p * g.height + i) * g.width).update(from: scratch + ((i + g.padH) * paddedWidth + g.padW), count: g.width)
                }
            }
        }}
    }
}

@inline(__always)
private func load8(_ p: UnsafeBufferPointer<Int32>, _ i: Int) -> SIMD8<Int32> {
    UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: SIMD8<Int32>.self)
}

@inline(__always)
private func gather8(_ plane: UnsafePointer<Float>, _ at: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8(plane[Int(at[0])], plane[Int(at[1])], plane[Int(at[2])], plane[Int(at[3])],
          plane[Int(at[4])], plane[Int(at[5])], plane[Int(at[6])], plane[Int(at[7])])
}
