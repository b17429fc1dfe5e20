#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped into memory, private and writable (copy-on-write): an index loaded from
/// it can be changed in memory without touching the file, and pages are read on demand.
///
/// Our own saves replace files by renaming, which leaves existing mappings intact; truncating
/// a mapped file in place from elsewhere would make reads past the new end fault (SIGBUS), as with
/// any memory-mapped reader.
///
/// `@unchecked Sendable`: the mapping is created once and unmapped in `deinit`; the indexes that
/// point into it define how it is accessed.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int
    private let mapped: Bool

    init(path: String) throws(IndexFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IndexFileError(.io("cannot open: \(String(cString: strerror(errno)))"), file: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw IndexFileError(.io("cannot stat: \(String(cString: strerror(errno)))"), file: path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw IndexFileError(.io("not a regular file"), file: path) }
        count = Int(st.st_size)
        if count == 0 {
            // mmap refuses empty files; an empty buffer keeps the loader's checks uniform.
            base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
            mapped = false
            return
        }
        let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw IndexFileError(.io("cannot map: \(String(cString: strerror(errno)))"), file: path) }
        base = p
        mapped = true
    }

    deinit {
        if mapped { munmap(base, count) } else { base.deallocate() }
    }
}
