import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call of a durable write failed: which file, which call, and why.
public struct DurableWriteError: Error, CustomStringConvertible, Sendable {
    /// The file the caller asked for (not the hidden temporary file beside it).
    public let path: String
    /// The system call that failed (`open`, `write`, `fsync`, `rename`, …).
    public let call: String
    /// The `errno` value it left (0 for a write cut short by a test's ``DurableFileWriter/Interruption``).
    public let code: Int32

    /// Creates an error.
    /// - Parameters:
    ///   - path: The destination file.
    ///   - call: The system call that failed.
    ///   - code: Its `errno` (0: interrupted by a test hook).
    public init(path: String, call: String, code: Int32) {
        self.path = path
        self.call = call
        self.code = code
    }

    /// The system's words for ``code`` (`strerror`), without the call or the path.
    public var systemMessage: String { code == 0 ? "interrupted by a test" : String(cString: strerror(code)) }
    /// What failed, without the path (for messages that name the file already).
    public var reason: String { "\(call) failed: \(systemMessage)" }
    /// `"PATH: CALL failed: STRERROR"`.
    public var description: String { "\(path): \(reason)" }
}

/// The package's one durable file writer: bytes stream to a hidden temporary file in the
/// destination's folder (`.NAME.tmp-PID-RANDOM`); ``commit()`` `fsync`s it, renames it over the
/// destination and syncs the folder, so that readers and a crash at any point see the old file
/// or the complete new one, never a part. Without `commit()` the temporary file is removed.
/// Large files are written straight from memory in chunks, never assembled in one buffer.
/// Temporary files that a killed writer left beside the destination (their process is gone) are
/// removed when the next writer of that file starts.
public final class DurableFileWriter {
    /// Test hook: how a write is cut short.
    public enum Interruption: Sendable {
        /// Fail (as a full disk would) once this many bytes are written; the temporary file is removed.
        case failAfter(bytes: Int)
        /// Stop dead after this many bytes, as a killed process would: no cleanup, no rename
        /// (``write(_:)-swift.method`` reports it as a failed `write`; the temporary file stays).
        case abandonAfter(bytes: Int)
    }

    /// The destination.
    public let path: String
    private let temporary: String
    private var fd: Int32
    private var finished = false
    private let interruption: Interruption?
    private var written = 0

    /// Opens the temporary file beside `path`.
    /// - Parameters:
    ///   - path: The destination; its folder must exist.
    ///   - interruption: Test hook (nil in real use).
    public init(path: String, interruption: Interruption? = nil) throws(DurableWriteError) {
        self.path = path
        self.interruption = interruption
        let (directory, name) = Self.split(path)
        Self.removeStaleTemporaries(directory: directory, name: name)
        temporary = directory + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableWriteError(path: path, call: "open", code: errno) }
    }

    deinit {
        if !finished {
            if fd >= 0 { close(fd) }
            unlink(temporary)
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(DurableWriteError) {
        var offset = 0
        while offset < bytes.count {
            var chunk = min(bytes.count - offset, 8 << 20)
            switch interruption {
            case .failAfter(let limit)?, .abandonAfter(let limit)?:
                chunk = min(chunk, limit - written)
                if chunk <= 0 {
                    if case .abandonAfter? = interruption {
                        // As a killed process: the descriptor closes, the temporary file stays.
                        close(fd)
                        fd = -1
                        finished = true
                    }
                    throw DurableWriteError(path: path, call: "write", code: 0)
                }
            case nil: break
            }
            let n = systemWrite(fd, bytes.baseAddress! + offset, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw DurableWriteError(path: path, call: "write", code: errno)
            }
            offset += n
            written += n
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(DurableWriteError) {
        // withUnsafeBytes rethrows as `any Error`; the closure's error is kept and thrown typed.
        var failure: DurableWriteError?
        bytes.withUnsafeBytes { raw in
            do throws(DurableWriteError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends `count` zero bytes.
    public func writeZeros(_ count: Int) throws(DurableWriteError) {
        if count > 0 { try write([UInt8](repeating: 0, count: count)) }
    }

    /// Makes the new file durable and puts it in place of the destination.
    public func commit() throws(DurableWriteError) {
        guard fsync(fd) == 0 else { throw DurableWriteError(path: path, call: "fsync", code: errno) }
        let rc = close(fd)
        fd = -1
        guard rc == 0 else { throw DurableWriteError(path: path, call: "close", code: errno) }
        guard rename(temporary, path) == 0 else { throw DurableWriteError(path: path, call: "rename", code: errno) }
        finished = true
        Self.syncDirectory(Self.split(path).directory)
    }

    /// Best effort: some file systems refuse `fsync` on a folder, and the data is safe already.
    public static func syncDirectory(_ directory: String) {
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Removes `.NAME.tmp-PID-…` files that a killed writer left in `directory`: only those
    /// whose process is gone (a live writer's file is its work in progress).
    public static func removeStaleTemporaries(directory: String, name: String) {
        let prefix = ".\(name).tmp-"
        guard let dir = opendir(directory) else { return }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard entryName.hasPrefix(prefix),
                  let pid = entryName.dropFirst(prefix.count).split(separator: "-").first.flatMap({ Int32($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { stale.append(entryName) }
        }
        closedir(dir)
        for entryName in stale { unlink(directory + "/" + entryName) }
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

/// Whole files written durably in one call (see ``DurableFileWriter``): a crash or power loss
/// leaves either the old file or the new one.
public enum AtomicFile {
    /// A failed system call (kept under this name for the callers that catch it).
    public typealias WriteError = DurableWriteError

    /// Atomically replaces (or creates) the file at `url` with `data`.
    public static func write(_ data: Data, to url: URL) throws(DurableWriteError) {
        try write(data, to: url.path)
    }

    /// Atomically replaces (or creates) the file at `path` with `data`.
    public static func write(_ data: Data, to path: String) throws(DurableWriteError) {
        let writer = try DurableFileWriter(path: path)
        // withUnsafeBytes rethrows as `any Error`; the closure's error is kept and thrown typed.
        var failure: DurableWriteError?
        data.withUnsafeBytes { raw in
            do throws(DurableWriteError) { try writer.write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        try writer.commit()
    }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
