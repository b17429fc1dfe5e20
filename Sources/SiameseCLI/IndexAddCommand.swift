import ArgumentParser
import Foundation
import VectorIndex

struct IndexAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add vectors to an exact or HNSW index file (rewritten atomically).",
        discussion: HelpText.reflow("""
        Ids continue after the largest id in the index unless --ids gives them; an id already present is an error (nothing is written).

        Example:
          siamese index add --index x.hnsw --vectors more.npy --threads 2
        """))

    @Option(help: ArgumentHelp("Index file to change.", valueName: "index"))
    var index: String

    @Option(help: ArgumentHelp("Vectors to add: .npy, rows × dimensions.", valueName: "y.npy"))
    var vectors: String

    @Option(help: ArgumentHelp("Ids of the new vectors: int64 .npy or text, one per line.", valueName: "ids"))
    var ids: String?

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var formatting: FormatOption

    func validate() throws {
    }

    func run() throws {
        threading.apply()
        try runCatching {
            let info = try IndexFileInfo.read(path: index)
            let x = try readVectors(vectors)
            guard x.dimension == info.dimension else {
                throw IndexCLIError(file: vectors, message: "vectors have \(x.dimension) components but \(index) holds \(info.dimension)")
            }
            let names = try IndexNames.read(path: index)
            let loaded = try AnyIndex.load(index)
            // A named index takes names (any text); a numbered one, numbers.
            var idList: [UInt64]?, newNames = names
            if var named = names {
                guard let ids else { throw IndexCLIError(file: index, message: "the index has string ids: give --ids with one id per new vector") }
                let given = try StoreVectorsInput.readIDs(ids)
                guard given.count == x.rows else { throw IndexCLIError(file: ids, message: "\(given.count) ids for \(x.rows) vectors in \(vectors)") }
                idList = try nameIDs(given, first: nextLabel(named, loaded.ids), into: &named, file: ids)
                newNames = named
            } else if let ids {
                let given = try StoreVectorsInput.readIDs(ids)
                idList = try numericIDs(given, file: ids, orExplain: ids.lowercased().hasSuffix(".npy") ? nil
                                        : "\(index) has numeric ids (build it with --string-ids to name vectors by any text)")
            }
            do {
                switch loaded {
                case .exact(var flat):
                    try flat.add(x.values, ids: idList)
                    try flat.save(to: index, fingerprint: info.fingerprint, names: newNames)
                    formatting.emit(.object([("added", .int(x.rows)), ("count", .int(flat.count)), ("index", .string(index))])) {
                        "added \(x.rows) vectors: \(flat.count) in \(index)"
                    }
                case .hnsw(let graph):
                    try graph.add(x.values, ids: idList)
                    try graph.save(to: index, fingerprint: info.fingerprint, names: newNames)
                    formatting.emit(.object([("added", .int(x.rows)), ("count", .int(graph.count)), ("index", .string(index))])) {
                        "added \(x.rows) vectors: \(graph.count) live in \(index)"
                    }
                case .int8, .binary:
                    throw IndexCLIError(file: index, message: "quantised indexes are built once; rebuild with siamese index build")
                }
            } catch let e as IndexError {
                throw IndexCLIError(file: vectors, message: "\(e)")
            }
        }
    }
}
