import CKernels
import Foundation
import Testing
@testable import Tensors
import GradientChecking

/// One convolution setting: shapes and window arguments (2-D; 1-D uses height 1 throughout).
private struct ConvCase: CustomStringConvertible, Sendable {
    var n, c, h, w, o, kh, kw: Int
    var stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1
    var bias = true
    var description: String {
        "x[\(n),\(c),\(h),\(w)] w[\(o),\(c),\(kh),\(kw)] s\(stride) p\(padding) d\(dilation) bias \(bias)"
    }
}

/// PyTorch's output size: ⌊(L + 2p − d(k − 1) − 1) / s⌋ + 1.
private func outSize(_ l: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> Int {
    (l + 2 * p - d * (k - 1) - 1) / s + 1
}

/// The definition of cross-correlation, looped out in Double.
private func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ k: ConvCase) -> [Double] {
    let xs = x.scalars, ws = w.scalars, bs = b?.scalars
    let oh = outSize(k.h, k.kh, k.stride.height, k.padding.height, k.dilation.height)
    let ow = outSize(k.w, k.kw, k.stride.width, k.padding.width, k.dilation.width)
    var out: [Double] = []
    for n in 0..<k.n {
        for o in 0..<k.o {
            for i in 0..<oh {
                for j in 0..<ow {
                    var s = bs.map { Double($0[o]) } ?? 0
                    for c in 0..<k.c {
                        for u in 0..<k.kh {
                            for v in 0..<k.kw {
                                let ih = i * k.stride.height + u * k.dilation.height - k.padding.height
                                let iw = j * k.stride.width + v * k.dilation.width - k.padding.width
                                guard ih >= 0, ih < k.h, iw >= 0, iw < k.w else { continue }
                                s += Double(ws[((o * k.c + c) * k.kh + u) * k.kw + v]) * Double(xs[((n * k.c + c) * k.h + ih) * k.w + iw])
                            }
                        }
                    }
                    out.append(s)
                }
            }
        }
    }
    return out
}

private func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

private let cases2d: [ConvCase] = [
    ConvCase(n: 2, c: 3, h: 7, w: 6, o: 4, kh: 3, kw: 3),
    ConvCase(n: 3, c: 2, h: 8, w: 8, o: 5, kh: 3, kw: 3, stride: 2, padding: 1),
    ConvCase(n: 2, c: 3, h: 9, w: 7, o: 2, kh: 2, kw: 3, stride: Size2D(1, 2), padding: Size2D(2, 1), dilation: 2),
    ConvCase(n: 1, c: 4, h: 5, w: 10, o: 3, kh: 1, kw: 4, stride: Size2D(3, 1), padding: Size2D(0, 3), dilation: Size2D(1, 3), bias: false),
    ConvCase(n: 4, c: 1, h: 8, w: 8, o: 6, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 2, c: 2, h: 3, w: 3, o: 2, kh: 3, kw: 3, padding: 2, dilation: 2),
]

private let cases1d: [ConvCase] = [
    ConvCase(n: 2, c: 3, h: 1, w: 11, o: 4, kh: 1, kw: 3),
    ConvCase(n: 3, c: 2, h: 1, w: 12, o: 3, kh: 1, kw: 5, stride: Size2D(1, 2), padding: Size2D(0, 2)),
    ConvCase(n: 2, c: 3, h: 1, w: 13, o: 2, kh: 1, kw: 3, padding: Size2D(0, 1), dilation: Size2D(1, 2)),
    ConvCase(n: 1, c: 4, h: 1, w: 20, o: 3, kh: 1, kw: 5, stride: Size2D(1, 3), padding: Size2D(0, 2), dilation: Size2D(1, 2), bias: false),
]

