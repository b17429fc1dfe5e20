import Foundation

/// Learning rate as a function of the step: linear warm-up, then constant, linear or cosine decay.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    public enum Decay: String, Sendable, Codable { case constant, linear, cosine }

    public var baseRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    /// The rate reached at `totalSteps`, as a fraction of `baseRate`.
    public var finalFraction: Float

    public init(baseRate: Float, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .constant, finalFraction: Float = 0) {
        self.baseRate = baseRate
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = max(1, totalSteps)
        self.decay = decay
        self.finalFraction = finalFraction
    }

    /// The rate for `step` (0-based): warm-up ramps from baseRate/warmup up to baseRate.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return baseRate * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let floor = baseRate * finalFraction
        switch decay {
        case .constant: return baseRate
        case .linear: return floor + (baseRate - floor) * (1 - progress)
        case .cosine: return floor + (baseRate - floor) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
        }
    }
}
