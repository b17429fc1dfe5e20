/// Points of a detection-error-tradeoff curve: FAR against FRR.
public struct DETCurve: Sendable, Equatable {
    /// False-accept rate at each threshold, in [0, 1].
    public var far: [Double]
    /// False-reject rate at each threshold, in [0, 1].
    public var frr: [Double]
    /// Thresholds in original units, from the most permissive to the strictest.
    public var thresholds: [Double]
}

extension VerificationCurve {
    /// The DET curve as scikit-learn's `det_curve` (1.9, `drop_intermediate=False`) reports it:
    /// operating points from the first that accepts every same pair (FRR 0) up to the strictest one
    /// that still has no false accept, most permissive first. The "accept nothing" point (an infinite
    /// threshold) is included only when every real threshold has a false accept. Points outside that
    /// range add nothing to a plot whose axes are probit-scaled.
    public func detCurve() -> DETCurve {
        let nI = Double(impostor.count), nG = Double(genuine.count)
        var fps = [0], tps = [0], vs = [Double.infinity]
        forEachOperatingPoint { v, fp, tp in fps.append(fp); tps.append(tp); vs.append(v) }
        // Last point without a false accept, and the first that reaches every genuine pair.
        var first = 0
        while first + 1 < fps.count && fps[first + 1] == 0 { first += 1 }
        let last = tps.firstIndex(of: genuine.count) ?? (tps.count - 1)
        var curve = DETCurve(far: [], frr: [], thresholds: [])
        guard first <= last else { return curve }
        for k in stride(from: last, through: first, by: -1) {
            curve.far.append(Double(fps[k]) / nI)
            curve.frr.append(Double(genuine.count - tps[k]) / nG)
            curve.thresholds.append(original(vs[k]))
        }
        return curve
    }
}
