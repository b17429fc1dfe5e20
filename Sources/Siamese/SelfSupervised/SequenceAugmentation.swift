import Foundation
import Tensors

/// Seeded augmentations of sequences such as signature trajectories (`[C, L]`: channels × time
/// steps, as ``SequenceEncoder`` reads them), after Um et al. 2017 ("Data Augmentation of Wearable
/// Sensor Data") and the time-series SSL literature: random crop (resized back to L), time warp,
/// per-channel scaling, jitter (additive Gaussian noise) and masking of a random span, in that
/// order. The same generator state gives the same output everywhere.
public struct SequenceAugmentation: Sendable, Codable, Equatable {
    /// Probability and kept-length range of the random crop.
    public var cropProbability: Float
    /// Fraction of the length a crop keeps.
    public var cropFraction: ClosedRange<Float>
    /// Probability and strength (σ of the knot displacements, in fractions of the length) of the time warp.
    public var warpProbability: Float
    /// Standard deviation of the warp's knot displacement.
    public var warpStrength: Float
    /// Standard deviation of each channel's scale factor around 1 (0: none).
    public var scaleSigma: Float
    /// Standard deviation of the added noise (0: none).
    public var jitterSigma: Float
    /// Probability of masking a span, and the span's largest fraction of the length.
    public var maskProbability: Float
    /// The masked span's largest length, as a fraction of L.
    public var maskFraction: Float

    /// - Parameters:
    ///   - cropProbability: random crop (0.5).
    ///   - cropFraction: kept fraction of the length (0.7…1).
    ///   - warpProbability: time warp (0.5).
    ///   - warpStrength: σ of the warp (0.1).
    ///   - scaleSigma: σ of the per-channel scale (0.1).
    ///   - jitterSigma: σ of the noise (0.03).
    ///   - maskProbability: masking (0.3).
    ///   - maskFraction: longest masked span (0.2).
    public init(cropProbability: Float = 0.5, cropFraction: ClosedRange<Float> = 0.7...1, warpProbability: Float = 0.5,
                warpStrength: Float = 0.1, scaleSigma: Float = 0.1, jitterSigma: Float = 0.03,
                maskProbability: Float = 0.3, maskFraction: Float = 0.2) {
        self.cropProbability = cropProbability; self.cropFraction = cropFraction
        self.warpProbability = warpProbability; self.warpStrength = warpStrength
        self.scaleSigma = scaleSigma; self.jitterSigma = jitterSigma
        self.maskProbability = maskProbability; self.maskFraction = maskFraction
    }

    /// One augmented view of a `[C, L]` sequence (row-major), same shape.
    public func callAsFunction(_ sequence: [Float], channels: Int, length: Int, generator g: inout SeededGenerator) -> [Float] {
        ensure(sequence.count == channels * length && channels > 0 && length > 0,
               "SequenceAugmentation: \(sequence.count) values are not a \(channels)×\(length) sequence")
        var x = sequence
        if g.nextUniform() < cropProbability {
            let keep = max(2, Int((Float(length) * (cropFraction.lowerBound + (cropFraction.upperBound - cropFraction.lowerBound) * g.nextUniform())).rounded()))
            if keep < length {
                let start = g.nextInt(below: length - keep + 1)
                x = Self.resampled(x, channels: channels, length: length) { Float(start) + Float($0) * Float(keep - 1) / Float(max(length - 1, 1)) }
            }
        }
        if g.nextUniform() < warpProbability { x = Self.timeWarped(x, channels: channels, length: length, strength: warpStrength, generator: &g) }
        if scaleSigma > 0 {
            for c in 0..<channels {
                let s = 1 + scaleSigma * g.nextNormal()
                for t in 0..<length { x[c * length + t] *= s }
            }
        }
        if jitterSigma > 0 { for i in x.indices { x[i] += jitterSigma * g.nextNormal() } }
        if g.nextUniform() < maskProbability {
            let span = max(1, Int(Float(length) * maskFraction * g.nextUniform()))
            let start = g.nextInt(below: max(1, length - span + 1))
            for c in 0..<channels { for t in start..<min(length, start + span) { x[c * length + t] = 0 } }
        }
        return x
    }

    /// Each channel read at positions `position(t)` (in input steps) by linear interpolation.
    static func resampled(_ x: [Float], channels: Int, length: Int, position: (Int) -> Float) -> [Float] {
        var out = x
        for t in 0..<length {
            let p = min(max(position(t), 0), Float(length - 1))
            let i0 = Int(p), i1 = min(i0 + 1, length - 1), w = p - Float(i0)
            for c in 0..<channels { out[c * length + t] = x[c * length + i0] * (1 - w) + x[c * length + i1] * w }
        }
        return out
    }

    /// A smooth monotone re-timing: 4 inner knots displaced by N(0, σ·L), the cumulative speed made
    /// to span the whole sequence again, linearly interpolated between knots.
    static func timeWarped(_ x: [Float], channels: Int, length: Int, strength: Float, generator g: inout SeededGenerator) -> [Float] {
        guard length > 2 else { return x }
        let knots = 5
        // Positive speeds per segment, normalised so the warped time still runs 0…L−1.
        let speeds = (0..<knots).map { _ in max(0.2, 1 + strength * Float(knots) * g.nextNormal()) }
        let total = speeds.reduce(0, +)
        var cumulative: [Float] = [0]
        for s in speeds { cumulative.append(cumulative.last! + s / total) }
        return resampled(x, channels: channels, length: length) { t in
            let u = Float(t) / Float(length - 1) * Float(knots)
            let k = min(Int(u), knots - 1), w = u - Float(k)
            return (cumulative[k] * (1 - w) + cumulative[k + 1] * w) * Float(length - 1)
        }
    }
}
