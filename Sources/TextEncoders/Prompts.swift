import Foundation

/// The prompts of a sentence-transformers model: text put before each input, chosen by name or by
/// the input's role (`config_sentence_transformers.json`: `prompts`, `default_prompt_name`).
///
/// Models trained with instructions ("query: ", "passage: ", "Represent this sentence for
/// searching relevant passages: ") embed well only when given the same text before each input.
/// Resolution follows the Python library: a name picks its prompt (an unknown name is an error
/// listing the known ones); no choice takes the default prompt when the model names one; a query
/// takes the prompt named "query", a document the first of "document", "passage", "corpus" —
/// and the default when the model has none of those.
public struct Prompts: Sendable, Equatable {
    /// Prompt texts by name.
    public var byName: [String: String]
    /// The prompt applied when none is chosen; nil: none.
    public var defaultName: String?

    /// A prompt table.
    /// - Parameters:
    ///   - byName: Prompt texts by name.
    ///   - defaultName: The prompt applied when none is chosen (must be in `byName`).
    public init(byName: [String: String] = [:], defaultName: String? = nil) {
        self.byName = byName
        self.defaultName = defaultName
    }

    /// The role of an input where queries and documents are embedded differently.
    public enum Role: String, Sendable, CaseIterable {
        /// A search query (sentence-transformers' `encode_query`).
        case query
        /// A document searched for (`encode_document`).
        case document
    }

    /// How a caller picks the prompt of its inputs.
    public enum Choice: Sendable, Equatable {
        /// The model's default prompt, if it names one (what `encode` does without arguments).
        case modelDefault
        /// The prompt of this name.
        case named(String)
        /// The prompt for inputs of this role.
        case role(Role)
        /// This text before each input.
        case text(String)
        /// No prompt at all.
        case none
    }

    /// The text `choice` puts before each input; nil for none.
    /// - Throws: a ``TextEncoderError`` naming the known prompts when a name is unknown.
    public func text(for choice: Choice) throws(TextEncoderError) -> String? {
        let resolved: String?
        switch choice {
        case .modelDefault: resolved = defaultName.flatMap { byName[$0] }
        case .named(let name):
            guard let text = byName[name] else {
                let known = byName.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                throw TextEncoderError("the model has no prompt named \"\(name)\" (\(known.isEmpty ? "it has no prompts" : "its prompts: \(known)"))")
            }
            resolved = text
        case .role(.query): resolved = byName["query"] ?? defaultName.flatMap { byName[$0] }
        case .role(.document):
            resolved = ["document", "passage", "corpus"].lazy.compactMap { byName[$0] }.first ?? defaultName.flatMap { byName[$0] }
        case .text(let text): resolved = text
        case .none: resolved = nil
        }
        // An empty prompt is no prompt (and masks nothing).
        return resolved?.isEmpty == false ? resolved : nil
    }

    /// The table in `config_sentence_transformers.json` (absent keys: no prompts).
    /// - Parameters:
    ///   - object: The file's JSON object.
    ///   - file: The file, for errors.
    init(_ object: [String: Any], file: URL) throws(TextEncoderError) {
        var table: [String: String] = [:]
        if let raw = object["prompts"], !(raw is NSNull) {
            guard let prompts = raw as? [String: Any] else { throw TextEncoderError("\(file.path): prompts: expected an object of name → text") }
            for (name, value) in prompts {
                guard let text = value as? String else { throw TextEncoderError("\(file.path): prompts.\(name): expected a string") }
                table[name] = text
            }
        }
        var defaultName: String?
        if let raw = object["default_prompt_name"], !(raw is NSNull) {
            guard let name = raw as? String else { throw TextEncoderError("\(file.path): default_prompt_name: expected a string or null") }
            guard table[name] != nil else {
                throw TextEncoderError("\(file.path): default_prompt_name: \"\(name)\" is not one of the prompts (\(table.keys.sorted().joined(separator: ", ")))")
            }
            defaultName = name
        }
        self.init(byName: table, defaultName: defaultName)
    }
}
