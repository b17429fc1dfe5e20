#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers-writer lock that lets a waiting writer in ahead of new readers.
///
/// Built on a mutex and two condition variables rather than `pthread_rwlock_t` because glibc's
/// default rwlock prefers readers: a steady stream of searches would starve an index that needs
/// the exclusive lock to grow. Not recursive.
///
/// `@unchecked Sendable`: all state is guarded by `mutex`.
final class ReadWriteLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let readable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let writable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var readers = 0
    private var writing = false
    private var waitingWriters = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(readable, nil)
        pthread_cond_init(writable, nil)
    }

    deinit {
        pthread_cond_destroy(writable)
        pthread_cond_destroy(readable)
        pthread_mutex_destroy(mutex)
        writable.deallocate()
        readable.deallocate()
        mutex.deallocate()
    }

    func lockShared() {
        pthread_mutex_lock(mutex)
        while writing || waitingWriters > 0 { pthread_cond_wait(readable, mutex) }
        readers += 1
        pthread_mutex_unlock(mutex)
    }

    func unlockShared() {
        pthread_mutex_lock(mutex)
        readers -= 1
        if readers == 0, waitingWriters > 0 { pthread_cond_signal(writable) }
        pthread_mutex_unlock(mutex)
    }

    func lockExclusive() {
        pthread_mutex_lock(mutex)
        waitingWriters += 1
        while writing || readers > 0 { pthread_cond_wait(writable, mutex) }
        waitingWriters -= 1
        writing = true
        pthread_mutex_unlock(mutex)
    }

    func unlockExclusive() {
        pthread_mutex_lock(mutex)
        writing = false
        if waitingWriters > 0 { pthread_cond_signal(writable) } else { pthread_cond_broadcast(readable) }
        pthread_mutex_unlock(mutex)
    }

    @inline(__always)
    func withShared<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockShared()
        defer { unlockShared() }
        return try body()
    }

    @inline(__always)
    func withExclusive<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockExclusive()
        defer { unlockExclusive() }
        return try body()
    }
}

/// A plain mutex for short critical sections. `@unchecked Sendable`: the pthread mutex is the guard.
final class PlainLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Reusable scratch objects for parallel loops: a task takes one, uses it, and gives it back, so
/// at most as many exist as tasks ever ran at once (the thread count), whatever the task count.
///
/// `@unchecked Sendable`: the free list is guarded by `lock`; an object is used by one task at a time.
final class ScratchPool<Scratch: AnyObject>: @unchecked Sendable {
    private let lock = PlainLock()
    private var free: [Scratch] = []
    private(set) var all: [Scratch] = []
    private let make: () -> Scratch

    init(_ make: @escaping () -> Scratch) { self.make = make }

    func take() -> Scratch {
        if let s = lock.withLock({ free.popLast() }) { return s }
        let s = make()
        lock.withLock { all.append(s) }
        return s
    }

    func give(_ s: Scratch) { lock.withLock { free.append(s) } }

    @inline(__always)
    func with<T>(_ body: (Scratch) -> T) -> T {
        let s = take()
        defer { give(s) }
        return body(s)
    }
}
