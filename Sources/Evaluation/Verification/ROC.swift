import Foundation

/// A ROC curve: false-accept rate against true-accept rate at every threshold.
///
/// Point 0 is the origin (accept nothing) with an infinite threshold, as scikit-learn's `roc_curve`
/// reports it; every later point is one distinct score, so tied scores form a single diagonal step.
public struct ROCCurve: Sendable, Equatable {
    /// False-accept rate (false-positive rate) at each point, non-decreasing.
    public var far: [Double]
    /// True-accept rate (recall) at each point, non-decreasing.
    public var tar: [Double]
    /// Thresholds in original units; pairs are accepted by the direction's rule (`≥` or `≤`).
    public var thresholds: [Double]

    /// False-reject rates, 1 − TAR: the DET curve's second coordinate.
    public var frr: [Double] { tar.map { 1 - $0 } }
}

/// The equal-error rate and the real operating point that comes closest to it.
public struct EqualErrorRate: Sendable, Equatable {
    /// Where the ROC curve, linearly interpolated between operating points, crosses FAR = FRR.
    public let rate: Double
    /// The threshold (original units) of the operating point that minimises max(FAR, FRR); ties
    /// go to the smaller |FAR − FRR|, then to the stricter threshold. The interpolated rate lies
    /// between two operating points, and no threshold reaches it exactly; this one is what a
    /// deployed system actually gets.
    public let threshold: Double
    /// Counts at ``threshold``.
    public let counts: ConfusionCounts
}

extension VerificationCurve {
    /// The full ROC curve, one point per distinct score plus the origin.
    ///
    /// Its size is the number of distinct scores: for plotting large inputs use ``downsampledROC(maxPoints:)``.
    public func roc() -> ROCCurve {
        let nI = Double(impostor.count), nG = Double(genuine.count)
        var curve = ROCCurve(far: [0], tar: [0], thresholds: [direction == .higherIsSame ? .infinity : -.infinity])
        forEachOperatingPoint { v, fp, tp in
            curve.far.append(Double(fp) / nI)
            curve.tar.append(Double(tp) / nG)
            curve.thresholds.append(original(v))
        }
        return curve
    }

    /// Area under the ROC curve, exact under ties.
    ///
    /// Accumulated in integers as the trapezoid sum Σ Δfp·(tp + tp_prev), which equals the
    /// Mann–Whitney count with ties as ½; the only rounding is the final division.
    public func auc() -> Double {
        var twiceArea = 0  // ≤ 2·nG·nI, far below Int.max for any input that fits in memory
        var lastFP = 0, lastTP = 0
        forEachOperatingPoint { _, fp, tp in
            twiceArea += (fp - lastFP) * (tp + lastTP)
            lastFP = fp
            lastTP = tp
        }
        return Double(twiceArea) / (2 * Double(genuine.count) * Double(impostor.count))
    }

    /// Average precision of "same" over the ranking of pairs by score, Σ (Rₙ − Rₙ₋₁)·Pₙ over
    /// thresholds: the step-wise area under the precision–recall curve, as scikit-learn's
    /// `average_precision_score` defines it (no interpolation).
    public func averagePrecision() -> Double {
        var sum = 0.0
        var lastTP = 0
        forEachOperatingPoint { _, fp, tp in
            sum += Double(tp - lastTP) * (Double(tp) / Double(tp + fp))
            lastTP = tp
        }
        return sum / Double(genuine.count)
    }

    /// The equal-error rate (interpolated) and the nearest real operating point.
    public func equalErrorRate() -> EqualErrorRate {
        let nI = Double(impostor.count), nG = Double(genuine.count)
        var prevFAR = 0.0, prevFRR = 1.0
        var rate: Double? = nil
        var bestV = 0.0, bestMax = Double.infinity, bestGap = Double.infinity
        forEachOperatingPoint { v, fp, tp in
            let far = Double(fp) / nI
            let frr = Double(genuine.count - tp) / nG
            if rate == nil, frr <= far {
                let d0 = prevFRR - prevFAR, d1 = frr - far
                let alpha = d0 - d1 == 0 ? 0 : d0 / (d0 - d1)
                rate = prevFAR + alpha * (far - prevFAR)
            }
            let worst = max(far, frr), gap = abs(far - frr)
            if worst < bestMax || (worst == bestMax && gap < bestGap) {
                bestMax = worst
                bestGap = gap
                bestV = v
            }
            prevFAR = far
            prevFRR = frr
        }
        let threshold = original(bestV)
        // The last point always has FRR = 0 ≤ FAR, so `rate` is set once the walk ends.
        return EqualErrorRate(rate: rate ?? 0, threshold: threshold, counts: counts(at: threshold))
    }

    /// At most about `maxPoints` ROC points for plots: the curve is monotone, so keeping the first and
    /// last point of each run that falls in the same cell of a (log FAR, FRR, linear FAR) grid keeps
    /// its shape to within one cell while a ten-million-point curve becomes a few hundred.
    public func downsampledROC(maxPoints: Int = 600) -> ROCCurve {
        let cells = max(8, maxPoints / 6)
        let nI = Double(impostor.count), nG = Double(genuine.count)
        // FAR is at least 1/nI once it is non-zero, so log10(FAR) lies in [-span, 0].
        let span = log10(Swift.max(2, nI))
        func cell(_ fp: Int, _ tp: Int) -> (Int, Int, Int) {
            let far = Double(fp) / nI
            let logCell = fp == 0 ? -1 : Int(((log10(far) + span) / span * Double(cells)).rounded(.down))
            return (logCell, Int(Double(tp) / nG * Double(cells)), Int(far * Double(cells)))
        }
        var curve = ROCCurve(far: [0], tar: [0], thresholds: [direction == .higherIsSame ? .infinity : -.infinity])
        var pending: (Double, Int, Int)? = nil
        var currentCell = (-2, -1, -1)
        forEachOperatingPoint { v, fp, tp in
            let c = cell(fp, tp)
            if c != currentCell {
                if let (pv, pfp, ptp) = pending, curve.thresholds.last != original(pv) {
                    curve.far.append(Double(pfp) / nI); curve.tar.append(Double(ptp) / nG); curve.thresholds.append(original(pv))
                }
                curve.far.append(Double(fp) / nI); curve.tar.append(Double(tp) / nG); curve.thresholds.append(original(v))
                currentCell = c
                pending = nil
            } else {
                pending = (v, fp, tp)
            }
        }
        if let (pv, pfp, ptp) = pending {
            curve.far.append(Double(pfp) / nI); curve.tar.append(Double(ptp) / nG); curve.thresholds.append(original(pv))
        }
        return curve
    }
}
