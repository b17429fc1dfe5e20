import Foundation
import Core

/// Linear-probe evaluation of frozen embeddings: a multinomial logistic regression trained on the
/// embeddings of labelled training rows (standardised with the training rows' mean and standard
/// deviation), then its accuracy on test rows. The standard second measure of a self-supervised
/// representation beside k-NN; with a small label fraction (1 %, 10 %) it measures label efficiency.
///
/// Training is deterministic: zero initial weights, full-batch Adam (learning rate 0.05) for
/// `iterations` steps with an L2 penalty `weightDecay`·‖W‖²/2, computed in Double.
public enum LinearProbe {
    /// The outcome of a linear probe.
    public struct Result: Sendable, Equatable {
        /// Fraction of test rows classified correctly.
        public var accuracy: Double
        /// Training rows used.
        public var trainRows: Int
        /// Test rows classified.
        public var testRows: Int
        /// Training accuracy (how well the classes separate linearly).
        public var trainAccuracy: Double
    }

    /// A seeded, class-stratified choice of `fraction` of the rows (at least one per class): the
    /// labelled subset of a label-efficiency run. Returns row indices in increasing order.
    public static func labelledSubset<L: Hashable>(labels: [L], fraction: Double, seed: UInt64) -> [Int] {
        var byClass: [L: [Int]] = [:], order: [L] = []
        for (i, l) in labels.enumerated() {
            if byClass[l] == nil { order.append(l) }
            byClass[l, default: []].append(i)
        }
        var rng = SeededGenerator(seed: seed)
        var chosen: [Int] = []
        for l in order {
            var members = byClass[l]!
            let take = min(members.count, max(1, Int((Double(members.count) * fraction).rounded())))
            for i in 0..<take { members.swapAt(i, i + rng.nextInt(below: members.count - i)) }
            chosen += members.prefix(take)
        }
        return chosen.sorted()
    }

    /// Trains on `train` rows and tests on `test` rows (labels absent from training count as errors).
    /// - Parameters:
    ///   - train: training embeddings.
    ///   - trainLabels: their labels.
    ///   - test: test embeddings.
    ///   - testLabels: their labels.
    ///   - iterations: full-batch Adam steps (default 300).
    ///   - weightDecay: L2 penalty (default 1e-4).
    /// - Throws: ``EvaluationError`` on count or dimension mismatches, or fewer than two training classes.
    public static func evaluate<L: Hashable>(train: EmbeddingMatrix, trainLabels: [L], test: EmbeddingMatrix, testLabels: [L],
                                             iterations: Int = 300, weightDecay: Double = 1e-4) throws(EvaluationError) -> Result {
        guard trainLabels.count == train.rows, testLabels.count == test.rows else {
            throw EvaluationError("linear probe: \(trainLabels.count) labels for \(train.rows) training rows, \(testLabels.count) for \(test.rows) test rows")
        }
        guard train.dim == test.dim else { throw EvaluationError("linear probe: training rows have \(train.dim) dimensions, test rows \(test.dim)") }
        var classIndex: [L: Int] = [:]
        for l in trainLabels where classIndex[l] == nil { classIndex[l] = classIndex.count }
        guard classIndex.count >= 2 else { throw EvaluationError("linear probe: the training rows hold \(classIndex.count) class; at least 2 are needed") }
        let (n, d, k) = (train.rows, train.dim, classIndex.count)
        let y = trainLabels.map { classIndex[$0]! }
        // Standardise with the training rows' statistics.
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 1, count: d)
        for i in 0..<n { for c in 0..<d { mean[c] += Double(train.values[i * d + c]) } }
        for c in 0..<d { mean[c] /= Double(n) }
        for c in 0..<d {
            var v = 0.0
            for i in 0..<n { let z = Double(train.values[i * d + c]) - mean[c]; v += z * z }
            let sd = (v / Double(n)).squareRoot()
            scale[c] = sd > 1e-12 ? 1 / sd : 1
        }
        func features(_ m: EmbeddingMatrix) -> [Double] {
            var out = [Double](repeating: 0, count: m.rows * (d + 1))
            for i in 0..<m.rows {
                for c in 0..<d { out[i * (d + 1) + c] = (Double(m.values[i * d + c]) - mean[c]) * scale[c] }
                out[i * (d + 1) + d] = 1   // the bias column
            }
            return out
        }
        let x = features(train), width = d + 1
        var w = [Double](repeating: 0, count: k * width)
        var m1 = w, m2 = w
        var logits = [Double](repeating: 0, count: k)
        let (lr, b1, b2, eps) = (0.05, 0.9, 0.999, 1e-8)
        for t in 1...max(1, iterations) {
            var grad = [Double](repeating: 0, count: k * width)
            for i in 0..<n {
                var top = -Double.infinity
                for j in 0..<k {
                    var s = 0.0
                    for c in 0..<width { s += w[j * width + c] * x[i * width + c] }
                    logits[j] = s
                    top = max(top, s)
                }
                var total = 0.0
                for j in 0..<k { logits[j] = Foundation.exp(logits[j] - top); total += logits[j] }
                for j in 0..<k {
                    let g = (logits[j] / total - (j == y[i] ? 1 : 0)) / Double(n)
                    for c in 0..<width { grad[j * width + c] += g * x[i * width + c] }
                }
            }
            let c1 = 1 - Foundation.pow(b1, Double(t)), c2 = 1 - Foundation.pow(b2, Double(t))
            for p in 0..<(k * width) {
                // No decay on the bias column.
                let g = grad[p] + (p % width == d ? 0 : weightDecay * w[p])
                m1[p] = b1 * m1[p] + (1 - b1) * g
                m2[p] = b2 * m2[p] + (1 - b2) * g * g
                w[p] -= lr * (m1[p] / c1) / ((m2[p] / c2).squareRoot() + eps)
            }
        }
        func accuracy(_ rows: [Double], _ labels: [L]) -> Double {
            var correct = 0
            for i in 0..<labels.count {
                var best = 0, bestScore = -Double.infinity
                for j in 0..<k {
                    var s = 0.0
                    for c in 0..<width { s += w[j * width + c] * rows[i * width + c] }
                    if s > bestScore { bestScore = s; best = j }
                }
                if classIndex[labels[i]] == best { correct += 1 }
            }
            return labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
        }
        return Result(accuracy: accuracy(features(test), testLabels), trainRows: n, testRows: test.rows,
                      trainAccuracy: accuracy(x, trainLabels))
    }
}
