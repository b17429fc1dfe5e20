import Foundation

/// Elementwise math functions and their gradients.
extension Tensor {
    /// eˣ.
    public func exp() -> Tensor {
        let y = mapBuffer { Kernels.exp($0, $1, count: $2) }
        return y.recorded("exp", input: self) { g in g * y }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        let x = self
        return mapElements { Foundation.log($0) }.recorded("log", input: x) { g in g / x }
    }

    /// Square root.
    public func sqrt() -> Tensor {
        let y = mapElements { $0.squareRoot() }
        return y.recorded("sqrt", input: self) { g in g / (2 * y) }
    }

    /// x².
    public func squared() -> Tensor {
        let x = self
        return mapElements { $0 * $0 }.recorded("square", input: x) { g in g * x * 2 }
    }

    /// xᵖ for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        let x = self
        return mapElements { Foundation.pow($0, p) }.recorded("pow", input: x) { g in
            g * x.mapElements { p * Foundation.pow($0, p - 1) }
        }
    }

    /// |x|; the gradient at 0 is 0.
    public func abs() -> Tensor {
        let x = self
        return mapElements { Swift.abs($0) }.recorded("abs", input: x) { g in
            Self.zipElements(g, x, op: "abs") { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }
        }
    }
}
