#if canImport(Glibc)
import Glibc
#endif
import Tensors

/// What the service does so that the memory it frees goes back to the system (its resident size
/// is a number operators watch, and the issue asks under 200 MB with 1 M items in PostgreSQL).
///
/// glibc's `mallopt` and `malloc_trim` are not in Swift's Glibc module (malloc.h is not part of
/// it): they are looked up by name, and skipped where absent (another C library).
enum ResidentMemory {
    /// Keeps glibc's mmap threshold fixed at 1 MiB. By default glibc raises it after each large
    /// free (up to 32 MiB), so that after the model's loading frees its first big buffers, the
    /// packed weight matrices (2–9 MB each) and every batch's workspace come from malloc arenas,
    /// which keep freed memory resident: measured 65 MB arenas, RSS 281 MB serving all-MiniLM-L6-v2.
    static func holdLessAfterFrees() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let f = symbol("mallopt", as: Mallopt.self) else { return }
        _ = f(-3 /* M_MMAP_THRESHOLD */, 1 << 20)
    }

    /// Frees the tensor buffers kept for reuse (``StoragePool``: a model's loading leaves its
    /// initial values and the trainable copy of its weights there, 97 MB for all-MiniLM-L6-v2,
    /// which made the service's resident size 281 MB), then returns freed memory at the tops and
    /// in the middle of the arenas to the system.
    static func returnFreedMemory() {
        StoragePool.drain()
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let f = symbol("malloc_trim", as: MallocTrim.self) else { return }
        _ = f(0)
    }

    private static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(p, to: type)
        #else
        return nil
        #endif
    }
}
