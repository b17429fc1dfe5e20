import Foundation
import Tensors

/// Additive angular margin loss, ArcFace (Deng et al. 2019, "ArcFace: Additive Angular Margin Loss
/// for Deep Face Recognition"), as pytorch-metric-learning's `ArcFaceLoss`.
///
/// With W the learnable class vectors (``ClassWeights``, `[classes, d]`), cos θ_ic the cosine of
/// embedding i and class c, m the margin and s the scale, the logits are s·cos θ_ic except for the
/// item's own class y_i, whose logit is
///
///     s·cos(θ + m)           when θ ≤ π − m
///     s·(cos θ − m·sin m)    otherwise (pml's fallback that keeps the logit decreasing in θ)
///
/// and the loss is the mean cross-entropy over the batch. cos(θ + m) is computed as
/// cos θ·cos m − sin θ·sin m with sin θ = √(1 − cos²θ), the same function (and gradient) as
/// pml's `cos(acos(cos θ) + m)`; cos θ is clamped to [−1, 1] as pml does, and sin θ is floored at
/// 1e-6 so that an embedding exactly on its class vector has a finite gradient (pml's acos gives an
/// infinite one there).
///
/// Defaults (pml): margin 28.6° (0.5 rad, the paper's), scale 64. The margin is given in degrees,
/// as pml takes it.
public struct ArcFaceLoss: Sendable {
    /// Angular margin m in degrees.
    public var marginDegrees: Float
    /// Logit scale s.
    public var scale: Float

    /// - Parameters:
    ///   - marginDegrees: angular margin in degrees (pml 28.6).
    ///   - scale: logit scale (pml 64).
    public init(marginDegrees: Float = 28.6, scale: Float = 64) {
        self.marginDegrees = marginDegrees
        self.scale = scale
    }

    /// The loss of `[n, d]` embeddings with labels in 0..<classes against class vectors
    /// `[classes, d]` (usually ``ClassWeights/weight``); gradients flow into both.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int], weights: Tensor) -> Tensor {
        checkClassBatch(embeddings, labels, weights, op: "ArcFaceLoss")
        let m = Double(marginDegrees) * .pi / 180
        let (cosM, sinM) = (Float(cos(m)), Float(sin(m)))
        return marginSoftmaxLoss(embeddings, labels: labels, weights: weights, scale: scale) { target in
            let c = target.clamped(min: -1, max: 1)
            let sine = (1 - c.squared()).clamped(min: 1e-12).sqrt()
            // θ ≤ π − m  ⟺  cos θ ≥ cos(π − m) = −cos m.
            let inRange = Tensor(shape: c.shape, c.scalars.map { $0 >= -cosM ? 1 : 0 })
            let rotated = c * cosM - sine * sinM
            let fallback = c - Float(m) * sinM
            return inRange * rotated + (1 - inRange) * fallback
        }
    }
}

/// Additive cosine margin loss, CosFace / large-margin cosine loss (Wang et al. 2018, "CosFace:
/// Large Margin Cosine Loss for Deep Face Recognition"), as pytorch-metric-learning's `CosFaceLoss`.
///
/// With W the learnable class vectors (``ClassWeights``, `[classes, d]`) the logits are
/// s·cos θ_ic, and s·(cos θ − m) for the item's own class; the loss is the mean cross-entropy.
///
/// Defaults (pml): margin 0.35, scale 64.
public struct CosFaceLoss: Sendable {
    /// Cosine margin m.
    public var margin: Float
    /// Logit scale s.
    public var scale: Float

    /// - Parameters:
    ///   - margin: cosine margin (pml 0.35).
    ///   - scale: logit scale (pml 64).
    public init(margin: Float = 0.35, scale: Float = 64) {
        self.margin = margin
        self.scale = scale
    }

    /// The loss of `[n, d]` embeddings with labels in 0..<classes against class vectors
    /// `[classes, d]`; gradients flow into both.
    public func callAsFunction(_ embeddings: Tensor, labels: [Int], weights: Tensor) -> Tensor {
        checkClassBatch(embeddings, labels, weights, op: "CosFaceLoss")
        return marginSoftmaxLoss(embeddings, labels: labels, weights: weights, scale: scale) { $0 - margin }
    }
}
