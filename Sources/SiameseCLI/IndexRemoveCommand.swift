import ArgumentParser
import Foundation
import VectorIndex

struct IndexRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove vectors by id (HNSW: tombstones until compact).",
        discussion: HelpText.reflow("""
        Example:
          siamese index remove --index x.hnsw --ids 3,17,42
          siamese index remove --index x.hnsw --ids-file gone.txt
        """))

    @Option(help: ArgumentHelp("Index file to change.", valueName: "index"))
    var index: String

    @Option(help: "Comma-separated ids.")
    var ids: String?

    @Option(help: ArgumentHelp("Ids to remove: int64 .npy or text, one per line.", valueName: "file"))
    var idsFile: String?

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard (ids == nil) != (idsFile == nil) else { throw usage("give exactly one of --ids and --ids-file", "index remove") }
    }

    func run() throws {
        try runCatching {
            let given = try idsFile.map { try StoreVectorsInput.readIDs($0) }
                ?? (ids ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let info = try IndexFileInfo.read(path: index)
            var names = try IndexNames.read(path: index)
            // Names that the index does not hold count as absent, as numbers do.
            let list = try names.map { n in given.compactMap { n.label(of: $0) } } ?? given.enumerated().map { i, s in
                guard let v = UInt64(s) else {
                    throw IndexCLIError(file: idsFile ?? "--ids", message: (idsFile == nil ? "" : "line \(i + 1): ") + "'\(s)' is not a non-negative integer id")
                }
                return v
            }
            for label in list { names?.remove(label: label) }
            switch try AnyIndex.load(index) {
            case .exact(var flat):
                let n = flat.remove(list)
                try flat.save(to: index, fingerprint: info.fingerprint, names: names)
                formatting.emit(.object([("removed", .int(n)), ("requested", .int(given.count)), ("count", .int(flat.count)), ("index", .string(index))])) {
                    "removed \(n) of \(given.count) ids: \(flat.count) left in \(index)"
                }
            case .hnsw(let graph):
                let n = graph.remove(list)
                try graph.save(to: index, fingerprint: info.fingerprint, names: names)
                formatting.emit(.object([("removed", .int(n)), ("requested", .int(given.count)), ("count", .int(graph.count)),
                                         ("tombstones", .int(graph.tombstoneCount)), ("index", .string(index))])) {
                    "removed \(n) of \(given.count) ids: \(graph.count) live, \(graph.tombstoneCount) tombstones in \(index) (siamese index compact reclaims them)"
                }
            case .int8, .binary:
                throw IndexCLIError(file: index, message: "quantised indexes are built once; rebuild with siamese index build")
            }
        }
    }
}
