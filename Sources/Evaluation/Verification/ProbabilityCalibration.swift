import Foundation

/// Platt scaling: P(same | score) = 1 / (1 + exp(A·score + B)).
///
/// Fitted by Newton's method with a backtracking line search on the cross-entropy against Platt's
/// smoothed targets ((N₊+1)/(N₊+2) for same pairs, 1/(N₋+2) for different ones), the formulation
/// of Lin, Lin and Weng (2007) that scikit-learn's `CalibratedClassifierCV(method="sigmoid")` also
/// minimises. Scores are standardised for the fit, which changes nothing in the optimum but keeps
/// the Hessian well conditioned for distances in the thousands or similarities near 1.
public struct PlattScaling: Sendable, Equatable, Codable {
    /// Slope A of the sigmoid, in the original score units (negative for similarities).
    public let a: Double
    /// Offset B of the sigmoid.
    public let b: Double

    /// Creates a Platt scaling with known coefficients (for example one read from a calibration record).
    /// - Parameters:
    ///   - a: Slope A in P(same) = 1 / (1 + exp(A·score + B)).
    ///   - b: Offset B.
    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// Fits A and B; throws on empty input or a single class.
    /// - Parameters:
    ///   - scores: One score per pair, in original units.
    ///   - labels: `true` for a same pair; both classes must occur.
    public init(scores: [Double], labels: [Bool]) throws(EvaluationError) {
        guard scores.count == labels.count else { throw EvaluationError("\(scores.count) scores but \(labels.count) labels") }
        guard !scores.isEmpty else { throw EvaluationError.empty("scores") }
        guard scores.allSatisfy(\.isFinite) else { throw EvaluationError("scores must be finite numbers") }
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { throw EvaluationError.singleClass(genuine: positives, impostor: negatives) }
        let n = Double(scores.count)
        let mean = scores.reduce(0, +) / n
        let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let scale = variance > 0 ? variance.squareRoot() : 1
        let f = scores.map { ($0 - mean) / scale }
        let hiTarget = (Double(positives) + 1) / (Double(positives) + 2)
        let loTarget = 1 / (Double(negatives) + 2)
        let t = labels.map { $0 ? hiTarget : loTarget }

        func objective(_ A: Double, _ B: Double) -> Double {
            var sum = 0.0
            for i in f.indices {
                let z = f[i] * A + B
                sum += z >= 0 ? t[i] * z + log1p(exp(-z)) : (t[i] - 1) * z + log1p(exp(z))
            }
            return sum
        }
        var A = 0.0, B = log((Double(negatives) + 1) / (Double(positives) + 1))
        var value = objective(A, B)
        for _ in 0..<200 {
            var g1 = 0.0, g2 = 0.0, h11 = 1e-12, h22 = 1e-12, h21 = 0.0
            for i in f.indices {
                let z = f[i] * A + B
                // p = 1/(1+exp(z)), computed without overflow on either side.
                let p = z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z))
                let d1 = t[i] - p, d2 = p * (1 - p)
                g1 += f[i] * d1
                g2 += d1
                h11 += f[i] * f[i] * d2
                h22 += d2
                h21 += f[i] * d2
            }
            if abs(g1) < 1e-11 * n && abs(g2) < 1e-11 * n { break }
            let det = h11 * h22 - h21 * h21
            let dA = -(h22 * g1 - h21 * g2) / det
            let dB = -(-h21 * g1 + h11 * g2) / det
            let slope = g1 * dA + g2 * dB
            var step = 1.0
            var improved = false
            while step >= 1e-10 {
                let candidate = objective(A + step * dA, B + step * dB)
                if candidate <= value + 1e-4 * step * slope {
                    A += step * dA
                    B += step * dB
                    value = candidate
                    improved = true
                    break
                }
                step /= 2
            }
            if !improved { break }
        }
        // Undo the standardisation: A·(s−μ)/σ + B = (A/σ)·s + (B − Aμ/σ).
        self.a = A / scale
        self.b = B - A * mean / scale
    }

    /// P(same) for one score.
    public func probability(_ score: Double) -> Double {
        let z = a * score + b
        return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z))
    }
}

