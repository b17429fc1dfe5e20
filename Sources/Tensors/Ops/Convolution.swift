/// 1-D and 2-D convolution (cross-correlation, as in PyTorch) through im2col and one large GEMM.
///
/// The column matrix is laid out as [C·KH·KW, N·OH·OW]: the batch is folded into the GEMM's long
/// side, so the forward pass, the weight gradient and the column gradient are each a single GEMM
/// rather than one small GEMM per image (which cannot keep the packed kernel busy at the sizes of a
/// small CNN, where a single image's output is 8×8).
///
/// 1-D convolution is the 2-D case with height 1; one code path serves both.

/// Two integers, one per spatial axis (height, width), for 2-D ops' kernel size, stride, padding
/// and dilation. An integer literal sets both: `stride: 2` means `Size2D(2, 2)`.
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value on both axes.
    public init(_ both: Int) { self.init(both, both) }

    public init(integerLiteral value: Int) { self.init(value, value) }

    public var description: String { "(\(height), \(width))" }
}

/// The index arithmetic of a sliding window over NCHW data, shared by convolution and pooling.
struct SpatialWindow {
    let batch, channels, height, width: Int
    let kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW: Int
    let outH, outW: Int

    var inPlane: Int { height * width }
    var outPlane: Int { outH * outW }
    var kernelArea: Int { kernelH * kernelW }

