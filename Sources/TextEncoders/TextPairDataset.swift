import Foundation

/// Text pairs for fine-tuning, read from JSON Lines (one JSON object per line):
///
/// - ``Kind/triplets``: `{"anchor": "...", "positive": "...", "negative": "..."}` (negative
///   optional) for multiple-negatives ranking;
/// - ``Kind/scored``: `{"sentence1": "...", "sentence2": "...", "score": 0.8}` for CoSENT and
///   cosine-similarity regression;
/// - ``Kind/labelled``: `{"sentence1": "...", "sentence2": "...", "label": 1}` for the
///   contrastive loss.
///
/// A malformed line throws an error naming the file, the line and the field.
public struct TextPairDataset: Sendable {
    public enum Kind: String, Sendable {
        case triplets, scored, labelled
    }

    /// One example: `first`/`second` are anchor/positive or sentence1/sentence2.
    public struct Example: Sendable, Equatable {
        public var first: String
        public var second: String
        /// The hard negative of a triplet, if given.
        public var negative: String?
        /// The score or label of a pair (0 for triplets).
        public var target: Float

        public init(first: String, second: String, negative: String? = nil, target: Float = 0) {
            self.first = first
            self.second = second
            self.negative = negative
            self.target = target
        }
    }

    public let kind: Kind
    public let examples: [Example]

    public init(kind: Kind, examples: [Example]) {
        self.kind = kind
        self.examples = examples
    }

    public var count: Int { examples.count }

    /// Unsupervised SimCSE's examples (Gao et al., 2021): every distinct sentence is its own
    /// positive — two forward passes in training mode differ only by their dropout masks, which
    /// are the augmentation — and the batch's other sentences are its negatives (multiple-negatives
    /// ranking). Blank lines are skipped and repeated sentences kept once: a repeat in the same
    /// batch would be a false negative.
    /// - Parameter sentences: unlabelled texts, e.g. the lines of a text file.
    /// - Throws: a ``TextEncoderError`` when fewer than two distinct sentences remain.
    public init(simCSE sentences: [String]) throws(TextEncoderError) {
        var seen = Set<String>()
        var examples: [Example] = []
        for sentence in sentences where !sentence.allSatisfy(\.isWhitespace) && seen.insert(sentence).inserted {
            examples.append(Example(first: sentence, second: sentence))
        }
        guard examples.count >= 2 else {
            throw TextEncoderError("SimCSE needs at least two distinct non-blank sentences, got \(examples.count)")
        }
        self.init(kind: .triplets, examples: examples)
    }

    /// Reads a JSONL file. Empty lines are skipped; triplets must either all have a negative or
    /// none (batches must have one shape).
    public init(jsonl url: URL, kind: Kind) throws(TextEncoderError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TextEncoderError("\(url.path): cannot read (\(error.localizedDescription))") }
        try self.init(jsonl: data, kind: kind, file: url.path)
    }

    public init(jsonl data: Data, kind: Kind, file: String = "<memory>") throws(TextEncoderError) {
        var examples: [Example] = []
        var lineNumber = 0
        var withNegative: Bool? = nil
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let bytes = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let at = "\(file):\(lineNumber)"
            guard String(validating: bytes, as: UTF8.self) != nil else { throw TextEncoderError("\(at): not valid UTF-8") }
            let object: [String: Any]
            do {
                guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    throw TextEncoderError("\(at): expected a JSON object")
                }
                object = o
            } catch let e as TextEncoderError {
                throw e
            } catch {
                throw TextEncoderError("\(at): not valid JSON (\(error.localizedDescription))")
            }
            func text(_ key: String, optional: Bool = false) throws(TextEncoderError) -> String? {
                guard let v = object[key], !(v is NSNull) else {
                    if optional { return nil }
                    throw TextEncoderError("\(at): field \"\(key)\" is missing")
                }
                guard let s = v as? String else { throw TextEncoderError("\(at): field \"\(key)\" must be a string") }
                return s
            }
            func number(_ key: String) throws(TextEncoderError) -> Float {
                guard let v = object[key], !(v is NSNull) else { throw TextEncoderError("\(at): field \"\(key)\" is missing") }
                // `v is Bool` also holds for the JSON numbers 0 and 1 (Foundation bridges NSNumber):
                // a score of exactly 0 or 1 was refused. JSON true/false are the NSNumbers of type "c".
                let boolean = (v as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? (v is Bool)
                guard !(v is String), !boolean || key == "label", let n = (v as? Double) ?? (v as? Bool).map({ $0 ? 1 : 0 }),
                      n.isFinite else {
                    throw TextEncoderError("\(at): field \"\(key)\" must be a finite number")
                }
                return Float(n)
            }
            switch kind {
            case .triplets:
                let negative = try text("negative", optional: true)
                if let w = withNegative, w != (negative != nil) {
                    throw TextEncoderError("\(at): field \"negative\" is \(negative == nil ? "missing" : "present") here but not on earlier lines; give every line a negative or none")
                }
                withNegative = negative != nil
                examples.append(Example(first: try text("anchor")!, second: try text("positive")!, negative: negative))
            case .scored:
                examples.append(Example(first: try text("sentence1")!, second: try text("sentence2")!, target: try number("score")))
            case .labelled:
                let label = try number("label")
                guard label >= 0 && label <= 1 else { throw TextEncoderError("\(at): field \"label\" must be between 0 and 1, got \(label)") }
                examples.append(Example(first: try text("sentence1")!, second: try text("sentence2")!, target: label))
            }
        }
        guard !examples.isEmpty else { throw TextEncoderError("\(file): no examples") }
        self.init(kind: kind, examples: examples)
    }
}