/// Isotonic regression from score to P(same): the best monotone step fit to the labels (pool
/// adjacent violators), interpolated linearly between fitted points and clipped outside them,
/// as scikit-learn's `IsotonicRegression(out_of_bounds="clip")` predicts.
public struct IsotonicCalibration: Sendable, Equatable, Codable {
    /// Distinct scores (ascending, original units) at which the fit is defined.
    public let scores: [Double]
    /// Fitted P(same) at each of ``scores``.
    public let probabilities: [Double]
    /// Which way the scores point: the fit is non-decreasing for similarities, non-increasing for distances.
    public let direction: ScoreDirection

    /// Fits a non-decreasing (for similarities) or non-increasing (for distances) map to P(same).
    /// Equal scores are pooled first (their labels averaged), as scikit-learn does.
    /// - Parameters:
    ///   - scores: One score per pair, in original units.
    ///   - labels: `true` for a same pair.
    ///   - direction: Which way the scores point (sets the fit's monotonicity).
    public init(scores: [Double], labels: [Bool], direction: ScoreDirection) throws(EvaluationError) {
        guard scores.count == labels.count else { throw EvaluationError("\(scores.count) scores but \(labels.count) labels") }
        guard !scores.isEmpty else { throw EvaluationError.empty("scores") }
        guard scores.allSatisfy(\.isFinite) else { throw EvaluationError("scores must be finite numbers") }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Pool ties: unique x with mean label and weight = multiplicity.
        var xs = [Double](), means = [Double](), weights = [Double]()
        for i in order {
            let y = labels[i] ? 1.0 : 0.0
            if let last = xs.last, last == scores[i] {
                let w = weights[weights.count - 1]
                means[means.count - 1] = (means[means.count - 1] * w + y) / (w + 1)
                weights[weights.count - 1] = w + 1
            } else {
                xs.append(scores[i]); means.append(y); weights.append(1)
            }
        }
        // Pool adjacent violators on the oriented axis: increasing in x for similarities,
        // increasing in −x (decreasing in x) for distances.
        let increasing = direction == .higherIsSame
        let m = xs.count
        let idx: [Int] = increasing ? Array(0..<m) : Array((0..<m).reversed())
        var blockValue = [Double](), blockWeight = [Double](), blockCount = [Int]()
        for k in idx {
            blockValue.append(means[k]); blockWeight.append(weights[k]); blockCount.append(1)
            while blockValue.count > 1 && blockValue[blockValue.count - 2] > blockValue[blockValue.count - 1] {
                let v2 = blockValue.removeLast(), w2 = blockWeight.removeLast(), c2 = blockCount.removeLast()
                let j = blockValue.count - 1
                blockValue[j] = (blockValue[j] * blockWeight[j] + v2 * w2) / (blockWeight[j] + w2)
                blockWeight[j] += w2
                blockCount[j] += c2
            }
        }
        var fitted = [Double]()
        fitted.reserveCapacity(m)
        for (v, c) in zip(blockValue, blockCount) { fitted.append(contentsOf: repeatElement(v, count: c)) }
        if !increasing { fitted.reverse() }
        self.scores = xs
        self.probabilities = fitted
        self.direction = direction
    }

    /// P(same) for one score: linear between fitted points, clipped beyond them.
    public func probability(_ score: Double) -> Double {
        if score <= scores[0] { return probabilities[0] }
        if score >= scores[scores.count - 1] { return probabilities[probabilities.count - 1] }
        var lo = 0, hi = scores.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if scores[mid] <= score { lo = mid } else { hi = mid }
        }
        let t = (score - scores[lo]) / (scores[hi] - scores[lo])
        return probabilities[lo] + t * (probabilities[hi] - probabilities[lo])
    }
}
