import CKernels
import Tensors

/// The engine under duplicate mining and clustering: cosine (or dot) similarities of every pair
/// of rows, computed as the upper triangle of `X·Xᵀ` in square tiles (one GEMM per tile, on every
/// thread), so each pair is computed once and memory stays at one tile per thread.
struct SimilarityBlocks: @unchecked Sendable {
    // `@unchecked Sendable`: `rows` is read-only once built; tasks only read it.
    let rows: AlignedBuffer<Float>
    let count: Int
    let dimension: Int
    /// Rows per tile side.
    let tile: Int

    var tiles: Int { (count + tile - 1) / tile }

    /// Rows copied (and L2-normalised when `normalize`, as cosine similarity needs).
    init(_ vectors: [Float], dimension: Int, normalize: Bool, tile: Int = 1024) throws(IndexError) {
        guard dimension > 0 else { throw .invalidArgument("dimension must be positive") }
        guard vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: dimension) }
        count = vectors.count / dimension
        self.dimension = dimension
        self.tile = tile
        rows = AlignedBuffer(count: max(1, vectors.count), zeroed: false)
        try vectors.withUnsafeBufferPointer { (b) throws(IndexError) in
            guard let base = b.baseAddress else { return }
            try VectorPreparation.copy(base, rows: count, dimension: dimension, metric: normalize ? .cosine : .dot,
                                       into: rows.pointer, stride: dimension)
        }
    }

    /// The tile pairs (I, J) with I ≤ J whose first tile lies in `band`.
    func tilePairs(band: Range<Int>) -> [(Int, Int)] {
        band.flatMap { i in (i..<tiles).map { (i, $0) } }
    }

    /// Computes tile (I, J) into `out` (row stride `tile`): rows of tile I against rows of tile J.
    /// On a diagonal tile, entries on and below the diagonal are computed too (a GEMM tile is
    /// square); callers skip them.
    func compute(_ i: Int, _ j: Int, into out: UnsafeMutablePointer<Float>) -> (rows: Int, cols: Int) {
        let r0 = i * tile, c0 = j * tile
        let m = min(tile, count - r0), n = min(tile, count - c0)
        Kernels.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: dimension,
                      a: rows.pointer + r0 * dimension, lda: dimension, b: rows.pointer + c0 * dimension, ldb: dimension,
                      c: out, ldc: tile)
        return (m, n)
    }

    /// Per-task tile buffers, pooled.
    final class TileScratch: @unchecked Sendable {
        // `@unchecked Sendable`: one task at a time (ScratchPool).
        let scores: AlignedBuffer<Float>
        init(tile: Int) { scores = AlignedBuffer(count: tile * tile, zeroed: false) }
    }
}
