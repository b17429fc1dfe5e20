import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole files so that a crash or power loss leaves either the old file or the new one.
///
/// The bytes go to a temporary file in the same directory, are flushed with `fsync`, and the
/// temporary file is renamed over the destination; the directory is then synced so the rename
/// itself is durable. Shared by everything that saves model-side files (arrays, calibration).
public enum AtomicFile {
    /// An operating-system call failed; `call` names it and `errno` says why.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        /// The file the caller asked for (not the hidden temporary file beside it).
        public let path: String
        /// The system call that failed (`open`, `write`, `fsync`, `rename`, …).
        public let call: String
        /// The `errno` value it left.
        public let code: Int32
        /// What failed, without the path (for messages that name the file already).
        public var reason: String { "\(call) failed: \(String(cString: strerror(code)))" }
        /// `"PATH: CALL failed: STRERROR"`.
        public var description: String { "\(path): \(reason)" }
    }

    /// Atomically replaces (or creates) the file at `url` with `data`.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, call: "open", code: errno) }
        var committed = false
        defer {
            if !committed { unlink(temporary) }
        }
        do {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc_write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw WriteError(path: path, call: "write", code: errno)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw WriteError(path: path, call: "fsync", code: errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw WriteError(path: path, call: "close", code: errno) }
        guard rename(temporary, path) == 0 else { throw WriteError(path: path, call: "rename", code: errno) }
        committed = true
        let dirFD = open(directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            // Best effort: some file systems refuse fsync on directories, and the data is already safe.
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
