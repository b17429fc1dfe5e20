import CKernels

/// 1-D and 2-D convolution (cross-correlation, as in PyTorch).
///
/// The default path (`ConvolutionAlgorithm.tiled`, in C: `CKernels/conv.c`) works image by image:
/// each image's column matrix stays in L1 and a register-tile kernel writes the NCHW output
/// directly, with no packing and no reordering; the backward pass rebuilds the columns the same
/// way. Large images, whose columns would not stay in cache, take the im2col + GEMM path below.
///
/// im2col + GEMM: the batch is cut into chunks of a few images whose column matrix [C·KH·KW, b·OH·OW] fits in
/// the L2 cache. Each chunk is one task: it builds its columns, runs one GEMM with the images
/// folded into the GEMM's long side (one image's 8×8 output alone is too narrow for the packed
/// kernel), and writes its slice of the output. The columns thus never travel to memory, the
/// threads share no data, and the backward pass rebuilds them chunk by chunk instead of keeping
/// the whole batch's columns alive. The weight gradient sums one GEMM per chunk.
///
/// 1-D convolution is the 2-D case with height 1; one code path serves both.

/// Two integers, one per spatial axis (height, width), for 2-D ops' kernel size, stride, padding
/// and dilation. An integer literal sets both: `stride: 2` means `Size2D(2, 2)`.
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Size along the height (second-to-last spatial) axis.
    public var height: Int
    /// Size along the width (last) axis; the only one 1-D ops use.
    public var width: Int

    /// A size with its own value per axis.
    /// - Parameters:
    ///   - height: Value along the height axis.
    ///   - width: Value along the width axis.
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value on both axes.
    /// - Parameters:
    ///   - both: Value for both axes.
    public init(_ both: Int) { self.init(both, both) }

    /// The same value on both axes, so that `stride: 2` reads as `Size2D(2, 2)`.
    /// - Parameters:
    ///   - value: Value for both axes.
    public init(integerLiteral value: Int) { self.init(value, value) }

    /// `"(height, width)"`.
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
}

/// dst[0..<n] = src[0..<n], eight lanes at a time: the runs here are short (often one 8-wide image
/// row), where a call to memcpy costs more than the copy.
@inline(__always)
fileprivate func runCopy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self),
                                                    as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] = src[i]; i += 1 }
}

/// dst[0..<n] += src[0..<n], eight lanes at a time.
@inline(__always)
fileprivate func runAdd(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
            + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] += src[i]; i += 1 }
}

/// dst[0..<n] += k · src[0..<n], eight lanes at a time.
@inline(__always)
fileprivate func runAxpy(_ dst: UnsafeMutablePointer<Float>, _ k: Float, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    let kv = SIMD8<Float>(repeating: k)
    while i + 8 <= n {
        let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
            + kv * UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] += k * src[i]; i += 1 }
}

/// A scratch buffer owned by one task.
fileprivate struct Scratch {
    let pointer: UnsafeMutablePointer<Float>
    init(_ count: Int) { pointer = .allocate(capacity: Swift.max(count, 1)) }
    func free() { pointer.deallocate() }
}

