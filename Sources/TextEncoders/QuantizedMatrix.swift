import CKernels
import Foundation

/// A weight matrix `W[out, in]` quantised to int8 per output channel (symmetric: scale
/// max|wⱼ|/127, no zero point), packed for the int8 GEMM of `CKernels` (`ckernels_int8.h`).
///
/// Activations are quantised at run time per row (unsigned 8-bit with a zero point, from the
/// row's own range), so one outlier token does not cost the others their precision. Products are
/// summed exactly in int32 and dequantised once per output.
final class QuantizedMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let layout: Int32
    private let packed: AlignedBuffer<UInt8>
    private let scales: AlignedBuffer<Float>
    private let sums: AlignedBuffer<Int32>

    init(weight w: [Float], rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        let layout = ck_q8_preferred_layout()
        self.layout = layout
        let paddedColumns = Int(ck_q8_padded_cols(Int64(rows)))
        var q = [Int8](repeating: 0, count: rows * columns)
        var s = [Float](repeating: 0, count: paddedColumns)
        for r in 0..<rows {
            var m: Float = 0
            for c in 0..<columns { m = max(m, abs(w[r * columns + c])) }
            let scale = m > 0 ? m / 127 : 1
            s[r] = m > 0 ? scale : 0
            for c in 0..<columns {
                q[r * columns + c] = Int8(max(-127, min(127, (w[r * columns + c] / scale).rounded(.toNearestOrEven))))
            }
        }
        let packed = AlignedBuffer<UInt8>(capacity: Int(ck_q8_packed_b_bytes(layout, Int64(rows), Int64(columns))))
        let sums = AlignedBuffer<Int32>(capacity: paddedColumns)
        q.withUnsafeBufferPointer { ck_q8_pack_b(layout, Int64(rows), Int64(columns), $0.baseAddress, packed.pointer, sums.pointer) }
        self.packed = packed
        self.sums = sums
        scales = AlignedBuffer(s)
    }

    /// `y[n, rows] = x[n, columns]·Wᵀ + bias` (bias padded to the kernel's column multiple, or nil).
    func multiply(_ x: UnsafePointer<Float>, rows n: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                  scratch: QuantizationScratch) {
        let a = scratch.activations.reserve(Int(ck_q8_packed_a_bytes(layout, Int64(n), Int64(columns))))
        let paddedRows = Int(ck_q8_padded_rows(Int64(n)))
        let sa = scratch.scales.reserve(paddedRows), za = scratch.zeros.reserve(paddedRows)
        ck_q8_quantize_a(layout, Int64(n), Int64(columns), x, Int64(columns), a, sa, za)
        ck_q8_gemm(layout, Int64(n), Int64(rows), Int64(columns), a, sa, za, packed.pointer, scales.pointer, sums.pointer,
                   bias, y, Int64(rows))
    }

    /// The kernel the multiply runs now ("avx512-vnni", "avx2", "generic").
    var kernelName: String { String(cString: ck_q8_kernel_name(layout)) }
}

/// Buffers for quantised activations, reused across layers and batches of one encode call.
final class QuantizationScratch: @unchecked Sendable {
    let activations = AlignedBuffer<UInt8>()
    let scales = AlignedBuffer<Float>()
    let zeros = AlignedBuffer<Int32>()
}
