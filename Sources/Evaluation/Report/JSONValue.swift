/// A JSON value with keys kept in insertion order, so reports read top-down like the HTML page and
/// diff cleanly between runs. Non-finite numbers become `null`: JSON has no NaN or infinity.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Equal when both serialise to the same text (so object key order matters, and NaN equals `null`).
    public static func == (l: JSONValue, r: JSONValue) -> Bool { l.serialized() == r.serialized() }

    /// A number, or `null` when absent or non-finite.
    public static func optional(_ v: Double?) -> JSONValue { v.map { $0.isFinite ? .number($0) : .null } ?? .null }

    /// Looks up a key of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// Serialises with two-space indentation (or compactly).
    public func serialized(pretty: Bool = true) -> String {
        var out = ""
        write(&out, indent: pretty ? 0 : nil)
        return out
    }

    private func write(_ out: inout String, indent: Int?) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let d):
            if !d.isFinite { out += "null" } else if d == d.rounded(), abs(d) < 1e15 { out += String(Int(d)) } else { out += "\(d)" }
        case .string(let s): Self.escape(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Arrays of plain numbers stay on one line: ROC curves would otherwise take thousands of lines.
            let flat = indent == nil || items.allSatisfy { if case .number = $0 { return true }; if case .int = $0 { return true }; if case .null = $0 { return true }; return false }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += flat ? ", " : "," }
                if !flat, let indent { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.write(&out, indent: flat ? nil : indent.map { $0 + 1 })
            }
            if !flat, let indent { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: "  ", count: indent + 1) }
                Self.escape(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.write(&out, indent: indent.map { $0 + 1 })
            }
            if let indent { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    private static func escape(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension ConfidenceInterval {
    var json: JSONValue { .object([("lower", .optional(lower)), ("upper", .optional(upper)), ("level", .number(level)), ("method", .string(method))]) }
}

extension Optional where Wrapped == ConfidenceInterval {
    var json: JSONValue { self?.json ?? .null }
}

extension ConfusionCounts {
    var json: JSONValue {
        .object([
            ("far", .optional(far)), ("frr", .optional(frr)), ("accuracy", .optional(accuracy)), ("precision", .optional(precision)),
            ("recall", .optional(recall)), ("f1", .optional(f1)), ("mcc", .optional(mcc)),
            ("true_positives", .int(truePositives)), ("false_positives", .int(falsePositives)),
            ("true_negatives", .int(trueNegatives)), ("false_negatives", .int(falseNegatives)),
        ])
    }
}

extension ThresholdRule {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("kind", .string(kind))]
        switch self {
        case .targetFAR(let v), .targetFRR(let v): pairs.append(("target", .number(v)))
        case .fixed(let v): pairs.append(("threshold", .number(v)))
        default: break
        }
        return .object(pairs)
    }
}