/// Cases for the tiled path's input gradient as a transposed convolution (stride 1, at least 4
/// input channels, padding up to d·(K − 1)), the small-CNN shapes, and column counts that are not a
/// multiple of the 8- and 16-wide tiles.
private let transposedCases: [ConvCase] = [
    ConvCase(n: 3, c: 5, h: 6, w: 5, o: 4, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 2, c: 4, h: 7, w: 9, o: 7, kh: 3, kw: 2, padding: Size2D(2, 1), dilation: Size2D(2, 1)),
    ConvCase(n: 2, c: 6, h: 5, w: 5, o: 3, kh: 2, kw: 3, bias: false),
    ConvCase(n: 5, c: 16, h: 4, w: 4, o: 32, kh: 3, kw: 3, padding: 1, bias: false),
    ConvCase(n: 3, c: 8, h: 1, w: 19, o: 13, kh: 1, kw: 5, padding: Size2D(0, 2)),
]

/// Cases for Winograd's F(2×2, 3×3) (3×3 kernel, stride 1, channel counts multiples of 8): padding
/// 0, 1 and 2, odd output sizes (a last block half outside), 1 × n images.
private let winogradCases: [ConvCase] = [
    ConvCase(n: 3, c: 8, h: 5, w: 7, o: 16, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 2, c: 16, h: 6, w: 6, o: 8, kh: 3, kw: 3, bias: true),
    ConvCase(n: 2, c: 8, h: 3, w: 4, o: 8, kh: 3, kw: 3, padding: 2, bias: false),
    ConvCase(n: 1, c: 8, h: 1, w: 9, o: 8, kh: 3, kw: 3, padding: Size2D(1, 0)),
    ConvCase(n: 70, c: 16, h: 4, w: 4, o: 32, kh: 3, kw: 3, padding: 1, bias: false),
]

private let allCases2d: [ConvCase] = cases2d + transposedCases + winogradCases
private let forwardAlgorithms: [ConvolutionAlgorithm] = [.im2col, .direct, .tiled]

private func inputs(_ k: ConvCase, seed: UInt64, oneD: Bool) -> (x: Tensor, w: Tensor, b: Tensor?) {
    let x = randomTensor(oneD ? [k.n, k.c, k.w] : [k.n, k.c, k.h, k.w], seed: seed)
    let w = randomTensor(oneD ? [k.o, k.c, k.kw] : [k.o, k.c, k.kh, k.kw], seed: seed + 1)
    return (x, w, k.bias ? randomTensor([k.o], seed: seed + 2) : nil)
}

