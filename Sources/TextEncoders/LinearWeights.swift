import CKernels
import Tensors

/// The weights of one linear layer laid out for inference: `y = x·Wᵀ + b` with W `[out, in]`.
///
/// Float32 keeps Wᵀ packed once in the GEMM's panels (``PackedMatrix``: a product with a few
/// rows would otherwise spend most of its time re-packing W); int8 keeps W quantised per output
/// channel in the packed layout of the int8 GEMM (see ``QuantizedMatrix``).
final class LinearWeights: @unchecked Sendable {
    let inFeatures: Int
    let outFeatures: Int
    let bias: AlignedBuffer<Float>
    let weight: PackedMatrix?
    let quantized: QuantizedMatrix?

    /// From row-major W `[out, in]` (rows of several matrices may be stacked: fused Q, K, V).
    init(weight w: [Float], bias b: [Float], inFeatures: Int, precision: Precision) {
        self.inFeatures = inFeatures
        outFeatures = b.count
        // Padded to the int8 kernel's column multiple: its epilogue reads whole vectors.
        bias = AlignedBuffer(b + [Float](repeating: 0, count: Int(ck_q8_padded_cols(Int64(b.count))) - b.count))
        switch precision {
        case .float32:
            weight = w.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: inFeatures, n: b.count, ld: inFeatures, transposed: true) }
            quantized = nil
        case .int8:
            weight = nil
            quantized = QuantizedMatrix(weight: w, rows: b.count, columns: inFeatures)
        }
    }

    /// `y[rows, out] = x[rows, in]·Wᵀ`, plus the bias when `addBias` (callers that follow with a
    /// row pass of their own add it there instead, for free). `scratch` holds the quantised
    /// activations.
    func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, addBias: Bool = false,
                  scratch: QuantizationScratch) {
        if let weight {
            weight.multiply(x, m: rows, lda: inFeatures, into: y, ldc: outFeatures)
            if addBias {
                let b = SendablePointer(bias.pointer), out = SendablePointer(y), d = outFeatures
                RowKernels.parallelRows(rows, minimumRows: 32) { start, end in
                    for row in start..<end { RowKernels.addBias(out.pointer + row * d, b.pointer, d: d) }
                }
            }
        } else if let quantized {
            // The int8 kernel adds the bias in its epilogue.
            quantized.multiply(x, rows: rows, bias: addBias ? bias.pointer : nil, into: y, scratch: scratch)
        }
    }
}
