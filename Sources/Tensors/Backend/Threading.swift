import CKernels

/// The worker threads shared by every kernel.
///
/// The pool lives in C (`CKernels/threads.c`): its workers spin briefly between jobs so that the
/// many small parallel loops of a training step start in about a microsecond, then sleep.
public enum Threading {
    /// Threads used by kernels, the calling thread included.
    ///
    /// Defaults to `SIAMESE_THREADS` when it is set to a positive integer, else to the number of
    /// CPUs this process may run on. Setting it takes effect for the next kernel call; values
    /// below 1 are clamped to 1. Thread-safe (an atomic in C).
    public static var threadCount: Int {
        get { Int(ck_get_threads()) }
        set { ck_set_threads(Int32(clamping: newValue)) }
    }

    /// Runs `body(i)` for every `i` in `0..<count` on up to ``threadCount`` threads and returns
    /// when all calls have finished.
    ///
    /// Indices are handed out one at a time, so uneven iterations balance themselves; give each
    /// iteration enough work (tens of microseconds) to amortise the hand-out. Runs inline, in
    /// order, when `count == 1`, when ``threadCount`` is 1, when called from inside another
    /// `parallelFor` body, or while another thread's parallel loop is using the pool.
    public static func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || ck_get_threads() == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // The closure does not escape: ck_parallel_for returns only after every call returned.
        withoutActuallyEscaping(body) { body in
            var box = body
            withUnsafeMutablePointer(to: &box) { pointer in
                ck_parallel_for(Int64(count), { context, index in
                    context!.assumingMemoryBound(to: (@Sendable (Int) -> Void).self).pointee(Int(index))
                }, pointer)
            }
        }
    }

    /// Runs `body` over `0..<total` split into contiguous ranges, on several threads when the work
    /// (`total · costPerItem`, in rough element operations) repays the cost of waking them, inline
    /// in one call otherwise. Ranges are handed out dynamically, a few per thread, so a thread that
    /// another process delays leaves its share to the others.
    /// - Parameters:
    ///   - total: the number of items.
    ///   - costPerItem: rough element operations per item (32 K operations make a range worth a thread).
    ///   - body: called with disjoint ranges that together cover `0..<total`.
    public static func parallelRanges(_ total: Int, costPerItem: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let chunks = Swift.min(total, Swift.max(1, Swift.min(4 * threadCount, total * costPerItem / 32_768)))
        if chunks == 1 { body(0..<total); return }
        parallelFor(chunks) { i in
            body((total * i / chunks)..<(total * (i + 1) / chunks))
        }
    }
}
