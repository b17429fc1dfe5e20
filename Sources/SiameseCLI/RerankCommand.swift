import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import TextEncoders

/// `siamese rerank`: a cross-encoder's score of a query with each candidate text.
struct RerankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Score a query against candidate texts with a cross-encoder (both texts read together).",
        discussion: HelpText.reflow("""
        MODEL is a folder saved by sentence-transformers' CrossEncoder (a BERT sequence classifier
        and its tokenizer). Each line of the candidates file is one candidate. The scores are the
        model's (after its activation: for one label, sigmoid unless the folder says otherwise);
        text output lists the candidates best first, JSON keeps them in input order.

        Examples:
          siamese rerank --model ce-folder --query "how do I compress files" --candidates hits.txt
          siamese rerank --model ce-folder --query "vector search" --candidates hits.txt --format json
        """)
    )

    @Option(help: ArgumentHelp("Cross-encoder folder.", valueName: "dir")) var model: String
    @Option(help: "The query.") var query: String
    @Option(help: ArgumentHelp("Candidates: a UTF-8 text file, one per line.", valueName: "file")) var candidates: String
    @Option(help: "Text output: show the best N only (default: all).") var top: Int?
    @Flag(help: "Dynamic int8 linear layers.") var int8 = false
    @OptionGroup var threading: ThreadsOption
    @OptionGroup var formatting: FormatOption

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        threading.apply()
        let lines = try readTextLines(URL(fileURLWithPath: candidates))
        guard !lines.isEmpty else { throw InputError(file: candidates, message: "holds no candidates") }
        let encoder = try CrossEncoder(folder: try ModelLocator.resolve(model), precision: int8 ? .int8 : .float32)
        let scores = encoder.predict(lines.map { (query, $0) })
        let value: (Int) -> JSONValue = { i in
            encoder.labels == 1 ? .number(Double(scores[i][0])) : .array(scores[i].map { .number(Double($0)) })
        }
        let order = CrossEncoder.ranking(scores.map { $0[0] })
        formatting.emit(.object([("scores", .array(lines.indices.map(value))), ("ranking", .array(order.map { .int($0) })),
                                 ("labels", .int(encoder.labels))])) {
            order.prefix(top ?? order.count).enumerated().map { rank, i in
                String(format: "%3d  %@  %@", rank + 1, scores[i].map { String(format: "%.6f", $0) }.joined(separator: " "), lines[i])
            }.joined(separator: "\n")
        }
    }
}
