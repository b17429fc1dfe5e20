import Tensors

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// The parameters being optimised, in a fixed order.
    var parameters: [Parameter] { get }
    /// The learning rate used by the next ``step()`` (schedulers set it).
    var learningRate: Float { get set }
    /// Applies one update from the current gradients. Parameters without a gradient are left alone.
    func step()
}

extension Optimizer {
    /// Clears the gradients of every optimised parameter.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`; returns the
/// norm before clipping (useful to log). Non-finite norms are returned as they are, untouched.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        g.withUnsafeBufferPointer { b in total += Double(Kernels.dot(b.baseAddress!, b.baseAddress!, count: b.count)) }
    }
    let norm = Float(total.squareRoot())
    guard norm.isFinite, norm > maxNorm, norm > 0 else { return norm }
    let scale = maxNorm / norm
    for p in parameters {
        guard let g = p.grad else { continue }
        p.zeroGrad()
        // Re-seed the leaf's gradient with the scaled value.
        p.value.setGradient(g * scale)
    }
    return norm
}

/// Optimiser state that must survive a checkpoint for a resumed run to continue exactly.
public protocol StatefulOptimizer: Optimizer {
    /// Named state tensors (moment estimates, velocities) and scalar counters.
    func stateDictionary() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int])
    /// Restores what ``stateDictionary()`` returned; throws when names or shapes do not match.
    func loadState(tensors: [String: Tensor], counters: [String: Int]) throws
}

/// A checkpoint's optimiser state does not fit the optimiser being restored.
public struct OptimizerStateError: Error, CustomStringConvertible, Sendable {
    /// What does not fit (a missing name, a size mismatch).
    public let message: String
    /// The message prefixed with "optimizer state: ".
    public var description: String { "optimizer state: \(message)" }
}

/// Copies per-parameter state arrays back, checking every name and size.
func restoreSlots(_ slots: inout [[Float]], prefix: String, from tensors: [String: Tensor]) throws {
    for i in slots.indices {
        guard let t = tensors["\(prefix).\(i)"] else { throw OptimizerStateError(message: "missing \(prefix).\(i)") }
        guard t.count == slots[i].count else {
            throw OptimizerStateError(message: "\(prefix).\(i) has \(t.count) values, parameter has \(slots[i].count)")
        }
        slots[i] = t.scalars
    }
}
