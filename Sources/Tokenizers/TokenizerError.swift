/// Why a tokenizer could not be built or could not encode.
///
/// Every case names the file (or "<memory>") so that a user with several model folders knows which
/// one is wrong.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The file is not valid JSON, or not valid UTF-8.
    case invalidJSON(file: String, reason: String)
    /// A field is missing or has the wrong type or value.
    case invalidField(file: String, field: String, reason: String)
    /// A component type that this implementation does not provide (`component` is the field's
    /// path, such as `normalizer.normalizers[1]`; the description lists the supported types).
    case unsupported(file: String, component: String, type: String)
    /// A token the configuration refers to is not in the vocabulary.
    case missingToken(file: String, token: String)
    /// Neither `tokenizer.json` nor `vocab.txt` is in the folder.
    case noTokenizerFiles(folder: String)

    /// One line naming the file (or folder) and what is wrong.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the tokenizer file (\(reason))"
        case .invalidJSON(let file, let reason):
            "\(file): not a valid JSON tokenizer file (\(reason))"
        case .invalidField(let file, let field, let reason):
            "\(file): field \(field): \(reason)"
        case .unsupported(let file, let component, let type):
            "\(file): \(component) of type \"\(type)\" is not supported (supported: \(Self.supported(component).joined(separator: ", ")))"
        case .missingToken(let file, let token):
            "\(file): token \"\(token)\" is not in the vocabulary"
        case .noTokenizerFiles(let folder):
            "\(folder): no tokenizer.json or vocab.txt in the folder"
        }
    }

    /// The types supported for a component, by the first part of its path.
    public static func supported(_ component: String) -> [String] {
        switch component.prefix(while: { $0 != "." && $0 != "[" }) {
        case "model": ["WordPiece", "BPE", "Unigram"]
        case "normalizer": ["BertNormalizer", "NFC", "NFKC", "NFD", "NFKD", "Lowercase", "Strip", "Replace", "Prepend", "Precompiled", "Sequence"]
        case "pre_tokenizer": ["BertPreTokenizer", "ByteLevel", "Metaspace", "WhitespaceSplit", "Sequence"]
        case "post_processor": ["BertProcessing", "RobertaProcessing", "TemplateProcessing", "ByteLevel", "Sequence"]
        default: []
        }
    }
}
