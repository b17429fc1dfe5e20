#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw memory aligned to 64 bytes (one cache line, one AVX-512 register), owned by the object.
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
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, (bytes + 63) & ~63)
        guard rc == 0, let raw else { fatalError("AlignedBuffer: cannot allocate \(bytes) bytes") }
        if zeroed { memset(raw, 0, bytes) }
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
        self.count = count
    }

    deinit { free(pointer) }
}
