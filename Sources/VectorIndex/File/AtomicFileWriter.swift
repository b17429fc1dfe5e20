#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a file to a temporary name in the destination's directory and, on ``commit()``,
/// flushes it (`fsync`), renames it over the destination and syncs the directory: readers see
/// the old file or the complete new one, and a crash at any point leaves no partial file under
/// the real name. Without `commit()` the temporary file is removed.
///
/// Large indexes are written straight from memory in chunks, never assembled in one buffer.
final class AtomicFileWriter {
    let path: String
    private let temporary: String
    private var fd: Int32
    private var committed = false

    /// Test hook: a write fails once this many bytes are written (a full disk, a crash).
    private let failAfterBytes: Int?
    private var written = 0

    init(path: String, failAfterBytes: Int? = nil) throws(IndexFileError) {
        self.path = path
        self.failAfterBytes = failAfterBytes
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        Self.removeStaleTemporaries(directory: directory.isEmpty ? "/" : directory, name: name)
        temporary = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IndexFileError(.io("cannot create a temporary file next to it: \(String(cString: strerror(errno)))"), file: path) }
    }

    /// Removes `.NAME.tmp-PID-…` files that a killed writer left beside the file: only those
    /// whose process is gone (a live writer's file is its work in progress).
    static func removeStaleTemporaries(directory: String, name: String) {
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

    deinit {
        if !committed {
            if fd >= 0 { close(fd) }
            unlink(temporary)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(IndexFileError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 8 << 20)
            if let limit = failAfterBytes, written + chunk > limit {
                throw IndexFileError(.io("write failed: simulated failure"), file: path)
            }
            let n = systemWrite(fd, bytes.baseAddress! + offset, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw IndexFileError(.io("write failed: \(String(cString: strerror(errno)))"), file: path)
            }
            offset += n
            written += n
        }
    }

    func write(_ bytes: [UInt8]) throws(IndexFileError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try write(UnsafeRawBufferPointer(copy))
    }

    func writeZeros(_ count: Int) throws(IndexFileError) {
        if count > 0 { try write([UInt8](repeating: 0, count: count)) }
    }

    /// Makes the new file durable and puts it in place.
    func commit() throws(IndexFileError) {
        guard fsync(fd) == 0 else { throw IndexFileError(.io("fsync failed: \(String(cString: strerror(errno)))"), file: path) }
        let rc = close(fd)
        fd = -1
        guard rc == 0 else { throw IndexFileError(.io("close failed: \(String(cString: strerror(errno)))"), file: path) }
        guard rename(temporary, path) == 0 else { throw IndexFileError(.io("rename failed: \(String(cString: strerror(errno)))"), file: path) }
        committed = true
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let dfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            // Best effort: some file systems refuse fsync on directories; the data is already safe.
            _ = fsync(dfd)
            close(dfd)
        }
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
