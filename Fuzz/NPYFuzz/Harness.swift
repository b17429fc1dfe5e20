// libFuzzer entry point for the .npy reader (built by Fuzz/run-libfuzzer.sh npy).
//
// Rejection must be a thrown NPYError; an accepted array must have a 1-D or 2-D shape whose
// element count is the stored count and is backed by the file's bytes, and must re-encode to a
// file that reads back the same.
import Foundation
import NPY

@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let array = try? NPY.decode(data) else { return 0 }
    var elements = 1
    for d in array.shape {
        require(d >= 0, "negative dimension accepted: \(array.shape)")
        let (p, o) = elements.multipliedReportingOverflow(by: d)
        require(!o, "overflowing shape accepted: \(array.shape)")
        elements = p
    }
    require(elements == array.storage.count && elements <= count / 4, "shape \(array.shape) for \(array.storage.count) elements in \(count) bytes")
    _ = try? array.float32Matrix()
    _ = try? array.int64Values()
    let back = try? NPY.decode(NPY.encode(array))
    require(back.map(NPY.encode) == NPY.encode(array), "re-encoding changed the array")
    return 0
}

/// `precondition` whose message survives -O (libFuzzer shows it above the stack).
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
