import Testing
@testable import Tensors
import GradientChecking

/// One pooling setting over [N, C, H, W] (1-D cases use h = 1).
private struct PoolCase: CustomStringConvertible, Sendable {
    var n, c, h, w: Int
    var kernel: Size2D
    var stride: Size2D? = nil
    var padding: Size2D = 0
    var description: String { "x[\(n),\(c),\(h),\(w)] k\(kernel) s\(stride ?? kernel) p\(padding)" }
}

/// Pooling by its definition in Double: max pads with −∞, average divides by the full kernel area.
private func referencePool(_ x: Tensor, _ k: PoolCase, max: Bool) -> (shape: [Int], values: [Double]) {
    let s = k.stride ?? k.kernel, xs = x.scalars
    let oh = (k.h + 2 * k.padding.height - k.kernel.height) / s.height + 1
    let ow = (k.w + 2 * k.padding.width - k.kernel.width) / s.width + 1
    var out: [Double] = []
    for plane in 0..<(k.n * k.c) {
        for i in 0..<oh {
            for j in 0..<ow {
                var best = -Double.infinity, sum = 0.0
                for u in 0..<k.kernel.height {
                    for v in 0..<k.kernel.width {
                        let ih = i * s.height + u - k.padding.height, iw = j * s.width + v - k.padding.width
                        guard ih >= 0, ih < k.h, iw >= 0, iw < k.w else { continue }
                        let value = Double(xs[(plane * k.h + ih) * k.w + iw])
                        best = Swift.max(best, value)
                        sum += value
                    }
                }
                out.append(max ? best : sum / Double(k.kernel.height * k.kernel.width))
            }
        }
    }
    return ([k.n, k.c, oh, ow], out)
}

/// Distinct values 0.1 apart in random order: no two elements of a window are within a
/// finite-difference step of each other, so the max is unambiguous.
private func distinctTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    let n = shape.reduce(1, *)
    let values = (0..<n).map { Float($0) * 0.1 - Float(n) * 0.05 }.shuffled(using: &rng)
    return Tensor(shape: shape, values)
}

private let cases2d: [PoolCase] = [
    PoolCase(n: 2, c: 3, h: 6, w: 6, kernel: 2),
    PoolCase(n: 2, c: 2, h: 7, w: 5, kernel: 3, stride: 2, padding: 1),
    PoolCase(n: 1, c: 3, h: 8, w: 7, kernel: Size2D(2, 3), stride: Size2D(1, 2), padding: Size2D(1, 1)),
    PoolCase(n: 3, c: 1, h: 5, w: 9, kernel: Size2D(3, 2), stride: 1),
]

/// 2×2 windows with stride 2 and no padding take a C fast path: 8-wide rows, 4-wide rows (both
/// vectorised, with a scalar tail when the row pairs are not a multiple of the vector's), other
/// widths, and odd sizes whose last row or column no window covers.
private let twoByTwoCases: [PoolCase] = [
    PoolCase(n: 3, c: 5, h: 8, w: 8, kernel: 2),
    PoolCase(n: 2, c: 7, h: 4, w: 4, kernel: 2),
    PoolCase(n: 1, c: 3, h: 6, w: 4, kernel: 2, stride: 2),
    PoolCase(n: 2, c: 3, h: 5, w: 7, kernel: 2),
    PoolCase(n: 2, c: 2, h: 4, w: 10, kernel: 2),
]

private let cases1d: [PoolCase] = [
    PoolCase(n: 2, c: 3, h: 1, w: 10, kernel: Size2D(1, 2)),
    PoolCase(n: 2, c: 2, h: 1, w: 11, kernel: Size2D(1, 3), stride: Size2D(1, 2), padding: Size2D(0, 1)),
    PoolCase(n: 1, c: 4, h: 1, w: 9, kernel: Size2D(1, 4), stride: Size2D(1, 1), padding: Size2D(0, 2)),
]

private func pool2d(_ x: Tensor, _ k: PoolCase, max: Bool) -> Tensor {
    max ? x.maxPool2d(kernelSize: k.kernel, stride: k.stride, padding: k.padding)
        : x.avgPool2d(kernelSize: k.kernel, stride: k.stride, padding: k.padding)
}

private func pool1d(_ x: Tensor, _ k: PoolCase, max: Bool) -> Tensor {
    max ? x.maxPool1d(kernelSize: k.kernel.width, stride: k.stride?.width, padding: k.padding.width)
        : x.avgPool1d(kernelSize: k.kernel.width, stride: k.stride?.width, padding: k.padding.width)
}

