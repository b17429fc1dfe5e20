import Foundation

/// Finds a model folder from what a user types after `--model`: a path, or a name such as
/// `all-MiniLM-L6-v2` or `sentence-transformers/all-MiniLM-L6-v2`, looked up offline in
///
/// 1. `$SIAMESE_MODELS/NAME` and `$SIAMESE_MODELS/ORG/NAME` (a folder of model folders);
/// 2. the Hugging Face cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`,
///    in its layout `models--ORG--NAME/snapshots/REV/` (REV from `refs/main` when present, else the
///    most recently modified snapshot). A bare NAME tries the organisation `sentence-transformers`
///    first, then any `models--*--NAME`.
///
/// Nothing is downloaded. When nothing is found the error lists every place looked at and how to
/// fill the cache.
public enum ModelLocator {
    /// The files that make a folder a model folder (any one of them).
    public static let markers = ["modules.json", "siamese.json", "config.json"]

    /// The model folder for `name` (symbolic links to the folder resolved; links inside it, as in
    /// the Hugging Face cache, are followed when files are read).
    /// - Parameters:
    ///   - name: a path, `NAME` or `ORG/NAME`.
    ///   - environment: where `SIAMESE_MODELS`, `HF_HUB_CACHE`, `HF_HOME` and `HOME` are read.
    public static func resolve(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(InputError) -> URL {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: name, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw InputError(file: name, message: "is a file; --model takes a model folder") }
            // Links resolved: a folder enumerated through a link to it would look empty.
            return URL(fileURLWithPath: name).resolvingSymlinksInPath()
        }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // Only NAME or ORG/NAME are names; anything else that does not exist is a missing path.
        let isName = !name.isEmpty && !name.hasPrefix(".") && !name.hasPrefix("~") && parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0 != ".." }
        var looked: [String] = []
        if isName {
            if let root = environment["SIAMESE_MODELS"], !root.isEmpty {
                let candidates = parts.count == 2 ? [root + "/" + name, root + "/" + parts[1]] : [root + "/" + name]
                for c in candidates {
                    looked.append(c)
                    if isModelFolder(c) { return URL(fileURLWithPath: c).resolvingSymlinksInPath() }
                }
            } else {
                looked.append("$SIAMESE_MODELS (not set)")
            }
            let hub = hubCache(environment)
            let organisations = parts.count == 2 ? [parts[0]] : ["sentence-transformers"]
            let model = parts.last!
            for org in organisations {
                let repo = hub + "/models--\(org)--\(model)"
                looked.append(repo + "/snapshots/")
                if let found = snapshot(repo) { return found }
            }
            if parts.count == 1, let entries = try? fm.contentsOfDirectory(atPath: hub) {
                for entry in entries.sorted() where entry.hasPrefix("models--") && entry.hasSuffix("--\(model)") {
                    if let found = snapshot(hub + "/" + entry) { return found }
                }
                looked.append(hub + "/models--*--\(model)/snapshots/")
            }
        }
        let fill = isName
            ? "; to get it, copy the model folder there, or on a machine with the Hugging Face hub run `huggingface-cli download \(parts.count == 2 ? name : "sentence-transformers/" + name)` and copy its cache"
            : ""
        throw InputError(file: name, message: "no such model folder" + (looked.isEmpty ? "" : " (looked in: " + looked.joined(separator: ", ") + ")") + fill)
    }

    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    static func hubCache(_ environment: [String: String]) -> String {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty { return cache }
        if let home = environment["HF_HOME"], !home.isEmpty { return home + "/hub" }
        let user = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return user + "/.cache/huggingface/hub"
    }

    /// The snapshot `refs/main` names, else the most recently modified one that is a model folder.
    static func snapshot(_ repo: String) -> URL? {
        let fm = FileManager.default
        let snapshots = repo + "/snapshots"
        if let ref = try? String(contentsOfFile: repo + "/refs/main", encoding: .utf8) {
            let revision = ref.trimmingCharacters(in: .whitespacesAndNewlines)
            if !revision.isEmpty, !revision.contains("/"), isModelFolder(snapshots + "/" + revision) {
                return URL(fileURLWithPath: snapshots + "/" + revision)
            }
        }
        guard let revisions = try? fm.contentsOfDirectory(atPath: snapshots) else { return nil }
        let dated = revisions.compactMap { r -> (String, Date)? in
            let path = snapshots + "/" + r
            guard isModelFolder(path) else { return nil }
            let date = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            return (path, date)
        }
        return dated.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }.map { URL(fileURLWithPath: $0.0) }
    }

    static func isModelFolder(_ path: String) -> Bool {
        markers.contains { FileManager.default.fileExists(atPath: path + "/" + $0) }
    }
}
