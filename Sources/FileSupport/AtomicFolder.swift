import Core
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a whole folder (a model: weights, configuration, calibration) so that a kill at any
/// moment leaves either the old folder or the new one complete under its name — never a mix of
/// the two, which renaming the files one after the other would leave.
///
/// The new folder is written under a staging name beside the old one, every file in it is synced,
/// and it is renamed to `.NAME.new` once complete. Then `NAME` is renamed to `.NAME.old`,
/// `.NAME.new` to `NAME`, and `.NAME.old` is removed. A kill between the two renames leaves no
/// `NAME` but a complete `.NAME.new` (or `.NAME.old`): ``recover(_:)``, called by every loader,
/// puts it back (and removes a `.NAME.old` that a kill after the swap left beside `NAME`). Entries of the old folder that the new one does not write (checkpoints) are
/// carried over as hard links, so the old folder stays intact until the swap.
public enum AtomicFolder {
    /// Test hook: stop a replacement at a point, as a kill there would (no cleanup).
    public enum Interruption: Sendable, CaseIterable {
        /// While staging: the staging folder holds only part of the new files.
        case whileStaging
        /// The new folder is complete as `.NAME.new`; the old one is still in place.
        case afterStaging
        /// The old folder is moved aside to `.NAME.old`; nothing is named `NAME`.
        case afterMovingOldAside
        /// The new folder is in place; `.NAME.old` is not yet removed.
        case afterSwap
    }

    /// Thrown by an ``Interruption`` test hook (the process would have died there).
    public struct Interrupted: Error, Sendable {}

    /// Replaces (or creates) the folder at `folder` with what `write` puts into the staging folder
    /// it is given. Entries of the existing folder for which `carry` returns true and that `write`
    /// did not create are carried into the new folder.
    public static func replace(_ folder: URL, carry: (String) -> Bool = { _ in false },
                               interruption: Interruption? = nil, write: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        recover(folder)
        removeLeftovers(folder)
        let name = folder.lastPathComponent
        let staging = parent.appendingPathComponent(".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let new = newURL(folder), old = oldURL(folder)
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            try write(staging)
            if interruption == .whileStaging { throw Interrupted() }
            if exists(folder) {
                for entry in try fm.contentsOfDirectory(atPath: folder.path) where carry(entry) {
                    let target = staging.appendingPathComponent(entry)
                    if !exists(target) { try linkTree(folder.appendingPathComponent(entry), to: target) }
                }
            }
            try syncTree(staging)
            try move(staging, to: new)
        } catch {
            if !(error is Interrupted) { try? fm.removeItem(at: staging) }
            throw error
        }
        syncDirectory(parent)
        if interruption == .afterStaging { throw Interrupted() }
        let hadOld = exists(folder)
        if hadOld { try move(folder, to: old) }
        if interruption == .afterMovingOldAside { throw Interrupted() }
        try move(new, to: folder)
        syncDirectory(parent)
        if interruption == .afterSwap { throw Interrupted() }
        if hadOld { try? fm.removeItem(at: old) }
    }

    /// Finishes or undoes a replacement that a kill interrupted: when nothing is named `folder`,
    /// the complete new folder (or else the old one) is put back under its name. Cheap when there
    /// is nothing to do (one `stat`), so loaders call it every time. Best effort: where the rename
    /// is refused (a read-only parent) the folder stays missing and the loader says so.
    public static func recover(_ folder: URL) {
        removeDeadStaging(folder)
        guard !exists(folder) else {
            // A kill after the swap left the replaced folder beside the new one. Safe to remove
            // whenever `folder` exists: a writer only moves `.NAME.old` back while nothing is
            // named `folder`.
            if exists(oldURL(folder)) { try? FileManager.default.removeItem(at: oldURL(folder)) }
            return
        }
        for candidate in [newURL(folder), oldURL(folder)] where exists(candidate) {
            guard (try? move(candidate, to: folder)) != nil else { return }
            syncDirectory(folder.deletingLastPathComponent())
            return
        }
    }

    /// Removes the staging folders (`.NAME.tmp-PID-…`) of writers that are no longer running, so
    /// that a kill during a save leaves nothing behind once the folder is next used — read or
    /// written. A live writer's staging folder (its pid answers `kill(pid, 0)`) is left alone.
    static func removeDeadStaging(_ folder: URL) {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        let prefix = ".\(folder.lastPathComponent).tmp-"
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? fm.removeItem(at: parent.appendingPathComponent(entry)) }
        }
    }

    /// Removes what interrupted replacements of `folder` left beside it (staging folders, an old
    /// folder already replaced, a new one that never replaced it). Only called by a writer, which
    /// is about to write the folder anyway.
    static func removeLeftovers(_ folder: URL) {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        let stagingPrefix = ".\(folder.lastPathComponent).tmp-"
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(stagingPrefix) {
            try? fm.removeItem(at: parent.appendingPathComponent(entry))
        }
        if exists(folder) {
            try? fm.removeItem(at: newURL(folder))
            try? fm.removeItem(at: oldURL(folder))
        }
    }

    static func newURL(_ folder: URL) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).new")
    }

    static func oldURL(_ folder: URL) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).old")
    }

    private static func exists(_ url: URL) -> Bool {
        var st = stat()
        return lstat(url.path, &st) == 0
    }

    private static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else {
            throw AtomicFile.WriteError(path: to.path, call: "rename", code: errno)
        }
    }

    /// Hard-links every file under `source` into `target` (copies where links are refused).
    private static func linkTree(_ source: URL, to target: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: source.path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            try fm.createDirectory(at: target, withIntermediateDirectories: false)
            for entry in try fm.contentsOfDirectory(atPath: source.path) {
                try linkTree(source.appendingPathComponent(entry), to: target.appendingPathComponent(entry))
            }
        } else if link(source.path, target.path) != 0 {
            try fm.copyItem(at: source, to: target)
        }
    }

    /// `fsync` on every file and folder under `url`, so the renamed folder holds durable data.
    private static func syncTree(_ url: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            for entry in try fm.contentsOfDirectory(atPath: url.path) { try syncTree(url.appendingPathComponent(entry)) }
            syncDirectory(url)
        } else {
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw AtomicFile.WriteError(path: url.path, call: "open", code: errno) }
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw AtomicFile.WriteError(path: url.path, call: "fsync", code: errno) }
        }
    }

    private static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            // Best effort: some file systems refuse fsync on directories.
            _ = fsync(fd)
            close(fd)
        }
    }
}