@Suite struct PoolingTests {
    @Test(arguments: cases2d + twoByTwoCases, [true, false])
    fileprivate func pool2dMatchesDefinition(_ k: PoolCase, _ max: Bool) {
        let x = randomTensor([k.n, k.c, k.h, k.w], seed: 1)
        let y = pool2d(x, k, max: max)
        let (shape, values) = referencePool(x, k, max: max)
        #expect(y.shape == shape, "\(k)")
        #expect(zip(y.scalars, values).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(k) max \(max)")
    }

    @Test(arguments: cases1d, [true, false])
    fileprivate func pool1dMatchesDefinition(_ k: PoolCase, _ max: Bool) {
        let x = randomTensor([k.n, k.c, k.w], seed: 2)
        let y = pool1d(x, k, max: max)
        let (shape, values) = referencePool(x.reshaped([k.n, k.c, 1, k.w]), k, max: max)
        #expect(y.shape == [shape[0], shape[1], shape[3]], "\(k)")
        #expect(zip(y.scalars, values).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(k) max \(max)")
    }

    @Test func maxPoolPadsWithNegativeInfinity() {
        // All inputs negative: a zero pad would win if padding were zeros.
        let x = Tensor(shape: [1, 1, 3], [-3, -2, -1])
        let y = x.maxPool1d(kernelSize: 2, stride: 1, padding: 1)
        #expect(y.scalars == [-3, -2, -1, -1])
    }

    @Test func maxPoolPropagatesNaN() {
        // 12 outputs: the vector path (8 lanes, then an overlapping group).
        var values = (0..<48).map { Float($0) }
        values[9] = .nan
        let y = Tensor(shape: [1, 1, 6, 8], values).maxPool2d(kernelSize: 2)
        #expect(y.scalars[0].isNaN)
        #expect(y.scalars[1...].allSatisfy { !$0.isNaN })
        let short = Tensor(shape: [1, 1, 4], [1, .nan, 3, 2]).maxPool1d(kernelSize: 2)
        #expect(short.scalars[0].isNaN && short.scalars[1] == 3)
    }

    @Test func allNegativeInfinityWindowsSendGradientToARealElement() throws {
        let x = Tensor(shape: [1, 1, 3, 4], repeating: -.infinity).requiringGrad()
        let y = x.maxPool2d(kernelSize: 2, stride: 1, padding: 1)
        #expect(y.scalars.allSatisfy { $0 == -.infinity })
        try y.backward(seed: .ones(y.shape))
        // 4×5 windows, each sends 1 to an element of the 3×4 input.
        #expect(x.grad?.scalars.reduce(0, +) == 20)
    }

