import CKernels
import Foundation

/// Activation functions and their gradients.
extension Tensor {
    /// max(x, 0); the gradient at 0 is 0. NaN stays NaN (the gradient there is 0).
    public func relu() -> Tensor {
        let x = self
        return mapBuffer { ck_relu($0, $1, Int64($2)) }.recorded("relu", input: x) { g in
            check(g.shape == x.shape, "relu", "gradient shape \(g.shape) differs from input \(x.shape)")
            let dx = TensorStorage(dtype: .float32, count: x.count)
            let gs = UInt(bitPattern: g.storage.floats), xs = UInt(bitPattern: x.storage.floats)
            let ds = UInt(bitPattern: dx.floats), n = x.count
            Threading.parallelRanges(n, costPerItem: 1) { range in
                ck_relu_backward(UnsafePointer<Float>(bitPattern: gs)! + range.lowerBound,
                                 UnsafePointer<Float>(bitPattern: xs)! + range.lowerBound,
                                 UnsafeMutablePointer<Float>(bitPattern: ds)! + range.lowerBound, Int64(range.count))
            }
            return Tensor(shape: x.shape, storage: dx)
        }
    }

    /// x for x > 0, slope·x otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let x = self
        return mapElements { $0 > 0 ? $0 : slope * $0 }.recorded("leaky_relu", input: x) { g in
            Self.zipElements(g, x, op: "leaky_relu") { $1 > 0 ? $0 : slope * $0 }
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        let y = mapBuffer { Kernels.tanh($0, $1, count: $2) }
        return y.recorded("tanh", input: self) { g in Self.zipElements(g, y, op: "tanh") { $0 * (1 - $1 * $1) } }
    }

    /// Logistic sigmoid 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor {
        let y = mapBuffer { Kernels.sigmoid($0, $1, count: $2) }
        return y.recorded("sigmoid", input: self) { g in Self.zipElements(g, y, op: "sigmoid") { $0 * $1 * (1 - $1) } }
    }

    /// log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|) so that it never overflows.
    public func softplus() -> Tensor {
        let x = self
        return mapElements { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }
            .recorded("softplus", input: x) { g in g * x.sigmoid() }
    }

    /// The form of GELU: exact (with erf, as BERT uses) or the tanh approximation (as GPT-2 uses).
    public enum GELUApproximation: Sendable { case none, tanh }

    /// Gaussian error linear unit x·Φ(x).
    public func gelu(approximation: GELUApproximation = .none) -> Tensor {
        let x = self
        switch approximation {
        case .none:
            return mapBuffer { Kernels.geluErf($0, $1, count: $2) }.recorded("gelu", input: x) { g in
                // d/dx x·Φ(x) = Φ(x) + x·φ(x)
                let cdf = (x * Float(1 / 2.0.squareRoot())).mapBuffer { Kernels.erf($0, $1, count: $2) }
                let pdf = x.mapElements { -0.5 * $0 * $0 }.mapBuffer { Kernels.exp($0, $1, count: $2) }
                let invSqrt2Pi = Float(1 / (2 * Double.pi).squareRoot())
                let xPdf = Self.zipElements(x, pdf, op: "gelu") { $0 * $1 * invSqrt2Pi }
                return g * Self.zipElements(cdf, xPdf, op: "gelu") { 0.5 * (1 + $0) + $1 }
            }
        case .tanh:
            let c = Float((2 / Double.pi).squareRoot())
            return mapBuffer { Kernels.geluTanh($0, $1, count: $2) }.recorded("gelu_tanh", input: x) { g in
                let inner = x.mapElements { c * ($0 + 0.044715 * $0 * $0 * $0) }
                let t = inner.mapBuffer { Kernels.tanh($0, $1, count: $2) }
                let d = Self.zipElements(x, t, op: "gelu_tanh") { x, t in
                    0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
                }
                return g * d
            }
        }
    }

    /// Softmax along `axis`, stable for any offset (the row maximum is subtracted first).
    public func softmax(axis: Int = -1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "softmax")
        if a != rank - 1 { return transposed(a, rank - 1).softmax(axis: -1).transposed(a, rank - 1) }
        let cols = shape.last ?? 1
        let y = mapBuffer(unit: cols) { Kernels.softmaxRows($0, $1, rows: $2 / Swift.max(cols, 1), cols: cols) }
        return y.recorded("softmax", input: self) { g in
            // dx = y ⊙ (g − Σ g⊙y)
            y * (g - (g * y).sum(axis: -1, keepDims: true))
        }
    }

    /// log(softmax(x)) along `axis`, computed directly so that it is exact for large logits.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "logSoftmax")
        if a != rank - 1 { return transposed(a, rank - 1).logSoftmax(axis: -1).transposed(a, rank - 1) }
        let cols = shape.last ?? 1
        let y = mapBuffer(unit: cols) { Kernels.logSoftmaxRows($0, $1, rows: $2 / Swift.max(cols, 1), cols: cols) }
        return y.recorded("log_softmax", input: self) { g in
            // dx = g − softmax(x) · Σ g
            g - y.exp() * g.sum(axis: -1, keepDims: true)
        }
    }
}
