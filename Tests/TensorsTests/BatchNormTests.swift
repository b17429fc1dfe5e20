import Testing
@testable import Tensors
import GradientChecking

/// Per-channel mean, biased and unbiased variance over every axis but 1, in Double.
private func channelMoments(_ x: Tensor) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
    let c = x.shape[1], inner = x.shape[2...].reduce(1, *), n = x.shape[0]
    let xs = x.scalars.map(Double.init)
    var mean = [Double](repeating: 0, count: c), biased = mean, unbiased = mean
    for ch in 0..<c {
        let values = (0..<n).flatMap { b in (0..<inner).map { xs[(b * c + ch) * inner + $0] } }
        let m = values.reduce(0, +) / Double(values.count)
        let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        mean[ch] = m
        biased[ch] = ss / Double(values.count)
        unbiased[ch] = ss / Double(values.count - 1)
    }
    return (mean, biased, unbiased)
}

/// y = (x − mean[c]) / √(var[c] + ε) · gamma[c] + beta[c], in Double.
private func referenceNormalize(_ x: Tensor, mean: [Double], variance: [Double], gamma: Tensor, beta: Tensor,
                                epsilon: Double = 1e-5) -> [Double] {
    let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
    let g = gamma.scalars, b = beta.scalars
    return x.scalars.enumerated().map { i, v in
        let ch = (i / inner) % c
        return (Double(v) - mean[ch]) / (variance[ch] + epsilon).squareRoot() * Double(g[ch]) + Double(b[ch])
    }
}

private let shapes: [[Int]] = [[6, 3], [4, 3, 5], [3, 2, 4, 3]]