    /// Validates the window against an NCHW shape (stopping with a message naming `op` and the
    /// shapes) and computes the output size as PyTorch does: ⌊(L + 2p − d(k − 1) − 1) / s⌋ + 1 per
    /// axis. `oneD` shows shapes and arguments as 1-D in messages (the height axis is then 1).
    init(op: String, input: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D,
         oneD: Bool) {
        if let problem = Self.problem(input: input, kernel: kernel, stride: stride, padding: padding,
                                      dilation: dilation, oneD: oneD) {
            check(false, op, problem)
        }
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (kernelH, kernelW) = (kernel.height, kernel.width)
        (strideH, strideW) = (stride.height, stride.width)
        (padH, padW) = (padding.height, padding.width)
        (dilationH, dilationW) = (dilation.height, dilation.width)
        outH = (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1
        outW = (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1
    }

    /// What is wrong with a window over `input` [N, C, H, W], or nil when it is valid.
    static func problem(input: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D,
                        oneD: Bool) -> String? {
        func show(_ s: Size2D) -> String { oneD ? "\(s.width)" : "\(s)" }
        let shown = "input \(oneD ? [input[0], input[1], input[3]] : input)"
        if kernel.height < 1 || kernel.width < 1 { return "kernel size \(show(kernel)) must be positive (\(shown))" }
        if stride.height < 1 || stride.width < 1 { return "stride \(show(stride)) must be positive (\(shown))" }
        if padding.height < 0 || padding.width < 0 { return "padding \(show(padding)) must not be negative (\(shown))" }
        if dilation.height < 1 || dilation.width < 1 { return "dilation \(show(dilation)) must be positive (\(shown))" }
        let span = Size2D(dilation.height * (kernel.height - 1) + 1, dilation.width * (kernel.width - 1) + 1)
        let padded = Size2D(input[2] + 2 * padding.height, input[3] + 2 * padding.width)
        if span.height > padded.height || span.width > padded.width {
            return "effective kernel size \(show(span)) (kernel \(show(kernel)), dilation \(show(dilation))) "
                + "exceeds padded input size \(show(padded)) (\(shown), padding \(show(padding)))"
        }
        return nil
    }

    /// The outputs `o` whose input position `o·stride + offset` lies in 0..<inCount.
    @inline(__always)
    static func validOutputs(count outCount: Int, stride: Int, offset: Int, inCount: Int) -> Range<Int> {
        // o·s + offset ≥ 0  ⇔  o ≥ ⌈−offset / s⌉;  o·s + offset ≤ inCount − 1  ⇔  o ≤ ⌊(inCount − 1 − offset) / s⌋
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = inCount - 1 - offset
        let hi = last < 0 ? 0 : Swift.min(outCount, last / stride + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }
}

/// Runs `body` over 0..<total split into contiguous ranges, on several threads when the work
/// (`total · costPerItem`, in rough element operations) repays the cost of waking them.
func spatialParallelRanges(_ total: Int, costPerItem: Int, _ body: @Sendable (Range<Int>) -> Void) {
    guard total > 0 else { return }
    let chunks = Swift.min(total, Swift.max(1, Swift.min(Threading.threadCount, total * costPerItem / 32_768)))
    if chunks == 1 { body(0..<total); return }
    Threading.parallelFor(chunks) { i in
        body((total * i / chunks)..<(total * (i + 1) / chunks))
    }
}

/// Which forward algorithm a convolution uses; `.automatic` picks by the measured crossover.
enum ConvolutionAlgorithm: Sendable {
    case automatic, im2col, direct
}

extension Tensor {
    /// 1-D convolution (cross-correlation) of `input` [N, C, L] with `weight` [O, C, K], plus `bias` [O]
    /// when given: y[n, o, t] = b[o] + Σ_c Σ_k w[o, c, k] · x[n, c, t·stride + k·dilation − padding],
    /// with zeros outside the input. Output [N, O, L′], L′ = ⌊(L + 2·padding − dilation·(K − 1) − 1) / stride⌋ + 1.
    ///
    /// Stops with a message when the shapes disagree or the dilated kernel is longer than the padded input.
    public static func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        conv1d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, algorithm: .automatic)
    }

    /// 2-D convolution (cross-correlation) of `input` [N, C, H, W] with `weight` [O, C, KH, KW], plus
    /// `bias` [O] when given:
    /// y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · x[n, c, i·sH + u·dH − pH, j·sW + v·dW − pW],
    /// with zeros outside the input. Output [N, O, H′, W′] with, per axis,
    /// H′ = ⌊(H + 2·pH − dH·(KH − 1) − 1) / sH⌋ + 1 (PyTorch's formula).
    ///
    /// Stops with a message when the shapes disagree or the dilated kernel is larger than the padded input.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) -> Tensor {
        conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, algorithm: .automatic)
    }

    static func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, dilation: Int,
                       algorithm: ConvolutionAlgorithm) -> Tensor {
        let op = "conv1d"
        check(input.rank == 3, op, "input must be [N, C, L], got \(input.shape)")
        check(weight.rank == 3, op, "weight must be [O, C, K], got \(weight.shape) (input \(input.shape))")
        let window = SpatialWindow(op: op, input: [input.shape[0], input.shape[1], 1, input.shape[2]],
                                   kernel: Size2D(1, weight.shape[2]), stride: Size2D(1, stride),
                                   padding: Size2D(0, padding), dilation: Size2D(1, dilation), oneD: true)
        return convolution(op, input, weight, bias, window, algorithm: algorithm,
                           outShape: [window.batch, weight.shape[0], window.outW])
    }

    static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D, dilation: Size2D,
                       algorithm: ConvolutionAlgorithm) -> Tensor {
        let op = "conv2d"
        check(input.rank == 4, op, "input must be [N, C, H, W], got \(input.shape)")
        check(weight.rank == 4, op, "weight must be [O, C, KH, KW], got \(weight.shape) (input \(input.shape))")
        let window = SpatialWindow(op: op, input: input.shape, kernel: Size2D(weight.shape[2], weight.shape[3]),
                                   stride: stride, padding: padding, dilation: dilation, oneD: false)
        return convolution(op, input, weight, bias, window, algorithm: algorithm,
                           outShape: [window.batch, weight.shape[0], window.outH, window.outW])
    }

    private static func convolution(_ op: String, _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: SpatialWindow,
                                    algorithm: ConvolutionAlgorithm, outShape: [Int]) -> Tensor {
        let outC = w.shape[0]
        check(w.shape[1] == g.channels, op, "weight \(w.shape) expects \(w.shape[1]) input channels, input \(x.shape) has \(g.channels)")
        if let b { check(b.shape == [outC], op, "bias must be [\(outC)] for weight \(w.shape), got \(b.shape)") }
        let rows = g.channels * g.kernelArea, cols = g.batch * g.outPlane

        let useDirect: Bool
        switch algorithm {
        case .im2col: useDirect = false
        case .direct: useDirect = true
        case .automatic: useDirect = preferDirect(g, outChannels: outC)
        }

        var columns: Tensor?
        let out: TensorStorage
        if useDirect {
            out = directConvolution(x, w, b, g)
        } else {
            let col = im2col(x, g)
            out = TensorStorage(dtype: .float32, count: outC * cols)
            let yT = TensorStorage(dtype: .float32, count: outC * cols)
            // [O, C·K] · [C·K, N·P] = [O, N·P]; then reorder to [N, O, P] and add the bias.
            Kernels.sgemm(transposeA: false, transposeB: false, m: outC, n: cols, k: rows,
                          a: w.storage.floats, lda: rows, b: col.storage.floats, ldb: cols, c: yT.floats, ldc: cols)
            spreadBatch(yT.floats, to: out.floats, outer: outC, batch: g.batch, plane: g.outPlane,
                        bias: b.map { $0.storage.floats })
            columns = col
        }
        let result = Tensor(shape: outShape, storage: out)

        let inputs = b.map { [x, w, $0] } ?? [x, w]
        return result.recorded(op, inputs: inputs) { grad, needs in
            // The output gradient as [O, N·P], the layout every backward GEMM reads.
            let gT = TensorStorage(dtype: .float32, count: outC * cols)
            gatherBatch(grad.storage.floats, to: gT.floats, outer: outC, batch: g.batch, plane: g.outPlane)
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            if needs[1] {
                let col = columns ?? im2col(x, g)
                let d = TensorStorage(dtype: .float32, count: outC * rows)
                Kernels.sgemm(transposeA: false, transposeB: true, m: outC, n: rows, k: cols,
                              a: gT.floats, lda: cols, b: col.storage.floats, ldb: cols, c: d.floats, ldc: rows)
                dw = Tensor(shape: w.shape, storage: d)
            }
            if needs[0] {
                let dcol = TensorStorage(dtype: .float32, count: rows * cols)
                Kernels.sgemm(transposeA: true, transposeB: false, m: rows, n: cols, k: outC,
                              a: w.storage.floats, lda: rows, b: gT.floats, ldb: cols, c: dcol.floats, ldc: cols)
                let d = TensorStorage(dtype: .float32, count: x.count)
                col2im(dcol.floats, g, into: d.floats)
                dx = Tensor(shape: x.shape, storage: d)
            }
            if needs.count > 2 && needs[2] {
                let d = TensorStorage(dtype: .float32, count: outC)
                for o in 0..<outC { d.floats[o] = sumContiguous(gT.floats + o * cols, cols) }
                db = Tensor(shape: [outC], storage: d)
            }
            return b == nil ? [dx, dw] : [dx, dw, db]
        }
    }

    /// The column matrix [C·KH·KW, N·OH·OW]: row (c, u, v) holds, for every image and output
    /// position, the input element that kernel tap multiplies (0 in the padding).
    static func im2col(_ x: Tensor, _ g: SpatialWindow) -> Tensor {
        let rows = g.channels * g.kernelArea, cols = g.batch * g.outPlane
        let col = TensorStorage(dtype: .float32, count: rows * cols)
        let src = UInt(bitPattern: x.storage.floats), dst = UInt(bitPattern: col.floats)
        spatialParallelRanges(rows * g.batch, costPerItem: g.outPlane) { range in
            let x = UnsafePointer<Float>(bitPattern: src)!, col = UnsafeMutablePointer<Float>(bitPattern: dst)!
            for item in range {
                let r = item / g.batch, n = item % g.batch
                let c = r / g.kernelArea, u = (r % g.kernelArea) / g.kernelW, v = r % g.kernelW
                let plane = x + (n * g.channels + c) * g.inPlane
                let out = col + r * cols + n * g.outPlane
                let offW = v * g.dilationW - g.padW
                let valid = SpatialWindow.validOutputs(count: g.outW, stride: g.strideW, offset: offW, inCount: g.width)
                for oh in 0..<g.outH {
                    let row = out + oh * g.outW
                    let ih = oh * g.strideH + u * g.dilationH - g.padH
                    guard ih >= 0 && ih < g.height else {
                        row.update(repeating: 0, count: g.outW)
                        continue
                    }
                    row.update(repeating: 0, count: valid.lowerBound)
                    let base = ih * g.width + offW
                    if g.strideW == 1 {
                        (row + valid.lowerBound).update(from: plane + (base + valid.lowerBound), count: valid.count)
                    } else {
                        for ow in valid { row[ow] = plane[base + ow * g.strideW] }
                    }
                    (row + valid.upperBound).update(repeating: 0, count: g.outW - valid.upperBound)
                }
            }
        }
        return Tensor(shape: [rows, cols], storage: col)
    }

    /// The adjoint of ``im2col(_:_:)``: adds each column entry back onto the input element it was
    /// read from. Parallel over (image, channel) planes, which no two tasks share.
    static func col2im(_ dcol: UnsafePointer<Float>, _ g: SpatialWindow, into dx: UnsafeMutablePointer<Float>) {
        let cols = g.batch * g.outPlane
        let src = UInt(bitPattern: dcol), dst = UInt(bitPattern: dx)
        spatialParallelRanges(g.batch * g.channels, costPerItem: g.kernelArea * g.outPlane) { range in
            let dcol = UnsafePointer<Float>(bitPattern: src)!, dx = UnsafeMutablePointer<Float>(bitPattern: dst)!
            for item in range {
                let n = item / g.channels, c = item % g.channels
                let plane = dx + item * g.inPlane
                plane.update(repeating: 0, count: g.inPlane)
                for u in 0..<g.kernelH {
                    for v in 0..<g.kernelW {
                        let r = (c * g.kernelH + u) * g.kernelW + v
                        let row = dcol + r * cols + n * g.outPlane
                        let offW = v * g.dilationW - g.padW
                        let valid = SpatialWindow.validOutputs(count: g.outW, stride: g.strideW, offset: offW, inCount: g.width)
                        for oh in 0..<g.outH {
                            let ih = oh * g.strideH + u * g.dilationH - g.padH
                            guard ih >= 0 && ih < g.height else { continue }
                            let base = ih * g.width + offW, part = row + oh * g.outW
                            for ow in valid { plane[base + ow * g.strideW] += part[ow] }
                        }
                    }
                }
            }
        }
    }

    /// [O, N·P] → [N, O, P], adding bias[o] on the way.
    private static func spreadBatch(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>,
                                    outer: Int, batch: Int, plane: Int, bias: UnsafePointer<Float>?) {
        for n in 0..<batch {
            for o in 0..<outer {
                let s = src + (o * batch + n) * plane, d = dst + (n * outer + o) * plane
                if let bias {
                    let b = bias[o]
                    for p in 0..<plane { d[p] = s[p] + b }
                } else {
                    d.update(from: s, count: plane)
                }
            }
        }
    }

    /// [N, O, P] → [O, N·P].
    private static func gatherBatch(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>,
                                    outer: Int, batch: Int, plane: Int) {
        for n in 0..<batch {
            for o in 0..<outer {
                (dst + (o * batch + n) * plane).update(from: src + (n * outer + o) * plane, count: plane)
            }
        }
    }
}

