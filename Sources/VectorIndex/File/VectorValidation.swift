import CKernels

extension IndexFileFormat.Contents {
    /// Checks a file's stored vectors in one linear pass, as the index would have stored them: all
    /// finite, unit length under cosine (insertion normalises them: a crafted "cosine" vector of
    /// norm 4.9e36 would outrank every real one), and a squared norm that does not overflow under
    /// dot and L2 (scores would be infinite). A checksum only proves the bytes are the writer's.
    func checkVectors(_ v: UnsafePointer<Float>, count n: Int, dimension dim: Int) throws(IndexFileError) {
        guard n > 0 else { return }
        guard ck_all_finite(v, Int64(n * dim)) != 0 else { throw error(.malformed("a vector holds NaN or infinity")) }
        for row in 0..<n {
            let x = v + row * dim
            let squared = ck_ix_dot(x, x, Int64(dim))
            if metric == .cosine {
                guard abs(squared - 1) <= 1e-3 else {
                    throw error(.malformed("vector \(row) has length \(squared.squareRoot()); a cosine index stores unit vectors"))
                }
            } else {
                guard squared.isFinite else {
                    throw error(.malformed("vector \(row) is so large that its squared length overflows"))
                }
            }
        }
    }
}
