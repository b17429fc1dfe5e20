import ArgumentParser
import Foundation
import VectorIndex

struct IndexInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe an index file (and check it).",
        discussion: HelpText.reflow("""
        Checks the header, the section table and, with --verify, every checksum and link.

        Example:
          siamese index info --index x.hnsw --verify
        """))

    @Option(help: ArgumentHelp("Index file.", valueName: "index"))
    var index: String

    @Flag(help: "Load the whole index, verifying every checksum and link.")
    var verify = false

    @Flag(help: "Print JSON on one line (the same as --format jsonl).")
    var json = false

    @OptionGroup var formatting: FormatOption

    func run() throws {
        try runCatching {
            let info = try IndexFileInfo.read(path: index, verifyChecksums: verify)
            var fields: [(String, String)] = [("kind", "\"\(info.kind)\""), ("metric", "\"\(info.metric)\""), ("dimension", "\(info.dimension)"),
                                              ("count", "\(info.count)"), ("bytes", "\(info.bytes)")]
            if verify || info.kind == .hnsw {
                switch try AnyIndex.load(index, verify: verify) {
                case .hnsw(let g):
                    fields += [("live", "\(g.count)"), ("tombstones", "\(g.tombstoneCount)"), ("m", "\(g.configuration.m)"),
                               ("ef_construction", "\(g.configuration.efConstruction)"), ("ef_search", "\(g.configuration.efSearch)")]
                default: break
                }
            }
            if let names = try IndexNames.read(path: index, verifyChecksums: verify) { fields.append(("string_ids", "\(names.count)")) }
            if let fp = info.fingerprint { fields.append(("fingerprint", "\"\(fp.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"")) }
            if json || formatting.format != .text {
                let line = "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
                if formatting.format == .json, !json {
                    print("{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}")
                } else {
                    print(line)
                }
            } else {
                for (k, v) in fields { print("\(k.padding(toLength: 16, withPad: " ", startingAt: 0)) \(v.replacingOccurrences(of: "\"", with: ""))") }
                if verify { print("verified         every checksum, size and link") }
            }
        }
    }
}
