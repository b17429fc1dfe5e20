// libFuzzer entry point for the safetensors reader (built by Fuzz/run-safetensors-fuzz.sh).
//
// Every input is opened from memory (an allocation of exactly its size, so AddressSanitizer sees
// any overrun). Rejection must be a thrown SafeTensorsError; acceptance must come with byte ranges
// that tile the data buffer, and every tensor must then read without a trap.
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

private let requireAccept = getenv("SAFETENSORS_FUZZ_REQUIRE_ACCEPT") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let file: SafeTensorsFile
    do {
        file = try SafeTensorsFile(bytes: bytes, label: "fuzz")
    } catch {
        precondition(error.description.hasPrefix("fuzz"), "error without the file name: \(error)")
        // Seed replay sets this: every seed must be accepted (libFuzzer also runs one empty input).
        precondition(!requireAccept || count == 0, "seed rejected: \(error)")
        return 0
    }
    let dataBytes = count - 8 - file.headerLength
    var position = 0
    for info in file.tensorInfos {
        precondition(info.dataOffsets.lowerBound == position && info.dataOffsets.upperBound <= dataBytes,
                     "accepted ranges do not tile the buffer")
        position = info.dataOffsets.upperBound
        do {
            let raw = try file.rawBytes(named: info.name)
            precondition(raw.count == info.dataOffsets.count)
            if info.dtype.convertsToFloat32 {
                let t = try file.tensor(named: info.name)
                precondition(t.count == info.elementCount && t.shape == info.shape)
            }
            if info.dtype.isInteger { _ = try? file.integers(named: info.name) }
        } catch {
            preconditionFailure("accepted file, but reading \(info.name) failed: \(error)")
        }
    }
    precondition(position == dataBytes, "accepted tensors do not cover the buffer")
    return 0
}
