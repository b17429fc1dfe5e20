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
///
/// The one aligned allocation of the package: index storage, packed weights and (through
/// ``ScratchBuffer``) the inference engine's growing work space. The pointer is a `let`, so hot
/// loops read it without exclusivity checks.
public final class AlignedBuffer<Element>: @unchecked Sendable {
    /// The first element.
    public let pointer: UnsafeMutablePointer<Element>
    /// Elements allocated.
    public let count: Int

    /// Allocates `count` elements (at least one, so the pointer is always valid), zero-filled
    /// when `zeroed`. Traps when the system is out of memory, as Swift's own allocations do.
    /// - Parameters:
    ///   - count: Elements to allocate; not negative.
    ///   - zeroed: Whether to fill the memory with zero bytes (false: uninitialised).
    public init(count: Int, zeroed: Bool = true) {
        ensure(count >= 0, "AlignedBuffer: negative count \(count)")
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

    /// A buffer holding a copy of `values`.
    /// - Parameters:
    ///   - values: The elements to copy in.
    public convenience init(_ values: [Element]) {
        self.init(count: values.count, zeroed: false)
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.initialize(from: base, count: values.count) } }
    }

    /// Bytes from which a buffer is backed by huge pages where the system allows.
    public static var hugePageThreshold: Int { 8 << 20 }
    /// The huge page size such buffers are aligned to.
    public static var hugePage: Int { 2 << 20 }

    deinit { free(pointer) }
}

/// A work space that grows on demand (its contents are not kept when it does): an
/// ``AlignedBuffer`` replaced by a larger one, with a quarter of headroom so that a sequence of
/// slightly longer batches does not reallocate every time. One owner at a time.
public final class ScratchBuffer<Element>: @unchecked Sendable {
    private var buffer: AlignedBuffer<Element>

    /// An empty work space (one element, so the pointer is valid).
    /// - Parameters:
    ///   - capacity: Elements to allocate at once.
    public init(capacity: Int = 0) {
        buffer = AlignedBuffer(count: max(capacity, 1), zeroed: false)
    }

    /// The current memory (valid until the next ``reserve(_:)`` that grows it).
    public var pointer: UnsafeMutablePointer<Element> { buffer.pointer }

    /// Elements available without growing.
    public var capacity: Int { buffer.count }

    /// The memory, at least `count` elements long (uninitialised after growing).
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > buffer.count { buffer = AlignedBuffer(count: count + count / 4, zeroed: false) }
        return buffer.pointer
    }
}
