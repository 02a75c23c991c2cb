#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread read-write lock that prefers writers (on Glibc), used to exclude transactions
/// while the map is resized.
///
/// Not recursive: a thread holding it shared must not take it again while a writer may be waiting.
final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    /// Creates an unlocked lock.
    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        let rc = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Acquires the lock shared (many holders at once).
    func lockShared() {
        let rc = pthread_rwlock_rdlock(lock)
        precondition(rc == 0, "pthread_rwlock_rdlock failed: \(rc)")
    }

    /// Acquires the lock exclusively (no other holder).
    func lockExclusive() {
        let rc = pthread_rwlock_wrlock(lock)
        precondition(rc == 0, "pthread_rwlock_wrlock failed: \(rc)")
    }

    /// Releases a shared or exclusive hold.
    func unlock() {
        pthread_rwlock_unlock(lock)
    }

    /// Runs `body` while holding the lock shared.
    ///
    /// - Parameter body: The work to do.
    /// - Returns: `body`'s result.
    /// - Throws: Whatever `body` throws.
    func withShared<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lockShared()
        defer { unlock() }
        return try body()
    }

    /// Runs `body` while holding the lock exclusively.
    ///
    /// - Parameter body: The work to do.
    /// - Returns: `body`'s result.
    /// - Throws: Whatever `body` throws.
    func withExclusive<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lockExclusive()
        defer { unlock() }
        return try body()
    }
}
