import Tensors

/// DINO's self-distillation loss (Caron et al. 2021, "Emerging Properties in Self-Supervised
/// Vision Transformers"), as lightly's `DINOLoss`: the cross-entropy between the teacher's
/// centred, sharpened softmax and the student's softmax, over every pair of different views.
///
/// With T views of the teacher, S of the student (T ≤ S: the first T student views are the same
/// global crops, the rest local crops), c the centre, τ_t and τ_s the temperatures:
///
///     P_t = softmax((t_v − c) / τ_t),   log P_s = log_softmax(s_w / τ_s)
///     ℓ   = −Σ_{v, w, v ≠ w} Σ_b P_t[v, b]·log P_s[w, b] / (#pairs · batch)
///
/// The teacher is a constant (stop-gradient: it is an EMA of the student, never trained by the
/// loss). After each call, ``updateCentre(teacher:)`` moves the centre towards the teacher
/// outputs' batch mean, c ← m·c + (1 − m)·mean (momentum m = 0.9) — lightly does this inside its
/// forward; here it is a separate, explicit step so that a loss can be evaluated without side
/// effects (in a test, or twice for finite differences).
///
/// Defaults (lightly): τ_t = 0.04, τ_s = 0.1, m = 0.9.
public struct DINOLoss: Sendable {
    /// Teacher temperature τ_t (sharpening).
    public var teacherTemperature: Float
    /// Student temperature τ_s.
    public var studentTemperature: Float
    /// Momentum m of the centre's moving average.
    public var centreMomentum: Float
    /// The centre c, shape `[d]` (starts at zeros).
    public var centre: Tensor

    /// - Parameters:
    ///   - outputDimension: d, the width of the heads' outputs (the centre's length).
    ///   - teacherTemperature: τ_t (0.04).
    ///   - studentTemperature: τ_s (0.1).
    ///   - centreMomentum: m (0.9).
    public init(outputDimension: Int, teacherTemperature: Float = 0.04, studentTemperature: Float = 0.1, centreMomentum: Float = 0.9) {
        ensure(teacherTemperature > 0 && studentTemperature > 0, "DINOLoss: temperatures must be positive")
        self.teacherTemperature = teacherTemperature
        self.studentTemperature = studentTemperature
        self.centreMomentum = centreMomentum
        centre = Tensor.zeros([outputDimension])
    }

    /// The loss of T teacher views and S student views, each `[n, d]`; needs T + S ≥ 3 or T ≠ S,
    /// i.e. at least one pair of different views. Scalar.
    public func callAsFunction(teacher: [Tensor], student: [Tensor]) -> Tensor {
        let d = centre.count
        lossPrecondition(!teacher.isEmpty && !student.isEmpty && teacher.count <= student.count, "DINOLoss",
                         "needs 1 ≤ teacher views ≤ student views, got \(teacher.count) and \(student.count)")
        let n = teacher[0].shape[0]
        for v in teacher + student {
            lossPrecondition(v.shape == [n, d], "DINOLoss", "every view must be [\(n), \(d)], got \(v.shape)")
        }
        let pairs = teacher.count * student.count - min(teacher.count, student.count)
        lossPrecondition(pairs > 0, "DINOLoss", "needs at least two views in total")
        let targets = teacher.map { (($0.detached() - centre.reshaped([1, d])) * (1 / teacherTemperature)).softmax(axis: 1) }
        let logProbabilities = student.map { ($0 * (1 / studentTemperature)).logSoftmax(axis: 1) }
        var total: Tensor? = nil
        for (v, t) in targets.enumerated() {
            for (w, s) in logProbabilities.enumerated() where v != w {
                let term = (t * s).sum()
                total = total.map { $0 + term } ?? term
            }
        }
        return -total! * (1 / Float(pairs * n))
    }

    /// c ← m·c + (1 − m)·(mean of the teacher outputs over views and batch).
    public mutating func updateCentre(teacher: [Tensor]) {
        let all = Tensor.concatenate(teacher.map { $0.detached() }, axis: 0)
        centre = (centre * centreMomentum + all.mean(axis: 0) * (1 - centreMomentum)).detached()
    }
}
