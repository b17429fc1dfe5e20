import Core
import Synchronization

/// A 64-byte-aligned buffer of elements, shared between tensors until one of them writes (copy-on-write).
///
/// Alignment to a cache line lets the kernels use aligned vector loads and keeps two tensors from
/// sharing a line when threads write them.
///
/// Buffers of 64 KB and more come from ``StoragePool``: a training step frees and allocates the same
/// large sizes every step, and taking them fresh from the system each time costs a page fault per
/// 4 KB page on first touch (measured on the digits CNN: about 10% of a step).
final class TensorStorage: @unchecked Sendable {
    let dtype: DType
    let count: Int
    let raw: UnsafeMutableRawPointer
    /// The pool size class of the buffer, or 0 when it came from (and goes back to) the allocator.
    private let pooledBytes: Int

    static let alignment = 64

    /// Allocates uninitialised storage; callers must write every element before reading.
    init(dtype: DType = .float32, count: Int) {
        ensure(count >= 0, "TensorStorage: negative element count \(count)")
        self.dtype = dtype
        self.count = count
        let bytes = max(count * dtype.byteSize, Self.alignment)
        if let size = StoragePool.sizeClass(bytes) {
            pooledBytes = size
            raw = StoragePool.take(size) ?? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
        } else {
            pooledBytes = 0
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        }
    }

    /// Allocates Float32 storage filled with `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(dtype: .float32, count: count)
        floats.initialize(repeating: value, count: count)
    }

    deinit {
        if pooledBytes == 0 || !StoragePool.give(raw, pooledBytes) { raw.deallocate() }
    }

    /// The elements as Float32. Only valid for `.float32` storage.
    var floats: UnsafeMutablePointer<Float> {
        ensure(dtype == .float32, "TensorStorage: \(dtype) storage read as float32; convert it first")
        return raw.assumingMemoryBound(to: Float.self)
    }

    func copy() -> TensorStorage {
        let other = TensorStorage(dtype: dtype, count: count)
        other.raw.copyMemory(from: raw, byteCount: count * dtype.byteSize)
        return other
    }
}

/// Freed large tensor buffers kept for reuse, by size class (the byte count rounded up to 4 KB).
///
/// Thread-safe (one mutex; a hand-out or a return is a dictionary lookup, well under a microsecond,
/// against the tens of microseconds of page faults it saves). Bounded: at most ``maxPerSize`` buffers
/// of a size and ``maxBytes`` in all are kept; anything beyond goes back to the system allocator.
public enum StoragePool {
    /// Buffers smaller than this come from the allocator's own free lists, which do not fault.
    static let minimumBytes = 1 << 16
    /// The most bytes kept in the pool.
    static let maxBytes = 128 << 20
    /// The most buffers of one size class kept.
    static let maxPerSize = 16

    private struct State {
        /// Free buffers (as bit patterns) by size class.
        var free: [Int: [UInt]] = [:]
        var bytes = 0
    }

    private static let state = Mutex(State())

    /// The size class of a request of `bytes`, or nil when it is too small to pool.
    static func sizeClass(_ bytes: Int) -> Int? {
        bytes >= minimumBytes ? (bytes + 4095) & ~4095 : nil
    }

    /// A free buffer of exactly `size` bytes (a size class), if the pool has one.
    static func take(_ size: Int) -> UnsafeMutableRawPointer? {
        let bits: UInt? = state.withLock { s in
            guard let p = s.free[size]?.popLast() else { return nil }
            s.bytes -= size
            return p
        }
        return bits.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps `pointer` (a buffer of `size` bytes, allocated with ``TensorStorage/alignment``) for
    /// reuse; false when the pool is full and the caller must free it.
    static func give(_ pointer: UnsafeMutableRawPointer, _ size: Int) -> Bool {
        let bits = UInt(bitPattern: pointer)
        return state.withLock { s in
            guard s.bytes + size <= maxBytes, s.free[size, default: []].count < maxPerSize else { return false }
            s.free[size, default: []].append(bits)
            s.bytes += size
            return true
        }
    }

    /// Frees every kept buffer (tests; a long-lived process after a large job, or after loading a
    /// model it will only run: the service, where loading's freed buffers would stay otherwise).
    public static func drain() {
        let all: [UInt] = state.withLock { s in
            defer { s.free = [:]; s.bytes = 0 }
            return s.free.values.flatMap { $0 }
        }
        for bits in all { UnsafeMutableRawPointer(bitPattern: bits)?.deallocate() }
    }

    /// Bytes currently kept.
    public static var keptBytes: Int { state.withLock { $0.bytes } }
}