@Suite struct ConvolutionTests {
    @Test(arguments: allCases2d, forwardAlgorithms)
    fileprivate func conv2dMatchesDefinition(_ k: ConvCase, _ algorithm: ConvolutionAlgorithm) {
        let (x, w, b) = inputs(k, seed: 11, oneD: false)
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation, algorithm: algorithm)
        let oh = outSize(k.h, k.kh, k.stride.height, k.padding.height, k.dilation.height)
        let ow = outSize(k.w, k.kw, k.stride.width, k.padding.width, k.dilation.width)
        #expect(y.shape == [k.n, k.o, oh, ow], "\(k)")
        #expect(maxDifference(y.scalars, referenceConv2d(x, w, b, k)) < 1e-5, "\(k)")
    }

    @Test(arguments: cases1d, forwardAlgorithms)
    fileprivate func conv1dMatchesDefinition(_ k: ConvCase, _ algorithm: ConvolutionAlgorithm) {
        let (x, w, b) = inputs(k, seed: 21, oneD: true)
        let y = Tensor.conv1d(x, weight: w, bias: b, stride: k.stride.width, padding: k.padding.width,
                              dilation: k.dilation.width, algorithm: algorithm)
        #expect(y.shape == [k.n, k.o, outSize(k.w, k.kw, k.stride.width, k.padding.width, k.dilation.width)], "\(k)")
        let reference = referenceConv2d(x.reshaped([k.n, k.c, 1, k.w]), w.reshaped([k.o, k.c, 1, k.kw]), b, k)
        #expect(maxDifference(y.scalars, reference) < 1e-5, "\(k)")
    }

    @Test func publicEntryPointsAgreeWithBothAlgorithms() {
        // The sizes the automatic choice was tuned on: a small CNN and a time-delay net.
        let image = randomTensor([8, 1, 8, 8], seed: 3), k1 = randomTensor([16, 1, 3, 3], seed: 4)
        let a = Tensor.conv2d(image, weight: k1, padding: 1)
        let b = Tensor.conv2d(image, weight: k1, bias: nil, stride: 1, padding: 1, dilation: 1, algorithm: .im2col)
        #expect(maxAbsDifference(a, b) < 1e-5)
        let seq = randomTensor([4, 3, 50], seed: 5), k2 = randomTensor([8, 3, 5], seed: 6)
        let c = Tensor.conv1d(seq, weight: k2, padding: 2)
        let d = Tensor.conv1d(seq, weight: k2, bias: nil, stride: 1, padding: 2, dilation: 1, algorithm: .direct)
        #expect(maxAbsDifference(c, d) < 1e-5)
    }

    @Test func batchSplitIntoChunksMatchesDefinition() throws {
        // 37 images of 2 700 column entries each: several chunks, the last one short.
        let k = ConvCase(n: 37, c: 3, h: 10, w: 10, o: 16, kh: 3, kw: 3, padding: 1)
        #expect(Tensor.imagesPerChunk(SpatialWindow(op: "test", input: [37, 3, 10, 10], kernel: 3, stride: 1, padding: 1,
                                                    dilation: 1, oneD: false), outChannels: 16) < 37)
        let (x, w, b) = inputs(k, seed: 71, oneD: false)
        let y = Tensor.conv2d(x, weight: w, bias: b, padding: 1)
        #expect(maxDifference(y.scalars, referenceConv2d(x, w, b, k)) < 1e-5)
        let result = try gradCheck([x, w, b!], maxElementsPerInput: 64) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t[2], padding: 1)
        }
        #expect(result.maxError < 2e-3, "\(result)")
    }

    @Test func outputSizeFollowsPyTorchFormula() {
        for l in [5, 8, 13] {
            for k in [1, 2, 3, 4] {
                for s in [1, 2, 3] {
                    for p in [0, 1, 2] {
                        for d in [1, 2] where d * (k - 1) + 1 <= l + 2 * p {
                            let y = Tensor.conv1d(Tensor.zeros([1, 1, l]), weight: Tensor.zeros([1, 1, k]),
                                                  stride: s, padding: p, dilation: d)
                            #expect(y.shape == [1, 1, outSize(l, k, s, p, d)], "L \(l) k \(k) s \(s) p \(p) d \(d)")
                        }
                    }
                }
            }
        }
    }

    @Test func kernelEqualToPaddedInputGivesOneOutput() {
        let y = Tensor.conv2d(Tensor.ones([1, 1, 2, 3]), weight: Tensor.ones([1, 1, 4, 5]), padding: 1)
        #expect(y.shape == [1, 1, 1, 1])
        #expect(y.item == 6)
    }

    @Test(arguments: cases2d.prefix(4))
    fileprivate func conv2dGradients(_ k: ConvCase) throws {
        let (x, w, b) = inputs(k, seed: 31, oneD: false)
        let result = try gradCheck(b.map { [x, w, $0] } ?? [x, w]) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil,
                          stride: k.stride, padding: k.padding, dilation: k.dilation)
        }
        #expect(result.maxError < 2e-3, "\(k): \(result)")
    }

    @Test(arguments: cases1d)
    fileprivate func conv1dGradients(_ k: ConvCase) throws {
        let (x, w, b) = inputs(k, seed: 41, oneD: true)
        let result = try gradCheck(b.map { [x, w, $0] } ?? [x, w]) { t in
            Tensor.conv1d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil,
                          stride: k.stride.width, padding: k.padding.width, dilation: k.dilation.width)
        }
        #expect(result.maxError < 2e-3, "\(k): \(result)")
    }

    @Test(arguments: allCases2d)
    fileprivate func tiledGradients(_ k: ConvCase) throws {
        // Every input gradient path of the tiled kernels: col2im (stride ≠ 1 or < 4 channels), the
        // transposed convolution and Winograd's transforms; the weight gradient over groups of
        // images. A convolution is linear in each input, so a wide step has no truncation error and
        // keeps Float rounding in the forward pass (larger through Winograd's transformed sums)
        // from swamping the difference.
        let (x, w, b) = inputs(k, seed: 81, oneD: false)
        let result = try gradCheck(b.map { [x, w, $0] } ?? [x, w], epsilon: 3e-2, maxElementsPerInput: 48) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil,
                          stride: k.stride, padding: k.padding, dilation: k.dilation, algorithm: .tiled)
        }
        #expect(result.maxError < 2e-3, "\(k): \(result)")
    }

    @Test(arguments: winogradCases)
    fileprivate func winogradAndTilesAgree(_ k: ConvCase) throws {
        // The same convolution with Winograd's transform switched off in the C kernels: forward
        // and both gradients (the switch is process-wide; the other tests are right either way).
        let x = randomTensor([k.n, k.c, k.h, k.w], seed: 101).requiringGrad()
        let w = randomTensor([k.o, k.c, k.kh, k.kw], seed: 102).requiringGrad()
        let b = k.bias ? randomTensor([k.o], seed: 103).requiringGrad() : nil
        var results: [(Tensor, Tensor, Tensor)] = []
        for winograd in [true, false] {
            ck_conv_set_winograd(winograd ? 1 : 0)
            defer { ck_conv_set_winograd(1) }
            x.zeroGrad(); w.zeroGrad()
            let y = Tensor.conv2d(x, weight: w, bias: b, stride: 1, padding: k.padding, dilation: 1, algorithm: .tiled)
            try (y * y).sum().backward()
            results.append((y, try #require(x.grad), try #require(w.grad)))
        }
        #expect(maxDifference(results[0].0.scalars, referenceConv2d(x, w, b, k)) < 1e-5, "\(k)")
        #expect(maxAbsDifference(results[0].0, results[1].0) < 1e-5, "\(k)")
        #expect(maxAbsDifference(results[0].1, results[1].1) < 1e-3, "\(k)")
        #expect(maxAbsDifference(results[0].2, results[1].2) < 1e-3, "\(k)")
    }

    @Test func tiledMatchesIm2colOnTheDigitsCNNOnTwoThreads() throws {
        // The two layers of the digits CNN at a batch that splits into several tasks: forward and
        // both gradients against im2col + GEMM.
        let saved = Threading.threadCount
        Threading.threadCount = 2
        defer { Threading.threadCount = saved }
        for (xs, ws) in [([96, 1, 8, 8], [16, 1, 3, 3]), ([96, 16, 4, 4], [32, 16, 3, 3])] {
            let x = randomTensor(xs, seed: 91).requiringGrad(), w = randomTensor(ws, seed: 92).requiringGrad()
            let seed = randomTensor([xs[0], ws[0], xs[2], xs[3]], seed: 93)
            var results: [(Tensor, Tensor, Tensor)] = []
            for a in [ConvolutionAlgorithm.tiled, .im2col] {
                x.zeroGrad(); w.zeroGrad()
                let y = Tensor.conv2d(x, weight: w, bias: nil, stride: 1, padding: 1, dilation: 1, algorithm: a)
                try y.backward(seed: seed)
                results.append((y, try #require(x.grad), try #require(w.grad)))
            }
            #expect(maxAbsDifference(results[0].0, results[1].0) < 1e-4)
            #expect(maxAbsDifference(results[0].1, results[1].1) < 1e-4)
            #expect(maxAbsDifference(results[0].2, results[1].2) < 1e-3)
        }
    }

    @Test func directForwardHasTheSameGradients() throws {
        let k = cases2d[1]
        let (x, w, b) = inputs(k, seed: 51, oneD: false)
        let result = try gradCheck([x, w, b!]) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t[2], stride: k.stride, padding: k.padding, dilation: k.dilation,
                          algorithm: .direct)
        }
        #expect(result.maxError < 2e-3, "\(result)")
    }

    @Test func gradientOnlyForWeightSkipsInput() throws {
        // A first layer: the data needs no gradient, the weight and bias do.
        let x = randomTensor([2, 1, 6, 6], seed: 61)
        let w = randomTensor([3, 1, 3, 3], seed: 62).requiringGrad(), b = Tensor.zeros([3]).requiringGrad()
        try Tensor.conv2d(x, weight: w, bias: b, padding: 1).sum().backward()
        #expect(w.grad?.shape == [3, 1, 3, 3])
        // d(Σy)/db[o] is the number of output positions.
        #expect(b.grad?.scalars == [Float](repeating: 72, count: 3))
    }

    @Test func kernelLargerThanPaddedInputStops() async {
        let stop1 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv1d(Tensor.zeros([1, 1, 4]), weight: Tensor.zeros([1, 1, 3]), padding: 0, dilation: 2)
        }
        #expect(stopMessage(stop1).contains("conv1d: effective kernel size 5 (kernel 3, dilation 2) exceeds padded input size 4"), "\(stopMessage(stop1))")
        let stop2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv2d(Tensor.zeros([1, 1, 4, 4]), weight: Tensor.zeros([1, 1, 7, 3]), padding: 1)
        }
        #expect(stopMessage(stop2).contains("conv2d: effective kernel size"), "\(stopMessage(stop2))")
    }

    @Test func mismatchedChannelsStop() async {
        let stop3 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv2d(Tensor.zeros([1, 2, 4, 4]), weight: Tensor.zeros([1, 3, 3, 3]))
        }
        #expect(stopMessage(stop3).contains("conv2d: weight [1, 3, 3, 3] expects 3 input channels, input [1, 2, 4, 4] has 2"), "\(stopMessage(stop3))")
    }

    @Test func windowMessagesNameTheShapes() {
        // The messages the precondition stops with (release builds do not print them).
        let long = SpatialWindow.problem(input: [1, 1, 1, 4], kernel: Size2D(1, 3), stride: 1, padding: 0,
                                         dilation: Size2D(1, 2), oneD: true)
        #expect(long == "effective kernel size 5 (kernel 3, dilation 2) exceeds padded input size 4 (input [1, 1, 4], padding 0)")
        let tall = SpatialWindow.problem(input: [2, 1, 4, 4], kernel: Size2D(7, 3), stride: 1, padding: 1,
                                         dilation: 1, oneD: false)
        #expect(tall == "effective kernel size (7, 3) (kernel (7, 3), dilation (1, 1)) exceeds padded input size (6, 6) (input [2, 1, 4, 4], padding (1, 1))")
        #expect(SpatialWindow.problem(input: [1, 1, 4, 4], kernel: 3, stride: 0, padding: 0, dilation: 1, oneD: false)
            == "stride (0, 0) must be positive (input [1, 1, 4, 4])")
        #expect(SpatialWindow.problem(input: [1, 1, 4, 4], kernel: 3, stride: 1, padding: 1, dilation: 1, oneD: false) == nil)
    }

    /// The tiled kernels, im2col + GEMM and the direct loop on a small CNN and a time-delay net,
    /// forward alone and forward + backward. Prints a table; run with
    /// `SIAMESE_BENCH_CONV=1 swift test -c release --filter ConvolutionTests/timings`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SIAMESE_BENCH_CONV"] != nil))
    func timings() throws {
        struct Layer { var name: String; var x: [Int]; var w: [Int]; var padding: Int; var inputGrad: Bool }
        let layers = [
            Layer(name: "cnn 1→16 8×8 3×3", x: [128, 1, 8, 8], w: [16, 1, 3, 3], padding: 1, inputGrad: false),
            Layer(name: "digits 16→32 4×4", x: [256, 16, 4, 4], w: [32, 16, 3, 3], padding: 1, inputGrad: true),
            Layer(name: "cnn 16→32 8×8 3×3", x: [128, 16, 8, 8], w: [32, 16, 3, 3], padding: 1, inputGrad: true),
            Layer(name: "tdnn 3→32 L200 k5", x: [64, 3, 200], w: [32, 3, 5], padding: 0, inputGrad: false),
            Layer(name: "tdnn 32→64 L196 k5", x: [64, 32, 196], w: [64, 32, 5], padding: 0, inputGrad: true),
        ]
        func conv(_ l: Layer, _ x: Tensor, _ w: Tensor, _ b: Tensor, _ a: ConvolutionAlgorithm) -> Tensor {
            l.x.count == 4
                ? Tensor.conv2d(x, weight: w, bias: b, stride: 1, padding: Size2D(l.padding), dilation: 1, algorithm: a)
                : Tensor.conv1d(x, weight: w, bias: b, stride: 1, padding: l.padding, dilation: 1, algorithm: a)
        }
        /// Fastest of `reps` wall times, in microseconds: on a machine shared with other work the
        /// minimum is the best estimate of the uncontended time.
        func fastest(_ reps: Int, _ body: () throws -> Void) rethrows -> Double {
            try body()
            var best = Double.infinity
            for _ in 0..<reps {
                let start = ContinuousClock.now
                try body()
                let d = ContinuousClock.now - start
                best = Swift.min(best, Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
            }
            return best
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first ?? "?"
        print("conv timings (fastest of 30, µs; \(Threading.threadCount) threads; load average \(load))")
        print("layer                 | fwd tiled | fwd im2col | fwd direct | fwd+bwd tiled | fwd+bwd im2col | fwd+bwd direct")
        for l in layers {
            let x0 = randomTensor(l.x, seed: 1), w0 = randomTensor(l.w, seed: 2), b0 = randomTensor([l.w[0]], seed: 3)
            var row: [Double] = []
            for a in [ConvolutionAlgorithm.tiled, .im2col, .direct] {
                row.append(fastest(30) { _ = conv(l, x0, w0, b0, a) })
            }
            for a in [ConvolutionAlgorithm.tiled, .im2col, .direct] {
                let x = l.inputGrad ? x0.requiringGrad() : x0, w = w0.requiringGrad(), b = b0.requiringGrad()
                row.append(try fastest(30) { try conv(l, x, w, b, a).sum().backward() })
            }
            let cells = row.map { String(format: "%10.0f", $0) }
            print("\(l.name.padding(toLength: 21, withPad: " ", startingAt: 0)) | \(cells[0]) | \(cells[1]) | \(cells[2]) | "
                + "\(cells[3])    | \(cells[4])     | \(cells[5])")
        }
    }
}

/// The pool of large tensor buffers behind `TensorStorage` (placed here: convolution training is
/// what it was measured on).
@Suite struct StoragePoolTests {
    @Test func largeBuffersAreReusedAndSmallOnesAreNot() {
        #expect(StoragePool.sizeClass(1000) == nil)
        #expect(StoragePool.sizeClass(1 << 16) == 1 << 16)
        #expect(StoragePool.sizeClass((1 << 16) + 1) == (1 << 16) + 4096)
        // A size class no other test uses: a buffer given back is handed out again. The pool is
        // process-wide and bounded (maxBytes), and suites run in parallel, so the buffer is given
        // back by hand and reuse is checked whenever the pool accepts it.
        let count = (1 << 20) / 4 + 1234
        let size = StoragePool.sizeClass(count * 4)!
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: TensorStorage.alignment)
        if StoragePool.give(buffer, size) {
            let again = TensorStorage(count: count, repeating: 2)
            #expect(again.raw == buffer)
            #expect(again.floats[count - 1] == 2)
        } else {
            buffer.deallocate() // the pool was full (other suites' buffers): nothing to hand out
        }
        // Through TensorStorage: a freed large buffer leaves with the pool or the allocator, and a
        // new storage of that size is whole and initialised either way.
        do { _ = TensorStorage(count: count, repeating: 1) }
        let next = TensorStorage(count: count, repeating: 3)
        #expect(next.floats[0] == 3 && next.floats[count - 1] == 3)
    }

    @Test func concurrentAllocationsNeverShareABuffer() async {
        // Many tasks allocate, fill with their own value, check and free buffers of a few large
        // sizes at once: a buffer handed to two owners would show the other's value.
        await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var ok = true
                    for i in 0..<200 {
                        let count = (1 << 14) * (1 + (i + t) % 3) + 17
                        let s = TensorStorage(count: count, repeating: Float(t))
                        let p = s.floats
                        ok = ok && p[0] == Float(t) && p[count / 2] == Float(t) && p[count - 1] == Float(t)
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(StoragePool.keptBytes <= StoragePool.maxBytes)
    }
}
