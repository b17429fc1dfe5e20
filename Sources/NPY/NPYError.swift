import Foundation

/// Why a `.npy` file could not be read or written; its description names the file.
public struct NPYError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// The file ends before the part named here is complete.
        case truncated(String)
        /// The first six bytes are not `\x93NUMPY`.
        case badMagic
        /// A format version other than 1.0, 2.0 or 3.0.
        case unsupportedVersion(major: UInt8, minor: UInt8)
        /// The header dictionary is not what NumPy writes; the string says where.
        case malformedHeader(String)
        /// A dtype this reader does not handle (big-endian, unsigned, strings, …).
        case unsupportedDType(String)
        /// Fortran-ordered data; save with `np.ascontiguousarray` first.
        case fortranOrder
        /// Shapes other than 1-D and 2-D with non-negative dimensions.
        case unsupportedShape([Int])
        /// The shape's element count does not fit in memory addressing.
        case shapeOverflow([Int])
        /// The bytes after the header are not exactly `elements × itemsize`.
        case dataSizeMismatch(expectedBytes: Int, actualBytes: Int)
        /// The shape given does not match the number of elements.
        case elementCountMismatch(shape: [Int], count: Int)
        /// The data has a different dtype from the one the caller needs.
        case wrongDType(expected: String, found: String)
        /// An operating-system error while reading or writing.
        case io(String)
    }

    /// What went wrong.
    public let reason: Reason
    /// The file concerned, when there is one.
    public var file: String?

    /// Creates an error.
    /// - Parameters:
    ///   - reason: What went wrong.
    ///   - file: The file concerned, or nil for in-memory data.
    public init(_ reason: Reason, file: String?) {
        self.reason = reason
        self.file = file
    }

    /// One line naming the file (when known) and what to do about the problem.
    public var description: String {
        let prefix = file.map { "\($0): " } ?? ""
        switch reason {
        case .truncated(let what): return prefix + "truncated .npy file: it ends inside the \(what)"
        case .badMagic: return prefix + "not a .npy file (the magic string \\x93NUMPY is missing)"
        case .unsupportedVersion(let major, let minor): return prefix + "unsupported .npy format version \(major).\(minor) (1.0, 2.0 and 3.0 are read)"
        case .malformedHeader(let why): return prefix + "malformed .npy header: \(why)"
        case .unsupportedDType(let d): return prefix + "unsupported dtype '\(d)' (little-endian <f4, <f8, <i8 and <i4 are read)"
        case .fortranOrder: return prefix + "Fortran-ordered arrays are not supported; save with np.ascontiguousarray(a)"
        case .unsupportedShape(let s): return prefix + "unsupported shape \(s): only 1-D and 2-D arrays with non-negative dimensions are handled"
        case .shapeOverflow(let s): return prefix + "shape \(s) has too many elements"
        case .dataSizeMismatch(let expected, let actual): return prefix + "the header promises \(expected) bytes of data but the file holds \(actual)"
        case .elementCountMismatch(let shape, let count): return prefix + "shape \(shape) does not match \(count) elements"
        case .wrongDType(let expected, let found): return prefix + "expected \(expected) data, found dtype '\(found)'"
        case .io(let message): return prefix + message
        }
    }

    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
