import Core
import Foundation

/// Exact binomial random variates.
///
/// A nonparametric bootstrap of a rate at a fixed threshold resamples n items with replacement and
/// counts the accepted ones; that count is exactly Binomial(n, k/n). Drawing it directly costs
/// O(√(n p (1-p))) instead of O(n) per replicate, which is what keeps a 1,000-replicate bootstrap over
/// ten million pairs to a fraction of a second.
enum Binomial {
    static func sample(trials n: Int, probability p: Double, using rng: inout SeededGenerator) -> Int {
        if n <= 0 || p <= 0 { return 0 }
        if p >= 1 { return n }
        let nn = Double(n)
        let ratio = p / (1 - p)
        var u = rng.nextUnitDouble()
        if nn * p < 20 {
            // Inversion from zero: expected n p steps.
            var pk = exp(nn * log1p(-p))
            var k = 0
            while true {
                u -= pk
                if u < 0 || k == n { return k }
                pk *= Double(n - k) / Double(k + 1) * ratio
                k += 1
                if pk < 1e-300 && Double(k) > nn * p { return k }
            }
        }
        // Inversion that enumerates the support outwards from the mode: any fixed enumeration of the
        // support gives an exact sample, and this one reaches the mass in O(standard deviation) steps.
        let m = min(n, Int((Double(n + 1) * p).rounded(.down)))
        let logPm = lgamma(nn + 1) - lgamma(Double(m) + 1) - lgamma(Double(n - m) + 1)
            + Double(m) * log(p) + Double(n - m) * log1p(-p)
        let pm = exp(logPm)
        u -= pm
        if u < 0 { return m }
        var up = m, down = m
        var pUp = pm, pDown = pm
        while true {
            if up < n {
                pUp *= Double(n - up) / Double(up + 1) * ratio
                up += 1
                u -= pUp
                if u < 0 { return up }
            }
            if down > 0 {
                pDown *= Double(down) / (Double(n - down + 1) * ratio)
                down -= 1
                u -= pDown
                if u < 0 { return down }
            }
            // What is left of u is rounding residue (the pmf sums to 1 only to ~1e-12).
            if (up >= n || pUp < 1e-300) && (down <= 0 || pDown < 1e-300) { return m }
        }
    }
}