    @Test(arguments: [[4, 3, 8, 8], [5, 3, 4, 4], [2, 3, 5, 6], [3, 1, 6, 8]])
    func twoByTwoTiesNaNAndInfinityLikeTheGeneralPath(_ shape: [Int]) throws {
        // Few distinct values (many ties), some NaN and −∞: the fast path must pick the same
        // element of each window as the general one (first maximum, first NaN) and route the
        // gradient there. Stride 1 × 2 over the same data with a 2×2 window forces the general path
        // on the even rows.
        var rng = SeededGenerator(seed: 12)
        let n = shape.reduce(1, *)
        let values: [Float] = (0..<n).map { _ in
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return .nan
            case 1: return -.infinity
            default: return Float(Int.random(in: 0..<3, using: &rng))
            }
        }
        let x = Tensor(shape: shape, values).requiringGrad()
        let y = x.maxPool2d(kernelSize: 2)
        let general = x.maxPool2d(kernelSize: 2, stride: Size2D(1, 2))
        let (oh, ow) = (shape[2] / 2, shape[3] / 2)
        let ys = y.scalars, gs = general.scalars
        for p in 0..<(shape[0] * shape[1]) {
            for i in 0..<oh {
                for j in 0..<ow {
                    let a = ys[(p * oh + i) * ow + j], b = gs[(p * (shape[2] - 1) + 2 * i) * ow + j]
                    #expect(a == b || (a.isNaN && b.isNaN), "plane \(p) window (\(i), \(j))")
                }
            }
        }
        let seed = Tensor(shape: y.shape, (0..<y.count).map { Float($0 + 1) })
        try y.backward(seed: seed)
        let fast = try #require(x.grad).scalars
        x.zeroGrad()
        // The general path's gradient for the same windows: seed only the even rows of its output.
        var generalSeed = [Float](repeating: 0, count: general.count)
        for p in 0..<(shape[0] * shape[1]) {
            for i in 0..<oh {
                for j in 0..<ow { generalSeed[(p * (shape[2] - 1) + 2 * i) * ow + j] = Float((p * oh + i) * ow + j + 1) }
            }
        }
        try general.backward(seed: Tensor(shape: general.shape, generalSeed))
        #expect(try #require(x.grad).scalars == fast)
    }

    @Test func avgPoolCountsPadding() {
        // count_include_pad: the edge windows are divided by 2, not by the 1 real element.
        let x = Tensor(shape: [1, 1, 3], [2, 4, 6])
        #expect(x.avgPool1d(kernelSize: 2, stride: 1, padding: 1).scalars == [1, 3, 5, 3])
    }

    @Test func strideDefaultsToKernel() {
        let x = Tensor.arange(16).reshaped([1, 1, 4, 4])
        #expect(x.maxPool2d(kernelSize: 2).scalars == [5, 7, 13, 15])
        #expect(x.avgPool2d(kernelSize: 2).scalars == [2.5, 4.5, 10.5, 12.5])
    }

    @Test(arguments: cases2d + twoByTwoCases)
    fileprivate func maxPool2dGradients(_ k: PoolCase) throws {
        let x = distinctTensor([k.n, k.c, k.h, k.w], seed: 3)
        let result = try gradCheck([x], maxElementsPerInput: 96) { pool2d($0[0], k, max: true) }
        #expect(result.maxError < 2e-3, "\(k): \(result)")
    }

    @Test(arguments: cases2d)
    fileprivate func avgPool2dGradients(_ k: PoolCase) throws {
        let x = randomTensor([k.n, k.c, k.h, k.w], seed: 4)
        let result = try gradCheck([x], maxElementsPerInput: 96) { pool2d($0[0], k, max: false) }
        #expect(result.maxError < 2e-3, "\(k): \(result)")
    }

    @Test(arguments: cases1d, [true, false])
    fileprivate func pool1dGradients(_ k: PoolCase, _ max: Bool) throws {
        let x = max ? distinctTensor([k.n, k.c, k.w], seed: 5) : randomTensor([k.n, k.c, k.w], seed: 5)
        let result = try gradCheck([x]) { pool1d($0[0], k, max: max) }
        #expect(result.maxError < 2e-3, "\(k) max \(max): \(result)")
    }

    @Test func overlappingMaxWindowsAccumulate() throws {
        // Stride 1, kernel 3: the largest element is the max of three windows.
        let x = Tensor(shape: [1, 1, 5], [0, 1, 9, 2, 3]).requiringGrad()
        try x.maxPool1d(kernelSize: 3, stride: 1).sum().backward()
        #expect(x.grad?.scalars == [0, 0, 3, 0, 0])
    }

    @Test func globalPoolingMatchesReductions() throws {
        let x = distinctTensor([3, 4, 5, 6], seed: 6)
        let avg = x.globalAvgPool(), max = x.globalMaxPool()
        #expect(avg.shape == [3, 4] && max.shape == [3, 4])
        #expect(maxAbsDifference(avg, x.reshaped([3, 4, 30]).mean(axis: 2)) < 1e-5)
        #expect(maxAbsDifference(max, x.reshaped([3, 4, 30]).max(axis: 2)) == 0)
        let seq = randomTensor([2, 3, 7], seed: 7)
        #expect(maxAbsDifference(seq.globalAvgPool(), seq.mean(axis: 2)) < 1e-6)
    }

    @Test func globalPoolingGradients() throws {
        let x = distinctTensor([2, 3, 4, 5], seed: 8)
        let avg = try gradCheck([x]) { $0[0].globalAvgPool() }
        let max = try gradCheck([x], maxElementsPerInput: 120) { $0[0].globalMaxPool() }
        #expect(avg.maxError < 2e-3, "\(avg)")
        #expect(max.maxError < 2e-3, "\(max)")
        let seq = try gradCheck([distinctTensor([2, 3, 6], seed: 9)]) { $0[0].globalMaxPool() }
        #expect(seq.maxError < 2e-3, "\(seq)")
    }

    @Test func tooMuchPaddingStops() async {
        let stop1 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 6, 6]).maxPool2d(kernelSize: 2, padding: 2)
        }
        #expect(stopMessage(stop1).contains("maxPool2d: padding"), "\(stopMessage(stop1))")
        let stop2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 3]).avgPool1d(kernelSize: 4)
        }
        #expect(stopMessage(stop2).contains("avgPool1d: effective kernel size 4"), "\(stopMessage(stop2))")
    }
}
