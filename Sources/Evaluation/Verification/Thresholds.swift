extension VerificationCurve {
    /// Chooses a threshold by `rule`.
    ///
    /// Operating points that accept nothing or accept everything are not candidates for the target
    /// rules: "reject every pair" trivially has FAR 0, but it is not a verifier. When no real
    /// threshold qualifies this throws ``ThresholdUnreachable`` and says what the data allows.
    /// Ties between equally good thresholds go to the stricter one (fewer false accepts).
    public func select(_ rule: ThresholdRule) throws(ThresholdUnreachable) -> OperatingPoint {
        let nG = genuine.count, nI = impostor.count
        var chosen: Double? = nil
        switch rule {
        case .fixed(let t):
            return OperatingPoint(threshold: t, rule: rule, counts: counts(at: t))

        case .equalErrorRate:
            let eer = equalErrorRate()
            return OperatingPoint(threshold: eer.threshold, rule: rule, counts: eer.counts)

        case .targetFAR(let target):
            // fp/nI ≤ target, with a relative slack of 1e-12 so that a target written in decimal
            // (0.001) admits the count it names exactly (1 in 1000).
            let limit = target * Double(nI) * (1 + 1e-12)
            var bestTP = 0
            var lowestFAR = Int.max
            forEachOperatingPoint { v, fp, tp in
                if tp > 0 { lowestFAR = Swift.min(lowestFAR, fp) }
                if Double(fp) <= limit, tp > bestTP {
                    bestTP = tp
                    chosen = v
                }
            }
            guard let v = chosen else {
                let best = Double(lowestFAR) / Double(nI)
                throw ThresholdUnreachable(
                    rule: rule, bestAchievable: best,
                    explanation: "every threshold that accepts at least one same pair also accepts at least \(lowestFAR) of \(nI) different pairs (FAR \(best)); the genuine and impostor scores overlap at the top"
                        + (target * Double(nI) < 1 ? ", and \(nI) different pairs cannot resolve a FAR of \(target) anyway" : ""))
            }
            return point(v, rule)

        case .targetFRR(let target):
            let limit = target * Double(nG) * (1 + 1e-12)
            var lowestFRR = Int.max
            forEachOperatingPoint { v, fp, tp in
                guard chosen == nil, fp < nI else { return }
                lowestFRR = Swift.min(lowestFRR, nG - tp)
                if Double(nG - tp) <= limit { chosen = v }
            }
            guard let v = chosen else {
                let best = Double(lowestFRR == Int.max ? nG : lowestFRR) / Double(nG)
                throw ThresholdUnreachable(
                    rule: rule, bestAchievable: best,
                    explanation: "every threshold that rejects at least one different pair also rejects at least \(Int((best * Double(nG)).rounded())) of \(nG) same pairs (FRR \(best)); the genuine and impostor scores overlap at the bottom")
            }
            return point(v, rule)

        case .maxAccuracy:
            var best = -1
            forEachOperatingPoint { v, fp, tp in
                let correct = tp + (nI - fp)
                if correct > best { best = correct; chosen = v }
            }
            return point(chosen!, rule)

        case .maxF1:
            // F1 = 2tp / (2tp + fp + fn); compared as exact fractions so ties are ties.
            var bestNum = -1, bestDen = 1
            forEachOperatingPoint { v, fp, tp in
                let num = 2 * tp, den = 2 * tp + fp + (nG - tp)
                if num * bestDen > bestNum * den { bestNum = num; bestDen = den; chosen = v }
            }
            return point(chosen!, rule)
        }
    }

    private func point(_ oriented: Double, _ rule: ThresholdRule) -> OperatingPoint {
        let t = original(oriented)
        return OperatingPoint(threshold: t, rule: rule, counts: counts(at: t))
    }
}
