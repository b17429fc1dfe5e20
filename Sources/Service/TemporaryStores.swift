import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The fresh stores of `siamese serve` without `--store`: a folder `siamese-serve-PID-RANDOM`
/// in the temporary folder, removed at shutdown; folders left by killed servers are removed at
/// the next start.
enum TemporaryStores {
    static let prefix = "siamese-serve-"

    /// A new folder name for this process.
    static func make(in directory: URL) -> URL {
        directory.appendingPathComponent("\(prefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// The pid in a temporary store's folder name, when the name is exactly ours.
    static func ownerPID(_ name: String) -> Int32? {
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil else { return nil }
        return pid
    }

    /// Whether a process with this pid exists (EPERM: it exists, owned by someone else).
    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Removes the folders of servers that no longer run. Only folders whose name is exactly
    /// ours, owned by this user, whose process is gone and that hold nothing but a store
    /// (`store.sqlite`, its WAL files and its index) are removed: anything else is left alone.
    static func removeStale(in directory: URL, logger: Logger) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names {
            guard let pid = ownerPID(name), pid != getpid(), !isAlive(pid) else { continue }
            let folder = directory.appendingPathComponent(name)
            var info = stat()
            guard lstat(folder.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(),
                  let files = try? fm.contentsOfDirectory(atPath: folder.path),
                  files.allSatisfy({ $0.hasPrefix("store.sqlite") }) else { continue }
            do {
                try fm.removeItem(at: folder)
                logger.info("removed the temporary store of a server that no longer runs", metadata: ["path": .string(folder.path)])
            } catch {
                logger.warning("cannot remove a stale temporary store", metadata: ["path": .string(folder.path), "error": .string("\(error)")])
            }
        }
    }
}
