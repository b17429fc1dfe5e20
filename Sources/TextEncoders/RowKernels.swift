import Tensors

/// Row-wise float loops of the inference engine, on raw buffers. Written with `SIMD8<Float>`;
/// they touch each element a few times while the GEMMs around them do hundreds of
/// multiply-adds per element, so plain vector code is enough.
enum RowKernels {
    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always)
    static func store8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

    /// `y = LayerNorm(x + r + bias)` over `d` columns (r optional), with PyTorch's biased variance.
    /// `y` may alias `x` or `r`.
    static func addLayerNorm(_ x: UnsafePointer<Float>, _ r: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                             gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float,
                             _ y: UnsafeMutablePointer<Float>, d: Int) {
        // First pass: the sum, writing the pre-normalisation values to y.
        var acc = SIMD8<Float>.zero
        var j = 0
        while j + 8 <= d {
            var v = load8(x + j)
            if let r { v += load8(r + j) }
            if let bias { v += load8(bias + j) }
            store8(y + j, v)
            acc += v
            j += 8
        }
        var sum = acc.sum()
        while j < d {
            var v = x[j]
            if let r { v += r[j] }
            if let bias { v += bias[j] }
            y[j] = v
            sum += v
            j += 1
        }
        let mean = sum / Float(d)
        // Second pass: the variance around the mean (two passes, as accurate as PyTorch's).
        var vacc = SIMD8<Float>.zero
        let m8 = SIMD8<Float>(repeating: mean)
        j = 0
        while j + 8 <= d {
            let c = load8(y + j) - m8
            vacc += c * c
            j += 8
        }
        var variance = vacc.sum()
        while j < d { let c = y[j] - mean; variance += c * c; j += 1 }
        let inv = 1 / (variance / Float(d) + epsilon).squareRoot()
        let i8 = SIMD8<Float>(repeating: inv)
        j = 0
        while j + 8 <= d {
            store8(y + j, (load8(y + j) - m8) * i8 * load8(gamma + j) + load8(beta + j))
            j += 8
        }
        while j < d { y[j] = (y[j] - mean) * inv * gamma[j] + beta[j]; j += 1 }
    }

    /// `y += bias` over `d` columns.
    @inline(__always)
    static func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, d: Int) {
        var j = 0
        while j + 8 <= d { store8(y + j, load8(y + j) + load8(bias + j)); j += 8 }
        while j < d { y[j] += bias[j]; j += 1 }
    }

    /// `y = a + b + c` over `d` columns.
    @inline(__always)
    static func sum3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, d: Int) {
        var j = 0
        while j + 8 <= d { store8(y + j, load8(a + j) + load8(b + j) + load8(c + j)); j += 8 }
        while j < d { y[j] = a[j] + b[j] + c[j]; j += 1 }
    }

    /// `y += x` over `d` columns.
    @inline(__always)
    static func accumulate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, d: Int) {
        var j = 0
        while j + 8 <= d { store8(y + j, load8(y + j) + load8(x + j)); j += 8 }
        while j < d { y[j] += x[j]; j += 1 }
    }

    /// Runs `body(start, end)` over `rows` split into chunks of at least `minimumRows`, on the
    /// kernel threads.
    static func parallelRows(_ rows: Int, minimumRows: Int = 16, _ body: @escaping @Sendable (Int, Int) -> Void) {
        let threads = Threading.threadCount
        let chunks = max(1, min(threads * 4, rows / max(minimumRows, 1)))
        if chunks == 1 { body(0, rows); return }
        let per = (rows + chunks - 1) / chunks
        Threading.parallelFor(chunks) { c in
            let start = c * per, end = min(rows, start + per)
            if start < end { body(start, end) }
        }
    }
}

/// A raw pointer that may cross into parallel workers (each writes a disjoint part).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}
