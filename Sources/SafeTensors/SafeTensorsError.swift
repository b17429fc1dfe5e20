import Foundation

/// Why a safetensors file could not be opened, read or written.
///
/// Every case names the file (its path, or the label given for in-memory bytes) and, where one is
/// concerned, the tensor; ``description`` turns that into one line a person can act on.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// An operating-system call failed (`open`, `fstat`, `mmap`, `write`, `fsync`, `rename`, …).
    case io(file: String, operation: String, message: String)
    /// The path is not a regular file (a directory, a FIFO, a device).
    case notARegularFile(file: String)
    /// The file is shorter than the 8-byte header length.
    case fileTooSmall(file: String, size: Int)
    /// The header length exceeds ``SafeTensorsFile/maxHeaderLength`` (100,000,000 bytes, as in the reference).
    case headerTooLarge(file: String, length: UInt64)
    /// The header length points past the end of the file (a truncated file, or a wrong length).
    case headerPastEnd(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not valid UTF-8, not valid JSON, or not shaped as a safetensors header;
    /// `byteOffset` is counted from the start of the JSON text.
    case invalidHeader(file: String, byteOffset: Int, reason: String)
    /// `__metadata__` is not an object of strings to strings.
    case invalidMetadata(file: String, key: String?, reason: String)
    /// Two tensors have the same name (names are compared as Swift strings, so canonically
    /// equivalent spellings count as the same name).
    case duplicateName(file: String, tensor: String)
    /// A tensor's entry is missing a field, has an unknown one, or a field of the wrong type.
    case invalidTensorEntry(file: String, tensor: String, reason: String)
    /// A dtype the format does not define.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A dimension is negative, not an integer, or the element count overflows.
    case invalidShape(file: String, tensor: String, reason: String)
    /// The data offsets are reversed, overlap another tensor, leave a gap, or are not integers.
    case invalidOffsets(file: String, tensor: String, reason: String)
    /// The byte span in `data_offsets` differs from the shape's element count times the dtype size.
    case sizeMismatch(file: String, tensor: String, dtype: SafeTensorsDType, shape: [Int], expectedBytes: Int?, actualBytes: Int)
    /// The tensors do not cover the whole data buffer (bytes left over at the end, or missing).
    case incompleteBuffer(file: String, coveredBytes: Int, bufferBytes: Int)
    /// No tensor of that name in the file.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype cannot be converted to what was asked for.
    case unsupportedConversion(file: String, tensor: String, dtype: SafeTensorsDType, target: String)
    /// The tensor has a different shape from the one the caller requires.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// A value cannot be represented in the requested type (a `U64` above `Int64.max`).
    case valueOutOfRange(file: String, tensor: String, index: Int, reason: String)
    /// A tensor given to the writer cannot be written (duplicate or reserved name, unsupported
    /// dtype, byte count not matching the shape).
    case invalidWrite(file: String?, tensor: String, reason: String)

    /// One line naming the file, the tensor where one is concerned, and what is wrong.
    public var description: String {
        switch self {
        case .io(let file, let operation, let message):
            return "\(file): \(operation) failed: \(message)"
        case .notARegularFile(let file):
            return "\(file): not a regular file"
        case .fileTooSmall(let file, let size):
            return "\(file): not a safetensors file: \(size) bytes, fewer than the 8-byte header length"
        case .headerTooLarge(let file, let length):
            return "\(file): safetensors header length \(length) exceeds the limit of \(SafeTensorsFile.maxHeaderLength) bytes"
        case .headerPastEnd(let file, let length, let size):
            return "\(file): truncated or corrupt safetensors file: the header length \(length) runs past the end of the \(size)-byte file"
        case .invalidHeader(let file, let offset, let reason):
            return "\(file): invalid safetensors header at byte \(offset) of the JSON: \(reason)"
        case .invalidMetadata(let file, let key, let reason):
            return "\(file): invalid __metadata__\(key.map { " entry \"\($0)\"" } ?? ""): \(reason)"
        case .duplicateName(let file, let tensor):
            return "\(file): tensor \"\(tensor)\" appears more than once in the header"
        case .invalidTensorEntry(let file, let tensor, let reason):
            return "\(file): tensor \"\(tensor)\": invalid header entry: \(reason)"
        case .unknownDType(let file, let tensor, let dtype):
            return "\(file): tensor \"\(tensor)\": unknown dtype \"\(dtype)\""
        case .invalidShape(let file, let tensor, let reason):
            return "\(file): tensor \"\(tensor)\": invalid shape: \(reason)"
        case .invalidOffsets(let file, let tensor, let reason):
            return "\(file): tensor \"\(tensor)\": invalid data_offsets: \(reason)"
        case .sizeMismatch(let file, let tensor, let dtype, let shape, let expected, let actual):
            let need = expected.map { "\($0) bytes" } ?? "a whole number of bytes"
            return "\(file): tensor \"\(tensor)\": \(dtype) \(shape) needs \(need) but data_offsets span \(actual)"
        case .incompleteBuffer(let file, let covered, let buffer):
            return "\(file): the tensors cover \(covered) bytes of data but the file holds \(buffer) after the header"
                + (covered < buffer ? " (trailing bytes)" : " (truncated file)")
        case .tensorNotFound(let file, let tensor):
            return "\(file): no tensor named \"\(tensor)\""
        case .unsupportedConversion(let file, let tensor, let dtype, let target):
            return "\(file): tensor \"\(tensor)\": \(dtype) data cannot be read as \(target)"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor \"\(tensor)\": expected shape \(expected), found \(found)"
        case .valueOutOfRange(let file, let tensor, let index, let reason):
            return "\(file): tensor \"\(tensor)\": element \(index): \(reason)"
        case .invalidWrite(let file, let tensor, let reason):
            return "\(file.map { "\($0): " } ?? "")cannot write tensor \"\(tensor)\": \(reason)"
        }
    }

    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
