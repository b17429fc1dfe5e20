import Foundation

/// Learning rate as a function of the step: linear warm-up, then constant, linear or cosine decay.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    /// How the rate falls after warm-up: held at `baseRate`, linearly or along a half cosine to `finalFraction`.
    public enum Decay: String, Sendable, Codable { case constant, linear, cosine }

    /// The peak rate, reached at the end of warm-up.
    public var baseRate: Float
    /// Number of steps of linear warm-up (0 = none).
    public var warmupSteps: Int
    /// Number of steps of the whole run, warm-up included; the decay reaches its floor here and stays there.
    public var totalSteps: Int
    /// The decay shape after warm-up.
    public var decay: Decay
    /// The rate reached at `totalSteps`, as a fraction of `baseRate`.
    public var finalFraction: Float

    /// Creates a schedule.
    /// - Parameters:
    ///   - baseRate: The peak learning rate.
    ///   - warmupSteps: Steps of linear warm-up; negative values are treated as 0 (default 0).
    ///   - totalSteps: Steps in the whole run; values below 1 are treated as 1.
    ///   - decay: Decay shape after warm-up (default constant).
    ///   - finalFraction: The rate at `totalSteps` as a fraction of `baseRate`, for linear and cosine decay (default 0).
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