/// Which algorithm a convolution uses.
///
/// `.automatic` is `.tiled` (forward and backward image by image in C, `ck_conv2d_forward` /
/// `ck_conv2d_backward`) while one image's column matrix is at most ``Tensor/tiledColumnLimit``
/// floats, else `.im2col`. im2col + GEMM beat the direct loop at every size measured, 3–12× on the
/// layers of a small CNN and a time-delay net, and the tiled path beats im2col on those
/// (`ConvolutionTests.timings`). `.direct` (forward only; its backward is im2col's) stays as the
/// first baseline.
enum ConvolutionAlgorithm: Sendable {
    case automatic, im2col, direct, tiled
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
        let chosen = algorithm == .automatic
            ? (g.channels * g.kernelArea * g.outPlane <= tiledColumnLimit ? ConvolutionAlgorithm.tiled : .im2col) : algorithm
        let out: TensorStorage
        switch chosen {
        case .direct: out = directConvolution(x, w, b, g)
        case .tiled: out = tiledConvolution(x, w, b, g)
        default: out = im2colConvolution(x, w, b, g)
        }
        let result = Tensor(shape: outShape, storage: out)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        return result.recorded(op, inputs: inputs) { grad, needs in
            let (dx, dw) = chosen == .tiled
                ? tiledBackward(grad, x, w, g, needInput: needs[0], needWeight: needs[1])
                : convolutionBackward(grad, x, w, g, needInput: needs[0], needWeight: needs[1])
            let db = needs.count > 2 && needs[2] ? biasGradient(grad, g, outChannels: outC) : nil
            return b == nil ? [dx, dw] : [dx, dw, db]
        }
    }

    /// How many images each task takes: enough that its column matrix holds about
    /// `columnBudget` floats (it then stays in L2 between im2col and the GEMM), few enough that
    /// every thread gets a couple of tasks when the convolution is large enough to split.
    static func imagesPerChunk(_ g: SpatialWindow, outChannels: Int, columnBudget: Int = 1 << 16) -> Int {
        let perImage = Swift.max(1, g.channels * g.kernelArea * g.outPlane)
        var images = Swift.max(1, Swift.min(g.batch, columnBudget / perImage))
        let threads = Threading.threadCount
        if threads > 1 && perImage * outChannels * g.batch >= 1 << 20 {
            images = Swift.min(images, Swift.max(1, (g.batch + 2 * threads - 1) / (2 * threads)))
        }
        return images
    }

    /// Runs `body(first image, image count)` for every chunk, one chunk per task.
    private static func forEachChunk(_ g: SpatialWindow, images: Int, _ body: @Sendable (Int, Int) -> Void) {
        let chunks = (g.batch + images - 1) / images
        Threading.parallelFor(chunks) { ci in
            body(ci * images, Swift.min(images, g.batch - ci * images))
        }
    }

    private static func im2colConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: SpatialWindow) -> TensorStorage {
        let outC = w.shape[0], rows = g.channels * g.kernelArea
        let out = TensorStorage(dtype: .float32, count: g.batch * outC * g.outPlane)
        let xs = UInt(bitPattern: x.storage.floats), ws = UInt(bitPattern: w.storage.floats)
        let bs = b.map { UInt(bitPattern: $0.storage.floats) }, ys = UInt(bitPattern: out.floats)
        let images = imagesPerChunk(g, outChannels: outC)
        forEachChunk(g, images: images) { n0, count in
            let x = UnsafePointer<Float>(bitPattern: xs)!, w = UnsafePointer<Float>(bitPattern: ws)!
            let y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let cols = count * g.outPlane
            let col = Scratch(rows * cols), yT = Scratch(outC * cols)
            defer { col.free(); yT.free() }
            im2col(x + n0 * g.channels * g.inPlane, g, images: count, into: col.pointer)
            // [O, C·K] · [C·K, b·P] = [O, b·P]; then reorder to [b, O, P] and add the bias.
            Kernels.sgemm(transposeA: false, transposeB: false, m: outC, n: cols, k: rows,
                          a: w, lda: rows, b: col.pointer, ldb: cols, c: yT.pointer, ldc: cols)
            let bias = bs.map { UnsafePointer<Float>(bitPattern: $0)! }
            for n in 0..<count {
                for o in 0..<outC {
                    let src = yT.pointer + (o * count + n) * g.outPlane, dst = y + ((n0 + n) * outC + o) * g.outPlane
                    if let bias {
                        let k = bias[o]
                        for p in 0..<g.outPlane { dst[p] = src[p] + k }
                    } else {
                        runCopy(dst, src, g.outPlane)
                    }
                }
            }
        }
        return out
    }

    /// Input and weight gradients, chunk by chunk: the columns are rebuilt for the weight gradient,
    /// and each chunk's column gradient W^T·g is scattered back onto its own images.
    private static func convolutionBackward(_ grad: Tensor, _ x: Tensor, _ w: Tensor, _ g: SpatialWindow,
                                            needInput: Bool, needWeight: Bool) -> (Tensor?, Tensor?) {
        guard needInput || needWeight else { return (nil, nil) }
        let outC = w.shape[0], rows = g.channels * g.kernelArea
        let images = imagesPerChunk(g, outChannels: outC)
        let chunks = (g.batch + images - 1) / images
        let dx = needInput ? TensorStorage(dtype: .float32, count: x.count) : nil
        // One partial weight gradient per chunk, summed at the end: tasks never write the same memory.
        let partials = needWeight ? TensorStorage(dtype: .float32, count: chunks * outC * rows) : nil
        let gs = UInt(bitPattern: grad.storage.floats), xs = UInt(bitPattern: x.storage.floats)
        let ws = UInt(bitPattern: w.storage.floats)
        let dxs = dx.map { UInt(bitPattern: $0.floats) }, ps = partials.map { UInt(bitPattern: $0.floats) }
        forEachChunk(g, images: images) { n0, count in
            let grad = UnsafePointer<Float>(bitPattern: gs)!, w = UnsafePointer<Float>(bitPattern: ws)!
            let cols = count * g.outPlane
            // The output gradient as [O, b·P], the layout both GEMMs read.
            let gT = Scratch(outC * cols)
            defer { gT.free() }
            for n in 0..<count {
                for o in 0..<outC {
                    runCopy(gT.pointer + (o * count + n) * g.outPlane, grad + ((n0 + n) * outC + o) * g.outPlane, g.outPlane)
                }
            }
            if let ps {
                let x = UnsafePointer<Float>(bitPattern: xs)!
                let col = Scratch(rows * cols)
                defer { col.free() }
                im2col(x + n0 * g.channels * g.inPlane, g, images: count, into: col.pointer)
                let partial = UnsafeMutablePointer<Float>(bitPattern: ps)! + (n0 / images) * outC * rows
                Kernels.sgemm(transposeA: false, transposeB: true, m: outC, n: rows, k: cols,
                              a: gT.pointer, lda: cols, b: col.pointer, ldb: cols, c: partial, ldc: rows)
            }
            if let dxs {
                let dcol = Scratch(rows * cols)
                defer { dcol.free() }
                Kernels.sgemm(transposeA: true, transposeB: false, m: rows, n: cols, k: outC,
                              a: w, lda: rows, b: gT.pointer, ldb: cols, c: dcol.pointer, ldc: cols)
                col2im(dcol.pointer, g, images: count,
                       into: UnsafeMutablePointer<Float>(bitPattern: dxs)! + n0 * g.channels * g.inPlane)
            }
        }
        var dw: Tensor?
        if let partials {
            let d = TensorStorage(count: outC * rows, repeating: 0)
            for ci in 0..<chunks { runAdd(d.floats, partials.floats + ci * outC * rows, outC * rows) }
            dw = Tensor(shape: w.shape, storage: d)
        }
        return (dx.map { Tensor(shape: x.shape, storage: $0) }, dw)
    }

    /// Σ over images and positions of the output gradient, per channel.
    private static func biasGradient(_ grad: Tensor, _ g: SpatialWindow, outChannels outC: Int) -> Tensor {
        var db = [Float](repeating: 0, count: outC)
        let gp = grad.storage.floats
        for n in 0..<g.batch {
            for o in 0..<outC { db[o] += sumContiguous(gp + (n * outC + o) * g.outPlane, g.outPlane) }
        }
        return Tensor(shape: [outC], db)
    }

    /// The column matrix [C·KH·KW, b·OH·OW] of `images` images starting at `x`: row (c, u, v)
    /// holds, for every image and output position, the input element that kernel tap multiplies
    /// (0 in the padding).
    ///
    /// Each input plane is first copied into a zero-bordered scratch plane (unless there is no
    /// padding): every tap then reads whole runs with no bounds logic, and a stride-1 run is a
    /// vector copy. At the sizes of a small CNN a run is one 8-wide row, so this beats clipping.
    static func im2col(_ x: UnsafePointer<Float>, _ g: SpatialWindow, images: Int, into col: UnsafeMutablePointer<Float>) {
        let cols = images * g.outPlane
        let padded = g.padH > 0 || g.padW > 0
        let pw = g.width + 2 * g.padW, pPlane = (g.height + 2 * g.padH) * pw
        let scratch = Scratch(padded ? pPlane : 0)
        defer { scratch.free() }
        if padded { scratch.pointer.update(repeating: 0, count: pPlane) }
        for n in 0..<images {
            for c in 0..<g.channels {
                let plane: UnsafePointer<Float>
                if padded {
                    // The border stays zero; only the interior is rewritten.
                    for i in 0..<g.height {
                        runCopy(scratch.pointer + ((i + g.padH) * pw + g.padW), x + ((n * g.channels + c) * g.height + i) * g.width, g.width)
                    }
                    plane = UnsafePointer(scratch.pointer)
                } else {
                    plane = x + (n * g.channels + c) * g.inPlane
                }
                for u in 0..<g.kernelH {
                    for v in 0..<g.kernelW {
                        let tap = plane + (u * g.dilationH * pw + v * g.dilationW)
                        let out = col + ((c * g.kernelH + u) * g.kernelW + v) * cols + n * g.outPlane
                        for oh in 0..<g.outH {
                            let line = tap + oh * g.strideH * pw, row = out + oh * g.outW
                            if g.strideW == 1 {
                                runCopy(row, line, g.outW)
                            } else {
                                for ow in 0..<g.outW { row[ow] = line[ow * g.strideW] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of ``im2col(_:_:images:into:)``: adds each column entry back onto the input
    /// element it was read from (through a zero-bordered scratch plane, then cropped), overwriting
    /// the `images` images' gradient at `dx`.
    static func col2im(_ dcol: UnsafePointer<Float>, _ g: SpatialWindow, images: Int, into dx: UnsafeMutablePointer<Float>) {
        let cols = images * g.outPlane
        let padded = g.padH > 0 || g.padW > 0
        let pw = g.width + 2 * g.padW, pPlane = (g.height + 2 * g.padH) * pw
        let scratch = Scratch(padded ? pPlane : 0)
        defer { scratch.free() }
        for n in 0..<images {
            for c in 0..<g.channels {
                let plane = padded ? scratch.pointer : dx + (n * g.channels + c) * g.inPlane
                plane.update(repeating: 0, count: pPlane)
                for u in 0..<g.kernelH {
                    for v in 0..<g.kernelW {
                        let part = dcol + ((c * g.kernelH + u) * g.kernelW + v) * cols + n * g.outPlane
                        let tap = plane + (u * g.dilationH * pw + v * g.dilationW)
                        for oh in 0..<g.outH {
                            let line = tap + oh * g.strideH * pw, row = part + oh * g.outW
                            if g.strideW == 1 {
                                runAdd(line, row, g.outW)
                            } else {
                                for ow in 0..<g.outW { line[ow * g.strideW] += row[ow] }
                            }
                        }
                    }
                }
                if padded {
                    let out = dx + (n * g.channels + c) * g.inPlane
                    for i in 0..<g.height {
                        runCopy(out + i * g.width, scratch.pointer + ((i + g.padH) * pw + g.padW), g.width)
                    }
                }
            }
        }
    }
}

// MARK: - Tiled (image by image, in C)

extension Tensor {
    /// The largest column matrix of one image (C·KH·KW × OH·OW floats) that `.automatic` runs
    /// through the tiled kernels: 256 KB, within L2 together with the image and its output.
    static let tiledColumnLimit = 1 << 16

    /// How many tasks a tiled convolution of `g` splits into: one when the whole batch is a few
    /// microseconds of work, else a few per thread (handed out dynamically, so a thread that
    /// another process delays leaves its share to the others), never more than the images.
    static func tiledChunks(_ g: SpatialWindow, outChannels: Int) -> Int {
        let threads = Threading.threadCount
        let work = g.batch * outChannels * g.channels * g.kernelArea * g.outPlane
        if threads == 1 || work < 1 << 19 { return 1 }
        return Swift.min(g.batch, 2 * threads)
    }

    private static func geometry(_ g: SpatialWindow, outChannels: Int) -> ck_conv_geometry {
        ck_conv_geometry(channels: Int64(g.channels), height: Int64(g.height), width: Int64(g.width),
                         out_channels: Int64(outChannels), kernel_h: Int64(g.kernelH), kernel_w: Int64(g.kernelW),
                         stride_h: Int64(g.strideH), stride_w: Int64(g.strideW), pad_h: Int64(g.padH), pad_w: Int64(g.padW),
                         dilation_h: Int64(g.dilationH), dilation_w: Int64(g.dilationW),
                         out_h: Int64(g.outH), out_w: Int64(g.outW))
    }

    static func tiledConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: SpatialWindow) -> TensorStorage {
        let outC = w.shape[0]
        let out = TensorStorage(dtype: .float32, count: g.batch * outC * g.outPlane)
        let geo = geometry(g, outChannels: outC)
        let inImage = g.channels * g.inPlane, outImage = outC * g.outPlane
        let xs = UInt(bitPattern: x.storage.floats), ws = UInt(bitPattern: w.storage.floats)
        let bs = b.map { UInt(bitPattern: $0.storage.floats) } ?? 0, ys = UInt(bitPattern: out.floats)
        let chunks = tiledChunks(g, outChannels: outC)
        Threading.parallelFor(chunks) { ci in
            let n0 = g.batch * ci / chunks, n1 = g.batch * (ci + 1) / chunks
            guard n1 > n0 else { return }
            withUnsafePointer(to: geo) { geo in
                ck_conv2d_forward(geo, Int64(n1 - n0), UnsafePointer<Float>(bitPattern: xs)! + n0 * inImage,
                                  UnsafePointer<Float>(bitPattern: ws), UnsafePointer<Float>(bitPattern: bs),
                                  UnsafeMutablePointer<Float>(bitPattern: ys)! + n0 * outImage)
            }
        }
        return out
    }

    /// Input and weight gradients image by image; each task adds its images' weight gradient to
    /// its own transposed partial [C·KH·KW, O], and the partials are summed and transposed at the end.
    static func tiledBackward(_ grad: Tensor, _ x: Tensor, _ w: Tensor, _ g: SpatialWindow,
                              needInput: Bool, needWeight: Bool) -> (Tensor?, Tensor?) {
        guard needInput || needWeight else { return (nil, nil) }
        let outC = w.shape[0], rows = g.channels * g.kernelArea
        let geo = geometry(g, outChannels: outC)
        let inImage = g.channels * g.inPlane, outImage = outC * g.outPlane
        let chunks = tiledChunks(g, outChannels: outC)
        let dx = needInput ? TensorStorage(dtype: .float32, count: x.count) : nil
        let partials = needWeight ? TensorStorage(count: chunks * rows * outC, repeating: 0) : nil
        let xs = UInt(bitPattern: x.storage.floats), ws = UInt(bitPattern: w.storage.floats)
        let gs = UInt(bitPattern: grad.storage.floats)
        let dxs = dx.map { UInt(bitPattern: $0.floats) } ?? 0, ps = partials.map { UInt(bitPattern: $0.floats) } ?? 0
        Threading.parallelFor(chunks) { ci in
            let n0 = g.batch * ci / chunks, n1 = g.batch * (ci + 1) / chunks
            guard n1 > n0 else { return }
            withUnsafePointer(to: geo) { geo in
                ck_conv2d_backward(geo, Int64(n1 - n0), UnsafePointer<Float>(bitPattern: xs)! + n0 * inImage,
                                   UnsafePointer<Float>(bitPattern: ws),
                                   UnsafePointer<Float>(bitPattern: gs)! + n0 * outImage,
                                   UnsafeMutablePointer<Float>(bitPattern: dxs).map { $0 + n0 * inImage },
                                   UnsafeMutablePointer<Float>(bitPattern: ps).map { $0 + ci * rows * outC })
            }
        }
        var dw: Tensor?
        if let partials {
            let p = partials.floats
            for ci in 1..<Swift.max(chunks, 1) { runAdd(p, p + ci * rows * outC, rows * outC) }
            let d = TensorStorage(dtype: .float32, count: outC * rows)
            for k in 0..<rows {
                for o in 0..<outC { d.floats[o * rows + k] = p[k * outC + o] }
            }
            dw = Tensor(shape: w.shape, storage: d)
        }
        return (dx.map { Tensor(shape: x.shape, storage: $0) }, dw)
    }
}

// MARK: - Direct convolution

extension Tensor {
    /// The forward pass without a column matrix: each output row accumulates, tap by tap, a scaled
    /// row of the (zero-bordered) input. Kept as the baseline im2col was measured against.
    static func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: SpatialWindow) -> TensorStorage {
        let outC = w.shape[0]
        let out = TensorStorage(dtype: .float32, count: g.batch * outC * g.outPlane)
        let pw = g.width + 2 * g.padW, pPlane = (g.height + 2 * g.padH) * pw
        let xs = UInt(bitPattern: x.storage.floats), ws = UInt(bitPattern: w.storage.floats)
        let bs = b.map { UInt(bitPattern: $0.storage.floats) }, ys = UInt(bitPattern: out.floats)
        Threading.parallelRanges(g.batch, costPerItem: outC * g.channels * g.kernelArea * g.outPlane) { range in
            let x = UnsafePointer<Float>(bitPattern: xs)!, w = UnsafePointer<Float>(bitPattern: ws)!
            let y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let image = Scratch(g.channels * pPlane)
            defer { image.free() }
            image.pointer.update(repeating: 0, count: g.channels * pPlane)
            for n in range {
                for c in 0..<g.channels {
                    for i in 0..<g.height {
                        runCopy(image.pointer + (c * pPlane + (i + g.padH) * pw + g.padW),
                                x + ((n * g.channels + c) * g.height + i) * g.width, g.width)
                    }
                }
                for o in 0..<outC {
                    let plane = y + (n * outC + o) * g.outPlane
                    plane.update(repeating: bs.map { UnsafePointer<Float>(bitPattern: $0)![o] } ?? 0, count: g.outPlane)
                    for c in 0..<g.channels {
                        let taps = w + (o * g.channels + c) * g.kernelArea
                        for u in 0..<g.kernelH {
                            for v in 0..<g.kernelW {
                                let k = taps[u * g.kernelW + v]
                                let tap = image.pointer + (c * pPlane + u * g.dilationH * pw + v * g.dilationW)
                                for oh in 0..<g.outH {
                                    let line = tap + oh * g.strideH * pw, row = plane + oh * g.outW
                                    if g.strideW == 1 {
                                        runAxpy(row, k, line, g.outW)
                                    } else {
                                        for ow in 0..<g.outW { row[ow] += k * line[ow * g.strideW] }
                                    }
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
