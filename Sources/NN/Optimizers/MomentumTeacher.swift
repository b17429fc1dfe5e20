import Foundation
import Tensors

/// The exponential moving average that makes a teacher (BYOL's target network, DINO's teacher)
/// from a student: θ_t ← m·θ_t + (1 − m)·θ_s for every parameter, as lightly's `update_momentum`.
/// The two modules must have the same architecture (parameters in the same order and shapes).
/// Buffers (batch-norm running statistics) are not averaged: the teacher's own forward passes
/// update them, as in lightly.
public func updateMomentum(teacher: any Module, student: any Module, momentum: Float) {
    let t = teacher.parameters, s = student.parameters
    ensure(t.count == s.count, "updateMomentum: the teacher has \(t.count) parameters, the student \(s.count)")
    for (pt, ps) in zip(t, s) {
        ensure(pt.shape == ps.shape, "updateMomentum: teacher shape \(pt.shape) differs from student shape \(ps.shape)")
        var value = pt.value.detached()
        ps.value.withUnsafeBufferPointer { src in
            value.withUnsafeMutableBufferPointer { dst in
                for j in 0..<dst.count { dst[j] = momentum * dst[j] + (1 - momentum) * src[j] }
            }
        }
        pt.value = value
    }
}

/// Copies the student's parameters and buffers into the teacher (the teacher's start, BYOL and DINO).
public func copyWeights(from student: any Module, to teacher: any Module) {
    updateMomentum(teacher: teacher, student: student, momentum: 0)
    for (name, tensor) in student.namedBuffers { _ = teacher.setBuffer(name, tensor.detached()) }
}

/// lightly's `cosine_schedule`: a value that moves from `start` to `end` along a half cosine over
/// `totalSteps` steps (0-based `step`), reaching `end` at the last step and staying there — BYOL's
/// and DINO's teacher momentum (0.996 → 1).
///
///     v(step) = end − (end − start)·(cos(π·step / (totalSteps − 1)) + 1) / 2
public func cosineSchedule(step: Int, totalSteps: Int, start: Float, end: Float) -> Float {
    if totalSteps <= 1 || step >= totalSteps - 1 { return end }
    let progress = Double(max(0, step)) / Double(totalSteps - 1)
    return end - (end - start) * Float((Foundation.cos(Double.pi * progress) + 1) / 2)
}