@Suite struct BatchNormTests {
    @Test(arguments: shapes)
    func trainingNormalisesWithBatchStatistics(_ shape: [Int]) {
        let c = shape[1]
        let x = randomTensor(shape, seed: 1, low: -2, high: 3)
        let gamma = randomTensor([c], seed: 2, low: 0.5, high: 1.5), beta = randomTensor([c], seed: 3)
        var stats = BatchNormStatistics(channels: c)
        let y = x.batchNorm(gamma: gamma, beta: beta, statistics: &stats, training: true)
        let moments = channelMoments(x)
        let reference = referenceNormalize(x, mean: moments.mean, variance: moments.biased, gamma: gamma, beta: beta)
        #expect(y.shape == shape)
        #expect(zip(y.scalars, reference).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    }

    @Test(arguments: shapes)
    func runningStatisticsFollowTheMomentumFormula(_ shape: [Int]) {
        let c = shape[1]
        let x = randomTensor(shape, seed: 4, low: -1, high: 4)
        let initialMean = randomTensor([c], seed: 5), initialVar = randomTensor([c], seed: 6, low: 0.5, high: 2)
        var stats = BatchNormStatistics(mean: initialMean, variance: initialVar, momentum: 0.3)
        _ = x.batchNorm(gamma: .ones([c]), beta: .zeros([c]), statistics: &stats, training: true)
        let moments = channelMoments(x)
        for ch in 0..<c {
            // PyTorch: the running variance takes the unbiased batch variance.
            let mean = 0.7 * Double(initialMean.scalars[ch]) + 0.3 * moments.mean[ch]
            let variance = 0.7 * Double(initialVar.scalars[ch]) + 0.3 * moments.unbiased[ch]
            #expect(abs(Double(stats.mean.scalars[ch]) - mean) < 1e-5)
            #expect(abs(Double(stats.variance.scalars[ch]) - variance) < 1e-5)
        }
        #expect(stats.momentum == 0.3)
        #expect(!stats.mean.requiresGrad && !stats.variance.requiresGrad)
    }

    @Test func defaultStatisticsStartLikePyTorch() {
        let stats = BatchNormStatistics(channels: 4)
        #expect(stats.mean.scalars == [0, 0, 0, 0])
        #expect(stats.variance.scalars == [1, 1, 1, 1])
        #expect(stats.momentum == 0.1)
    }

    @Test(arguments: shapes)
    func evaluationUsesRunningStatisticsAndLeavesThem(_ shape: [Int]) {
        let c = shape[1]
        let x = randomTensor(shape, seed: 7)
        let gamma = randomTensor([c], seed: 8), beta = randomTensor([c], seed: 9)
        let mean = randomTensor([c], seed: 10), variance = randomTensor([c], seed: 11, low: 0.2, high: 3)
        var stats = BatchNormStatistics(mean: mean, variance: variance)
        let y = x.batchNorm(gamma: gamma, beta: beta, statistics: &stats, training: false)
        let reference = referenceNormalize(x, mean: mean.scalars.map(Double.init), variance: variance.scalars.map(Double.init),
                                           gamma: gamma, beta: beta)
        #expect(zip(y.scalars, reference).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        #expect(stats.mean.scalars == mean.scalars && stats.variance.scalars == variance.scalars)
    }

    @Test func repeatedTrainingConvergesToTheDataStatistics() {
        let x = randomTensor([64, 2], seed: 12, low: 3, high: 5)
        var stats = BatchNormStatistics(channels: 2, momentum: 0.5)
        for _ in 0..<40 { _ = x.batchNorm(gamma: .ones([2]), beta: .zeros([2]), statistics: &stats, training: true) }
        let moments = channelMoments(x)
        #expect(abs(Double(stats.mean.scalars[0]) - moments.mean[0]) < 1e-4)
        #expect(abs(Double(stats.variance.scalars[1]) - moments.unbiased[1]) < 1e-4)
    }

    @Test(arguments: shapes)
    func trainingGradients(_ shape: [Int]) throws {
        let c = shape[1]
        let x = randomTensor(shape, seed: 13, low: -2, high: 2)
        let gamma = randomTensor([c], seed: 14, low: 0.5, high: 1.5), beta = randomTensor([c], seed: 15)
        let initial = BatchNormStatistics(channels: c)
        let result = try gradCheck([x, gamma, beta], maxElementsPerInput: 72) { t in
            var stats = initial
            return t[0].batchNorm(gamma: t[1], beta: t[2], statistics: &stats, training: true)
        }
        #expect(result.maxError < 2e-3, "\(shape): \(result)")
    }

    @Test(arguments: shapes)
    func evaluationGradients(_ shape: [Int]) throws {
        let c = shape[1]
        let x = randomTensor(shape, seed: 16, low: -2, high: 2)
        let gamma = randomTensor([c], seed: 17), beta = randomTensor([c], seed: 18)
        let stats = BatchNormStatistics(mean: randomTensor([c], seed: 19), variance: randomTensor([c], seed: 20, low: 0.5, high: 2))
        let result = try gradCheck([x, gamma, beta], maxElementsPerInput: 72) { t in
            var s = stats
            return t[0].batchNorm(gamma: t[1], beta: t[2], statistics: &s, training: false)
        }
        #expect(result.maxError < 2e-3, "\(shape): \(result)")
    }

    @Test func trainingInputGradientSumsToZeroPerChannel() throws {
        // The batch mean is subtracted, so a shift of a whole channel changes nothing.
        let x = randomTensor([5, 2, 3], seed: 21).requiringGrad()
        var stats = BatchNormStatistics(channels: 2)
        let y = x.batchNorm(gamma: Tensor([1.5, 0.5]), beta: .zeros([2]), statistics: &stats, training: true)
        try (y * randomTensor([5, 2, 3], seed: 22)).sum().backward()
        let g = try #require(x.grad).scalars
        for ch in 0..<2 {
            var total: Float = 0
            for n in 0..<5 {
                for i in 0..<3 { total += g[(n * 2 + ch) * 3 + i] }
            }
            #expect(abs(total) < 1e-5)
        }
    }

    @Test func oneValuePerChannelInTrainingStops() async {
        let stop1 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var stats = BatchNormStatistics(channels: 3)
            _ = Tensor.ones([1, 3]).batchNorm(gamma: .ones([3]), beta: .zeros([3]), statistics: &stats, training: true)
        }
        #expect(stopMessage(stop1).contains("batchNorm: training needs more than one value per channel, input is [1, 3]"), "\(stopMessage(stop1))")
    }

    @Test func channelMismatchStops() async {
        let stop2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var stats = BatchNormStatistics(channels: 3)
            _ = Tensor.ones([4, 2, 5]).batchNorm(gamma: .ones([2]), beta: .zeros([2]), statistics: &stats, training: false)
        }
        #expect(stopMessage(stop2).contains("batchNorm: running statistics are [3], input [4, 2, 5] has 2 channels"), "\(stopMessage(stop2))")
    }
}
