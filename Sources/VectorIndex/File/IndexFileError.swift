/// Why an index file could not be read or written. Every case names the file.
public struct IndexFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, by kind; the strings give the details (which section, which call).
    public enum Reason: Sendable, Equatable {
        /// The operating system refused (open, read, write, fsync, rename, mmap); the message says which call and why.
        case io(String)
        /// The file does not start with the index magic number: not an index file.
        case notAnIndex
        /// A format version this build cannot read.
        case unsupportedVersion(UInt16)
        /// The file is shorter than its header says (an interrupted copy or download).
        case truncated(String)
        /// A checksum does not match: the bytes were changed after the file was written.
        case checksumMismatch(String)
        /// The structure is inconsistent (sizes, offsets, ids, links out of range): a damaged or crafted file.
        case malformed(String)
        /// The file holds another kind of index than the one asked for.
        case wrongKind(expected: String, found: String)
    }

    /// What went wrong.
    public let reason: Reason
    /// The file concerned, as the caller named it.
    public let file: String

    /// Creates an error.
    /// - Parameters:
    ///   - reason: What went wrong.
    ///   - file: The file concerned.
    public init(_ reason: Reason, file: String) {
        self.reason = reason
        self.file = file
    }

    /// `"FILE: what went wrong"`, one line.
    public var description: String {
        let what: String
        switch reason {
        case .io(let m): what = m
        case .notAnIndex: what = "not a Siamese index file (bad magic number)"
        case .unsupportedVersion(let v): what = "index format version \(v) is not supported (this build reads version \(IndexFileFormat.version))"
        case .truncated(let m): what = "truncated: \(m)"
        case .checksumMismatch(let m): what = "checksum mismatch in \(m): the file is corrupt"
        case .malformed(let m): what = "malformed index: \(m)"
        case .wrongKind(let e, let f): what = "expected a\(e.first.map { "aeiou".contains($0) } == true ? "n" : "") \(e) index, found \(f)"
        }
        return "\(file): \(what)"
    }
}
