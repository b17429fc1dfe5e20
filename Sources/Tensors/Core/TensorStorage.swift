/// A 64-byte-aligned buffer of elements, shared between tensors until one of them writes (copy-on-write).
///
/// Alignment to a cache line lets the kernels use aligned vector loads and keeps two tensors from
/// sharing a line when threads write them.
final class TensorStorage: @unchecked Sendable {
    let dtype: DType
    let count: Int
    let raw: UnsafeMutableRawPointer

    static let alignment = 64

    /// Allocates uninitialised storage; callers must write every element before reading.
    init(dtype: DType = .float32, count: Int) {
        ensure(count >= 0, "TensorStorage: negative element count \(count)")
        self.dtype = dtype
        self.count = count
        let bytes = max(count * dtype.byteSize, Self.alignment)
        raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
    }

    /// Allocates Float32 storage filled with `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(dtype: .float32, count: count)
        floats.initialize(repeating: value, count: count)
    }

    deinit { raw.deallocate() }

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
