import FileSupport
import Foundation
import Tensors

/// Pre-built pairs and triplets from JSON Lines files: one JSON object per line.
///
/// Vector records (numbers become Float32, and one too large for Float32 is an error; every vector
/// in a file has the same length):
/// ```
/// {"a": [0.1, 0.2], "b": [0.3, 0.1], "label": 1}
/// {"anchor": [0.1, 0.2], "positive": [0.2, 0.2], "negative": [0.9, -0.4]}
/// ```
/// Text records, for the text encoders:
/// ```
/// {"anchor": "a cat sits", "positive": "a cat is sitting"}
/// {"sentence1": "a cat sits", "sentence2": "a dog runs", "score": 0.2}
/// {"anchor": "a cat sits", "positive": "a cat is sitting", "negative": "a dog runs"}
/// ```
/// A `label` is `1`/`0`, `true`/`false` or a string `"same"`/`"different"` (also `"1"`, `"yes"`,
/// …); a `score` is any finite number.
/// Other keys (ids, notes) are ignored. Blank lines are skipped. Every error names the file, the
/// line and the field; nothing is returned unless every line is valid.
public enum JSONLines {
    /// The targets of text pairs.
    public enum Targets: Sendable, Equatable {
        /// No label: every pair is a positive (anchor, positive) pair, as in-batch-negative losses want.
        case positivesOnly
        /// 1 same / 0 different per pair, from a `label` key.
        case sameDifferent([Float])
        /// A similarity score per pair, from a `score` key.
        case scores([Float])
    }

    /// Text pairs: `first[i]` goes with `second[i]`.
    public struct TextPairs: Sendable, Equatable {
        public var first: [String]
        public var second: [String]
        public var targets: Targets
        public var count: Int { first.count }
    }

    /// Text triplets: `anchors[i]`, `positives[i]`, `negatives[i]`.
    public struct TextTriplets: Sendable, Equatable {
        public var anchors: [String]
        public var positives: [String]
        public var negatives: [String]
        public var count: Int { anchors.count }
    }

    /// Reads `{"a": [...], "b": [...], "label": 0|1}` (or `"score": x` instead of `label`; one or
    /// the other on every line) into a ``PairDataset``.
    public static func readPairs(_ url: URL) throws -> PairDataset {
        var a: [Float] = [], b: [Float] = [], labels: [Float] = []
        var width: Width? = nil
        var targetKey: String? = nil
        try forEachRecord(url, as: VectorPairRecord.self) { line, record in
            try width.check(record.a, "a", line: line)
            try width.check(record.b, "b", line: line)
            let (key, target) = record.target.keyAndValue
            if let targetKey, key != targetKey {
                throw FieldProblem(field: key, message: "this record has '\(key)' but the first record has '\(targetKey)'")
            }
            targetKey = key
            a += record.a
            b += record.b
            labels.append(target)
        }
        let n = labels.count, f = width!.count
        return try PairDataset(left: Tensor(shape: [n, f], a), right: Tensor(shape: [n, f], b), labels: labels)
    }

    /// Reads `{"anchor": [...], "positive": [...], "negative": [...]}` into a ``TripletDataset``.
    public static func readTriplets(_ url: URL) throws -> TripletDataset {
        var anchor: [Float] = [], positive: [Float] = [], negative: [Float] = []
        var width: Width? = nil
        try forEachRecord(url, as: VectorTripletRecord.self) { line, record in
            try width.check(record.anchor, "anchor", line: line)
            try width.check(record.positive, "positive", line: line)
            try width.check(record.negative, "negative", line: line)
            anchor += record.anchor
            positive += record.positive
            negative += record.negative
        }
        let shape = [anchor.count / width!.count, width!.count]
        return try TripletDataset(anchor: Tensor(shape: shape, anchor), positive: Tensor(shape: shape, positive), negative: Tensor(shape: shape, negative))
    }

