import Tensors

/// Multi-head self-attention of packed sequences on raw buffers (the inference fast path).
///
/// `qkv` holds, for each token row, Q then K then V (`3·hidden` floats); head `h` is columns
/// `h·d ..< (h+1)·d` of each. Every sequence attends only to itself, so no mask and no padding
/// are needed: per sequence of length L, one batched GEMM over the heads gives the `L×L` scores,
/// a row softmax, and a second batched GEMM writes each head's context into its columns of
/// `context` (`hidden` floats per row).
///
/// `positionBias` (MPNet) is `(table, span)`: `table[h·(2·span−1) + (j − i) + span − 1]` is added to
/// head `h`'s score of query `i` on key `j` before the softmax.
enum Attention {
    static func run(qkv: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>, offsets: [Int], heads: Int, hidden: Int,
                    positionBias: (UnsafeMutablePointer<Float>, Int)? = nil) {
        let sequences = offsets.count - 1
        let q = SendablePointer(qkv), ctx = SendablePointer(context)
        let bias = positionBias.map { (SendablePointer($0.0), $0.1) }
        offsets.withUnsafeBufferPointer { o in
            let off = SendablePointer(UnsafeMutablePointer(mutating: o.baseAddress!))
            Threading.parallelFor(sequences) { s in
                let start = off.pointer[s], length = off.pointer[s + 1] - start
                guard length > 0 else { return }
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: heads * length * length)
                defer { scores.deallocate() }
                one(q.pointer + start * 3 * hidden, ctx.pointer + start * hidden, length: length, heads: heads, hidden: hidden, scores: scores,
                    positionBias: bias.map { (UnsafePointer($0.0.pointer), $0.1) })
            }
        }
    }

    /// One sequence: `qkv` and `context` point at its first row.
    static func one(_ qkv: UnsafePointer<Float>, _ context: UnsafeMutablePointer<Float>, length l: Int, heads: Int, hidden: Int,
                    scores: UnsafeMutablePointer<Float>, positionBias: (UnsafePointer<Float>, Int)? = nil) {
        let d = hidden / heads, ld = 3 * hidden
        Kernels.sgemmBatched(batch: heads, transposeA: false, transposeB: true, m: l, n: l, k: d, alpha: 1 / Float(d).squareRoot(),
                             a: qkv, lda: ld, strideA: d, b: qkv + hidden, ldb: ld, strideB: d,
                             c: scores, ldc: l, strideC: l * l)
        if let (table, span) = positionBias {
            ensure(l <= span, "Attention: \(l) tokens exceed the \(span) positions of the bias table")
            let width = 2 * span - 1
            for h in 0..<heads {
                for i in 0..<l {
                    // Query i's biases for keys 0..<l: offsets −i … l−1−i, one contiguous slice.
                    RowKernels.accumulate(table + h * width + span - 1 - i, scores + (h * l + i) * l, d: l)
                }
            }
        }
        Kernels.softmaxRows(scores, scores, rows: heads * l, cols: l)
        Kernels.sgemmBatched(batch: heads, transposeA: false, transposeB: false, m: l, n: d, k: l,
                             a: scores, lda: l, strideA: l * l, b: qkv + 2 * hidden, ldb: ld, strideB: d,
                             c: context, ldc: hidden, strideC: d)
    }
}
