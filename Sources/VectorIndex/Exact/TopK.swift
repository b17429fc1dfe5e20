import Core
import CKernels

/// Bounded "k best so far" heaps for many rows at once, filled by the C scans
/// (`ck_ix_topk_rows` / `ck_ix_topk_cols`).
///
/// Scores are larger-is-better; ties go to the smaller id, so results never depend on how the
/// work was split across threads. `@unchecked Sendable`: one task owns a `TopKHeaps` at a time
/// (they travel through a ``ScratchPool``).
final class TopKHeaps: @unchecked Sendable {
    let rows: Int
    let k: Int
    let scores: AlignedBuffer<Float>
    let ids: AlignedBuffer<Int64>
    let sizes: AlignedBuffer<Int64>

    init(rows: Int, k: Int) {
        self.rows = rows
        self.k = k
        scores = AlignedBuffer(count: rows * k, zeroed: false)
        ids = AlignedBuffer(count: rows * k, zeroed: false)
        sizes = AlignedBuffer(count: rows)
    }

    func reset() { sizes.pointer.update(repeating: 0, count: rows) }

    /// Offers a block of scores (`blockRows × cols`, row stride `lds`) whose row `r` belongs to heap
    /// `firstRow + r` and whose column `c` is id `idBase + c`.
    func offerRows(_ s: UnsafePointer<Float>, firstRow: Int, blockRows: Int, cols: Int, lds: Int, idBase: Int,
                   bias: UnsafePointer<Float>? = nil, mask: UnsafePointer<UInt8>? = nil) {
        ck_ix_topk_rows(s, Int64(blockRows), Int64(cols), Int64(lds), bias, mask, Int64(idBase), Int64(k),
                        scores.pointer + firstRow * k, ids.pointer + firstRow * k, sizes.pointer + firstRow)
    }

    /// Offers the transpose of a block: column `c` belongs to heap `firstRow + c`, row `r` is id `idBase + r`.
    func offerColumns(_ s: UnsafePointer<Float>, blockRows: Int, cols: Int, lds: Int, firstRow: Int, idBase: Int) {
        ck_ix_topk_cols(s, Int64(blockRows), Int64(cols), Int64(lds), Int64(idBase), Int64(k),
                        scores.pointer + firstRow * k, ids.pointer + firstRow * k, sizes.pointer + firstRow)
    }

    /// Sorts every heap best first, in place.
    func sort() { ck_ix_heaps_sort(Int64(rows), Int64(k), scores.pointer, ids.pointer, sizes.pointer) }

    /// Merges the heaps of several partial scans (each over part of the candidates) into the best
    /// `k` of row `row`, best first, as (score, id) pairs.
    static func merge(_ parts: [TopKHeaps], row: Int, k: Int) -> [(score: Float, id: Int64)] {
        var all: [(score: Float, id: Int64)] = []
        for p in parts {
            let n = Int(p.sizes.pointer[row])
            for j in 0..<n { all.append((p.scores.pointer[row * p.k + j], p.ids.pointer[row * p.k + j])) }
        }
        all.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        if all.count > k { all.removeSubrange(k...) }
        return all
    }
}
