import Foundation

/// A parsed JSON value, read strictly: request bodies are decoded into this and then checked
/// field by field, so that unknown fields, wrong types and bad numbers get errors naming the
/// field instead of being ignored or coerced.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer literal beyond ±2⁵³ (within Int64), which a Double would round: kept exact so
    /// that metadata such as `{"account": 9007199254740993}` is stored, returned and filtered as written.
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a request body; anything but a JSON object is a ``APIError/Code/malformedJSON``.
    static func parseObject(_ data: Data) throws(APIError) -> JSONObject {
        guard !data.isEmpty else { throw APIError(.malformedJSON, "the request body is empty; send a JSON object") }
        let value: JSONValue
        do { value = try StrictJSONParser.parse(data) } catch {
            throw APIError(.malformedJSON, "the request body is not valid JSON: \(error.message)", field: error.field)
        }
        guard case .object(let o) = value else { throw APIError(.malformedJSON, "the request body must be a JSON object") }
        return JSONObject(fields: o, path: "")
    }

    /// The value as a Double (integers beyond 2⁵³ rounded), for fields that are numbers.
    var double: Double? {
        switch self {
        case .number(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number, .integer: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object being read: typed accessors that throw ``APIError``s naming the field.
struct JSONObject: Sendable {
    let fields: [String: JSONValue]
    /// The object's own path (`""` for the body, `items[2]` for a nested one).
    let path: String

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Refuses fields outside `allowed`.
    func allowOnly(_ allowed: Set<String>) throws(APIError) {
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw APIError(.unknownField, "unknown field '\(name(key))' (allowed: \(allowed.sorted().joined(separator: ", ")))", field: name(key))
        }
    }

    func value(_ key: String) throws(APIError) -> JSONValue {
        guard let v = fields[key], v != .null else { throw APIError(.missingField, "missing field '\(name(key))'", field: name(key)) }
        return v
    }

    func has(_ key: String) -> Bool { fields[key].map { $0 != .null } ?? false }

    func string(_ key: String) throws(APIError) -> String {
        guard case .string(let s) = try value(key) else { throw wrongType(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws(APIError) -> String? { has(key) ? try string(key) : nil }

    func number(_ key: String) throws(APIError) -> Double {
        guard let d = try value(key).double else { throw wrongType(key, "a number") }
        guard d.isFinite else { throw APIError(.nonFinite, "'\(name(key))' must be a finite number", field: name(key)) }
        return d
    }

    func optionalNumber(_ key: String) throws(APIError) -> Double? { has(key) ? try number(key) : nil }

    /// An integer in `range` (default when absent).
    func integer(_ key: String, default def: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard has(key) else { return def }
        let d = try number(key)
        guard d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw APIError(.invalidValue, "'\(name(key))' must be an integer from \(range.lowerBound) to \(range.upperBound)", field: name(key))
        }
        return Int(d)
    }

    func bool(_ key: String, default def: Bool) throws(APIError) -> Bool {
        guard has(key) else { return def }
        guard case .bool(let b) = try value(key) else { throw wrongType(key, "true or false") }
        return b
    }

    func array(_ key: String) throws(APIError) -> [JSONValue] {
        guard case .array(let a) = try value(key) else { throw wrongType(key, "an array") }
        return a
    }

    func object(_ key: String) throws(APIError) -> JSONObject {
        guard case .object(let o) = try value(key) else { throw wrongType(key, "an object") }
        return JSONObject(fields: o, path: name(key))
    }

    func wrongType(_ key: String, _ expected: String) -> APIError {
        APIError(.wrongType, "'\(name(key))' must be \(expected), got \(fields[key]?.typeName ?? "nothing")", field: name(key))
    }
}

extension JSONValue {
    /// A model input: a string, or an array of numbers.
    func modelInput(field: String) throws(APIError) -> ModelInput {
        switch self {
        case .string(let s): return .text(s)
        case .array(let a):
            var v = [Float]()
            v.reserveCapacity(a.count)
            for (i, x) in a.enumerated() {
                guard let d = x.double else {
                    throw APIError(.wrongType, "'\(field)[\(i)]' must be a number, got \(x.typeName)", field: "\(field)[\(i)]")
                }
                let f = Float(d)
                guard d.isFinite, f.isFinite else {
                    throw APIError(.nonFinite, "'\(field)[\(i)]' must be a finite number within float range", field: "\(field)[\(i)]")
                }
                v.append(f)
            }
            return .vector(v)
        default:
            throw APIError(.wrongType, "'\(field)' must be a string or an array of numbers, got \(typeName)", field: field)
        }
    }
}

extension JSONValue {
    /// Compact JSON text; whole numbers are written without a fraction, so that SQLite's
    /// `json_extract` reads them as integers and metadata filters match `"n": 3` with `3`.
    var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return JSONValue.numberText(d)
        case .integer(let i): return String(i)
        case .string(let s): return JSONValue.quoted(s)
        case .array(let a): return "[" + a.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { JSONValue.quoted($0) + ":" + o[$0]!.jsonText }.joined(separator: ",") + "}"
        }
    }

    /// Whole numbers as integers (up to 2⁵³, where every integer is a Double, exactly as written;
    /// `1e15` was once written `1e+15`, which no filter on `1000000000000000` matched).
    static func numberText(_ d: Double) -> String {
        d == d.rounded() && abs(d) <= 9_007_199_254_740_992 ? String(Int64(d)) : String(d)
    }

    /// A finite Float as `JSONEncoder` writes it: its shortest round-tripping digits, without a
    /// trailing `.0`.
    static func floatText(_ f: Float) -> String {
        let s = f.description
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