    /// Reads text pairs: `{"anchor", "positive"}` or `{"sentence1", "sentence2"}`, each with an
    /// optional `label` or `score`. Every line must use the same keys as the first (a file that
    /// mixes labelled and unlabelled pairs is almost certainly two files concatenated).
    public static func readTextPairs(_ url: URL) throws -> TextPairs {
        var first: [String] = [], second: [String] = [], targets: [Float] = []
        var form: (keys: (String, String), target: String?)? = nil
        try forEachRecord(url, as: TextRecord.self) { line, record in
            if record.negative != nil {
                throw FieldProblem(field: "negative", message: "this is a triplet; read the file as text triplets")
            }
            let keys: (String, String)
            let pair: (String, String)
            switch (record.sentence1, record.sentence2, record.anchor, record.positive) {
            case let (s1?, s2?, nil, nil): keys = ("sentence1", "sentence2"); pair = (s1, s2)
            case let (nil, nil, a?, p?): keys = ("anchor", "positive"); pair = (a, p)
            case (nil, nil, nil, nil):
                throw FieldProblem(field: "anchor", message: "missing: a text pair needs 'anchor' and 'positive', or 'sentence1' and 'sentence2'")
            default:
                let missing = record.sentence1 != nil ? "sentence2" : record.sentence2 != nil ? "sentence1" : record.anchor != nil ? "positive" : "anchor"
                let mixed = (record.sentence1 != nil || record.sentence2 != nil) && (record.anchor != nil || record.positive != nil)
                throw FieldProblem(field: missing, message: mixed ? "mixes anchor/positive with sentence1/sentence2 keys" : "missing")
            }
            try nonEmpty(pair.0, keys.0)
            try nonEmpty(pair.1, keys.1)
            let target = record.target?.keyAndValue
            if let form, form.keys != keys || form.target != target?.key {
                throw FieldProblem(field: target?.key ?? keys.0, message: "keys \(describe(keys, target?.key)) differ from the first record's \(describe(form.keys, form.target))")
            }
            form = (keys, target?.key)
            first.append(pair.0)
            second.append(pair.1)
            if let target { targets.append(target.value) }
        }
        let kind: Targets = switch form!.target {
        case nil: .positivesOnly
        case "label": .sameDifferent(targets)
        default: .scores(targets)
        }
        return TextPairs(first: first, second: second, targets: kind)
    }

    /// Reads text triplets `{"anchor": "...", "positive": "...", "negative": "..."}`.
    public static func readTextTriplets(_ url: URL) throws -> TextTriplets {
        var result = TextTriplets(anchors: [], positives: [], negatives: [])
        try forEachRecord(url, as: TextRecord.self) { _, record in
            let fields = [("anchor", record.anchor), ("positive", record.positive), ("negative", record.negative)]
            for (name, value) in fields {
                guard let value else { throw FieldProblem(field: name, message: "missing: a text triplet needs anchor, positive and negative") }
                try nonEmpty(value, name)
            }
            result.anchors.append(record.anchor!)
            result.positives.append(record.positive!)
            result.negatives.append(record.negative!)
        }
        return result
    }

    // MARK: - Lines

    /// Decodes every non-blank line as `T` and hands it to `body`. Decoding errors and
    /// ``FieldProblem``s from `body` become ``InputError``s naming the file, line and field.
    static func forEachRecord<T: Decodable>(_ url: URL, as: T.Type, _ body: (Int, T) throws -> Void) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        let decoder = JSONDecoder()
        let bytes = [UInt8](data)
        var position = 0
        // A UTF-8 byte-order mark is not part of the first record.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        var lineNumber = 0
        var records = 0
        while position < bytes.count {
            lineNumber += 1
            var end = position
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            defer { position = next }
            if bytes[position..<end].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let record: T
            let line = Data(bytes[position..<end])
            do {
                record = try decoder.decode(T.self, from: line)
            } catch let error as DecodingError {
                throw describe(error, line: line, file: url.path, lineNumber: lineNumber)
            }
            do { try body(lineNumber, record) } catch let p as FieldProblem {
                throw InputError(file: url.path, line: lineNumber, field: p.field, message: p.message)
            }
            records += 1
        }
        guard records > 0 else { throw InputError(file: url.path, message: "no records: the file is empty or blank") }
    }

    /// A decoding error as a located input error: the field is the JSON path (`a[3]`).
    static func describe(_ error: DecodingError, line: Data, file: String, lineNumber: Int) -> InputError {
        func path(_ keys: [any CodingKey]) -> String? {
            guard !keys.isEmpty else { return nil }
            var s = ""
            for key in keys {
                if let i = key.intValue { s += "[\(i)]" } else { s += s.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return s
        }
        switch error {
        case .keyNotFound(let key, let context):
            return InputError(file: file, line: lineNumber, field: path(context.codingPath + [key]), message: "missing")
        case .valueNotFound(_, let context):
            return InputError(file: file, line: lineNumber, field: path(context.codingPath), message: "is null")
        case .typeMismatch(let type, let context):
            guard let field = path(context.codingPath) else {
                return InputError(file: file, line: lineNumber, message: "each line must be one JSON object")
            }
            return InputError(file: file, line: lineNumber, field: field, message: "expected \(typeName(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return InputError(file: file, line: lineNumber, message: "not valid JSON: \(syntaxProblem(line))")
            }
            return InputError(file: file, line: lineNumber, field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return InputError(file: file, line: lineNumber, message: "\(error)")
        }
    }

    /// Where the JSON syntax breaks. `JSONDecoder` only says "not valid JSON"; `JSONSerialization`
    /// names the position, so the failing line is parsed again (on the error path only).
    static func syntaxProblem(_ line: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])
        } catch {
            if let why = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
                // "Invalid value around character 22." counts from 0; editors count columns from 1.
                var text = why.trimmingCharacters(in: CharacterSet(charactersIn: "."))
                if let range = text.range(of: "around character "),
                   let offset = Int(text[range.upperBound...].prefix { $0.isNumber }) {
                    text = text[..<range.lowerBound] + "at column \(offset + 1)"
                }
                return text.prefix(1).lowercased() + text.dropFirst()
            }
        }
        return "the line is not one complete JSON value"
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            // FloatVector asks for an unkeyed container, which JSONDecoder reports as Array<Any>.
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "an array of numbers" : name.hasPrefix("Dictionary") ? "an object" : name
        }
    }

    private static func nonEmpty(_ text: String, _ field: String) throws {
        guard !text.isEmpty else { throw FieldProblem(field: field, message: "empty text") }
    }

    private static func describe(_ keys: (String, String), _ target: String?) -> String {
        "\(keys.0)/\(keys.1)" + (target.map { "/\($0)" } ?? "")
    }
}

