/// Elementwise arithmetic with NumPy broadcasting, and its gradients.
extension Tensor {
    /// Elementwise sum.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "add", +).recorded("add", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? g.sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise difference.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "sub", -).recorded("sub", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? (-g).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise product.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "mul", *).recorded("mul", inputs: [a, b]) { g, needs in
            [needs[0] ? (g * b).sumToShape(a.shape) : nil, needs[1] ? (g * a).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise quotient.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "div", /).recorded("div", inputs: [a, b]) { g, needs in
            [needs[0] ? (g / b).sumToShape(a.shape) : nil,
             needs[1] ? (-(g * a) / (b * b)).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise negation.
    public static prefix func - (a: Tensor) -> Tensor {
        a.mapElements { -$0 }.recorded("neg", input: a) { -$0 }
    }

    /// Adds a scalar to every element; the gradient passes through unchanged.
    public static func + (a: Tensor, s: Float) -> Tensor {
        a.mapElements { $0 + s }.recorded("add_scalar", input: a) { $0 }
    }
    /// Adds a scalar to every element (`s + a` is `a + s`).
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    /// Subtracts a scalar from every element.
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    /// `s − x` for every element x; the gradient is negated.
    public static func - (s: Float, a: Tensor) -> Tensor {
        a.mapElements { s - $0 }.recorded("rsub_scalar", input: a) { -$0 }
    }
    /// Multiplies every element by a scalar; the gradient is scaled by `s`.
    public static func * (a: Tensor, s: Float) -> Tensor {
        a.mapElements { $0 * s }.recorded("mul_scalar", input: a) { $0 * s }
    }
    /// Multiplies every element by a scalar (`s * a` is `a * s`).
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    /// Divides every element by a scalar (as a multiplication by 1/s; s = 0 gives ±inf or NaN).
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    /// `s / x` for every element x; gradient −s/x².
    public static func / (s: Float, a: Tensor) -> Tensor {
        a.mapElements { s / $0 }.recorded("rdiv_scalar", input: a) { g in -(g * s) / (a * a) }
    }

    /// `a = a + b` (broadcasting, recorded for autodiff like `+`; not an in-place write).
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `a = a - b` (broadcasting, recorded for autodiff like `-`; not an in-place write).
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `a = a * b` (broadcasting, recorded for autodiff like `*`; not an in-place write).
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

    /// Elementwise maximum; where the two are equal the gradient goes to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "maximum") { Swift.max($0, $1) }.recorded("maximum", inputs: [a, b]) { g, needs in
            let takeA = Self.zipElements(a, b, op: "maximum") { $0 >= $1 ? 1 : 0 }
            return [needs[0] ? (g * takeA).sumToShape(a.shape) : nil,
                    needs[1] ? (g * (1 - takeA)).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise minimum; where the two are equal the gradient goes to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        Self.zipElements(a, b, op: "minimum") { Swift.min($0, $1) }.recorded("minimum", inputs: [a, b]) { g, needs in
            let takeA = Self.zipElements(a, b, op: "minimum") { $0 <= $1 ? 1 : 0 }
            return [needs[0] ? (g * takeA).sumToShape(a.shape) : nil,
                    needs[1] ? (g * (1 - takeA)).sumToShape(b.shape) : nil]
        }
    }

    /// Elements limited to [low, high]; the gradient is zero where clamping took effect.
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let x = self
        return mapElements { Swift.min(Swift.max($0, low), high) }.recorded("clamp", input: x) { g in
            Self.zipElements(g, x, op: "clamp") { $1 >= low && $1 <= high ? $0 : 0 }
        }
    }
}
