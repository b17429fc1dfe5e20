/// Carries a value (typically a raw pointer) into a `@Sendable` closure of a parallel loop.
///
/// `@unchecked Sendable`: used only where the loop's tasks touch disjoint parts of the memory
/// behind the pointer, or only read it, and the loop returns before the memory goes away —
/// each use site says which.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `Array.withUnsafeBytes` for bodies with typed throws (the standard one rethrows untyped).
@inline(__always)
func withBytes<T, R, E: Error>(of array: [T], _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeBytes { b in Result { () throws(E) -> R in try body(b) } }
    return try result.get()
}
