import Foundation

/// A deterministic random-number generator (xoshiro256**, seeded through SplitMix64): the one
/// seeded generator of the package (weights, samplers, augmentations, bootstrap, tests).
///
/// The same seed gives the same sequence on every run and every machine: the state update is
/// integer-only, and the float conversions below use only exactly-rounded arithmetic plus
/// `log`/`cos`/`sin` in Double, whose Float-rounded results agree across libm implementations.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Creates a generator whose whole sequence is fixed by `seed`.
    /// - Parameters:
    ///   - seed: Any 64-bit value, expanded through SplitMix64 (0 included).
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Double in (0, 1): never 0, so its logarithm is finite.
    public mutating func nextOpenUnitDouble() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A standard normal sample (Box–Muller; one value per call keeps the sequence simple to reproduce).
    public mutating func nextNormal() -> Float {
        let u1 = nextOpenUnitDouble(), u2 = nextOpenUnitDouble()
        return Float(Foundation.sqrt(-2 * Foundation.log(u1)) * Foundation.cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<upperBound without modulo bias (Lemire's nearly divisionless
    /// method, written out so that the sequence does not depend on the standard library's version).
    public mutating func nextInt(below upperBound: Int) -> Int {
        ensure(upperBound > 0, "SeededGenerator.nextInt: upper bound must be positive, got \(upperBound)")
        let bound = UInt64(upperBound)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }
}
