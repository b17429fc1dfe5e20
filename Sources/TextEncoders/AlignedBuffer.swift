/// A 64-byte-aligned, uninitialised buffer that can grow (contents are not kept when it does).
final class AlignedBuffer<T>: @unchecked Sendable {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: self.capacity)
    }

    /// A buffer holding a copy of `values`.
    convenience init(_ values: [T]) {
        self.init(capacity: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// The buffer, at least `count` elements long.
    func reserve(_ count: Int) -> UnsafeMutablePointer<T> {
        if count > capacity {
            UnsafeMutableRawPointer(pointer).deallocate()
            capacity = count + count / 4
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64)
                .bindMemory(to: T.self, capacity: capacity)
        }
        return pointer
    }
}
