#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw memory aligned to 64 bytes (one cache line, one AVX-512 register), owned by the object.
///
/// Large buffers (``hugePageThreshold`` bytes and more) are aligned to 2 MiB and advised to use
/// transparent huge pages: graph searches read rows of a 100k × 384 array in random order, and
/// with 4 KiB pages nearly every row costs a TLB miss (about a quarter of the search time here).
///
/// `@unchecked Sendable`: the buffer is only a pointer and a size; the types that hold one
/// (``ExactIndex``'s storage, the HNSW graph) define who may write through it and when.
final class AlignedBuffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    /// Allocates `count` elements (at least one, so the pointer is always valid), zero-filled
    /// when `zeroed`. Traps when the system is out of memory, as Swift's own allocations do.
    init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "AlignedBuffer: negative count \(count)")
        let bytes = max(1, count) * MemoryLayout<Element>.stride
        let huge = bytes >= Self.hugePageThreshold
        let alignment = huge ? Self.hugePage : 64
        let rounded = (bytes + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, alignment, rounded)
        guard rc == 0, let raw else { fatalError("AlignedBuffer: cannot allocate \(bytes) bytes") }
        #if canImport(Glibc)
        // Advice only: where transparent huge pages are off, this fails harmlessly.
        if huge { _ = madvise(raw, rounded, MADV_HUGEPAGE) }
        #endif
        if zeroed { memset(raw, 0, bytes) }
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
        self.count = count
    }

    /// Bytes from which a buffer is backed by huge pages where the system allows.
    static var hugePageThreshold: Int { 8 << 20 }
    static var hugePage: Int { 2 << 20 }

    deinit { free(pointer) }
}
