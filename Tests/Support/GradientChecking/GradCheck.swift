// Shared by the test targets of Tensors, NN and Siamese (one copy, one behaviour).
import Tensors

/// Compares autodiff gradients with central finite differences.
///
/// The scalar checked is L = Σ w ⊙ f(inputs) with fixed random weights w, so that every output
/// element contributes with its own weight (a plain sum would hide errors that cancel). L is
/// accumulated in Double from the Float outputs; the step is relative to each element's size.
public struct GradCheckResult: CustomStringConvertible, Sendable {
    /// Largest |analytic − numeric| / max(1, |numeric|) over the checked elements.
    public var maxError: Double
    public var worst: String
    public var checked: Int
    public var description: String { "max error \(maxError) over \(checked) elements (worst \(worst))" }
}

public func gradCheck(
    _ inputs: [Tensor],
    epsilon: Double = 1e-3,
    maxElementsPerInput: Int = 48,
    seed: UInt64 = 7,
    _ f: ([Tensor]) -> Tensor
) throws -> GradCheckResult {
    var rng = SeededGenerator(seed: seed)
    let probe = f(inputs)
    let weights = Tensor.randomUniform(probe.shape, low: -1, high: 1, generator: &rng)

    func loss(_ xs: [Tensor]) -> Double {
        let y = withoutGradients { f(xs) }
        let w = weights.scalars
        return zip(y.scalars, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    let tracked = inputs.map { $0.requiringGrad() }
    let out = f(tracked)
    try (out * weights).sum().backward()

    var result = GradCheckResult(maxError: 0, worst: "", checked: 0)
    for (i, x) in inputs.enumerated() {
        let analytic = tracked[i].grad?.scalars ?? [Float](repeating: 0, count: x.count)
        let positions = x.count <= maxElementsPerInput
            ? Array(0..<x.count)
            : (0..<maxElementsPerInput).map { _ in rng.nextInt(below: x.count) }
        for p in positions {
            let v = x.scalars[p]
            let h = Float(epsilon * max(1, Double(abs(v))))
            var plus = inputs, minus = inputs
            plus[i].withUnsafeMutableBufferPointer { $0[p] = v + h }
            minus[i].withUnsafeMutableBufferPointer { $0[p] = v - h }
            // The step actually taken in Float, so rounding of v ± h does not bias the quotient.
            let step = Double(plus[i].scalars[p]) - Double(minus[i].scalars[p])
            let numeric = (loss(plus) - loss(minus)) / step
            let error = abs(Double(analytic[p]) - numeric) / max(1, abs(numeric))
            result.checked += 1
            if error > result.maxError {
                result.maxError = error
                result.worst = "input \(i) element \(p): analytic \(analytic[p]) numeric \(numeric)"
            }
        }
    }
    return result
}

/// Random inputs with values bounded away from zero by `gap` (for ops with a kink at zero).
public func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1, awayFromZero gap: Float = 0) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    var t = Tensor.randomUniform(shape, low: low, high: high, generator: &rng)
    if gap > 0 {
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices where abs(p[i]) < gap { p[i] = p[i] < 0 ? -gap - abs(p[i]) : gap + p[i] }
        }
    }
    return t
}

/// Max |a − b| between two tensors' elements.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