/// The vector length every record must share: the first record's.
private struct Width {
    let count: Int
    let line: Int
}

extension Optional where Wrapped == Width {
    /// Checks a vector against the file's width, which the first vector seen sets.
    fileprivate mutating func check(_ vector: [Float], _ field: String, line: Int) throws {
        guard !vector.isEmpty else { throw FieldProblem(field: field, message: "empty vector") }
        if let w = self {
            guard vector.count == w.count else {
                throw FieldProblem(field: field, message: "\(vector.count) values, expected \(w.count) (the length on line \(w.line))")
            }
        } else {
            self = Width(count: vector.count, line: line)
        }
    }
}

/// A vector of JSON numbers, each checked to be finite as a Float32 (`1e39` is a valid JSON
/// number but infinite as a Float32, which would poison training).
private struct FloatVector: Decodable {
    let values: [Float]
    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var values: [Float] = []
        if let n = container.count { values.reserveCapacity(n) }
        while !container.isAtEnd {
            let index = container.currentIndex
            let v = try container.decode(Double.self)
            let f = Float(v)
            guard f.isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [IndexKey(index)],
                                                        debugDescription: "\(v) is not a finite Float32"))
            }
            values.append(f)
        }
        self.values = values
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue!)" }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// A `label` (0/1, true/false, "same"/"different") or a `score` (finite number).
private enum TargetValue {
    case label(Float)
    case score(Float)

    var keyAndValue: (key: String, value: Float) {
        switch self {
        case .label(let v): ("label", v)
        case .score(let v): ("score", v)
        }
    }

    /// Reads whichever of `label` and `score` is present; both is an error, neither is nil.
    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, label: K, score: K) throws -> TargetValue? {
        let hasLabel = c.contains(label), hasScore = c.contains(score)
        if hasLabel && hasScore {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [score], debugDescription: "give either 'label' or 'score', not both"))
        }
        if hasScore {
            let v = try c.decode(Double.self, forKey: score)
            guard Float(v).isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [score], debugDescription: "\(v) is not a finite Float32"))
            }
            return .score(Float(v))
        }
        guard hasLabel else { return nil }
        let parsed: Float?
        if let b = try? c.decode(Bool.self, forKey: label) {
            parsed = b ? 1 : 0
        } else if let d = try? c.decode(Double.self, forKey: label) {
            parsed = d == 0 || d == 1 ? Float(d) : nil
        } else if let s = try? c.decode(String.self, forKey: label) {
            parsed = PairLabel.parse(s)
        } else {
            parsed = nil
        }
        guard let parsed else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [label], debugDescription: "not a same/different label: expected \(PairLabel.accepted)"))
        }
        return .label(parsed)
    }
}

private struct VectorPairRecord: Decodable {
    let a: [Float], b: [Float]
    let target: TargetValue
    enum Keys: String, CodingKey { case a, b, label, score }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        a = try c.decode(FloatVector.self, forKey: .a).values
        b = try c.decode(FloatVector.self, forKey: .b).values
        guard let t = try TargetValue.decode(c, label: .label, score: .score) else {
            throw DecodingError.keyNotFound(Keys.label, .init(codingPath: c.codingPath, debugDescription: "a pair needs a label or a score"))
        }
        target = t
    }
}

private struct VectorTripletRecord: Decodable {
    let anchor: [Float], positive: [Float], negative: [Float]
    enum Keys: String, CodingKey { case anchor, positive, negative }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        anchor = try c.decode(FloatVector.self, forKey: .anchor).values
        positive = try c.decode(FloatVector.self, forKey: .positive).values
        negative = try c.decode(FloatVector.self, forKey: .negative).values
    }
}

/// Any of the text keys; which combination is present decides the record's form.
private struct TextRecord: Decodable {
    let anchor: String?, positive: String?, negative: String?
    let sentence1: String?, sentence2: String?
    let target: TargetValue?
    enum Keys: String, CodingKey { case anchor, positive, negative, sentence1, sentence2, label, score }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        anchor = try c.decodeIfPresent(String.self, forKey: .anchor)
        positive = try c.decodeIfPresent(String.self, forKey: .positive)
        negative = try c.decodeIfPresent(String.self, forKey: .negative)
        sentence1 = try c.decodeIfPresent(String.self, forKey: .sentence1)
        sentence2 = try c.decodeIfPresent(String.self, forKey: .sentence2)
        target = try TargetValue.decode(c, label: .label, score: .score)
    }
}
