import ArgumentParser
import Evaluation
import Foundation

/// How a command prints its results on stdout, shared by every command that prints results
/// (`--format text|json|jsonl`), so that commands compose in pipes the same way.
///
/// - `text`: for people (the default).
/// - `json`: one JSON document (an object, or an array when the command has several results).
/// - `jsonl`: one compact JSON object per line (one per result).
///
/// Progress and timings always go to stderr, so stdout holds nothing but the results.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, jsonl
}

/// The `--format` option.
struct FormatOption: ParsableArguments {
    @Option(help: "Results on stdout: text, json (one document) or jsonl (one object per line).")
    var format: OutputFormat = .text

    /// Prints one result: `text()` for text, the object otherwise.
    func emit(_ object: JSONValue, text: () -> String) {
        switch format {
        case .text: print(text())
        case .json: print(object.serialized(pretty: true))
        case .jsonl: print(object.serialized(pretty: false))
        }
    }

    /// Prints several results: a JSON array for json, one line each for jsonl.
    func emit(records: [JSONValue], text: () -> String) {
        switch format {
        case .text: print(text())
        case .json: print(JSONValue.array(records).serialized(pretty: true))
        case .jsonl:
            // Through print, like every other line of stdout, so buffered lines keep their order.
            for r in records { print(r.serialized(pretty: false)) }
        }
    }
}