// MARK: - Direct convolution

extension Tensor {
    /// Whether the direct loop beats im2col + GEMM for this forward pass (see ``directConvolution``).
    static func preferDirect(_ g: SpatialWindow, outChannels: Int) -> Bool {
        false
    }

    /// The forward pass without a column matrix: each output plane accumulates, tap by tap, a scaled
    /// shifted row of the input. No packing and no copy, so it wins when C·KH·KW is too small for
    /// a GEMM to amortise its packing.
    static func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: SpatialWindow) -> TensorStorage {
        let outC = w.shape[0]
        let out = TensorStorage(dtype: .float32, count: g.batch * outC * g.outPlane)
        let xs = UInt(bitPattern: x.storage.floats), ws = UInt(bitPattern: w.storage.floats)
        let bs = b.map { UInt(bitPattern: $0.storage.floats) }, ys = UInt(bitPattern: out.floats)
        spatialParallelRanges(g.batch * outC, costPerItem: g.channels * g.kernelArea * g.outPlane) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, w = UnsafePointer<Float>(bitPattern: ws)!
            let y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            for item in range {
                let n = item / outC, o = item % outC
                let plane = y + item * g.outPlane
                plane.update(repeating: bs.map { UnsafePointer<Float>(bitPattern: $0)![o] } ?? 0, count: g.outPlane)
                for c in 0..<g.channels {
                    let input = x + (n * g.channels + c) * g.inPlane
                    let taps = w + (o * g.channels + c) * g.kernelArea
                    for u in 0..<g.kernelH {
                        for v in 0..<g.kernelW {
                            let k = taps[u * g.kernelW + v]
                            let offW = v * g.dilationW - g.padW
                            let valid = SpatialWindow.validOutputs(count: g.outW, stride: g.strideW, offset: offW, inCount: g.width)
                            for oh in 0..<g.outH {
                                let ih = oh * g.strideH + u * g.dilationH - g.padH
                                guard ih >= 0 && ih < g.height else { continue }
                                // Indices, not a shifted pointer: `offW` may point before the row.
                                let base = ih * g.width + offW, row = plane + oh * g.outW
                                if g.strideW == 1 {
                                    for ow in valid { row[ow] += k * input[base + ow] }
                                } else {
                                    for ow in valid { row[ow] += k * input[base + ow * g.strideW] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
