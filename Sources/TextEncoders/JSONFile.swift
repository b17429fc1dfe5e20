import Foundation

/// A parsed JSON object from a model folder, with typed access whose errors name the file and
/// the field.
struct JSONFile {
    let path: String
    let object: [String: Any]

    /// Reads and parses `url`; a missing file, invalid UTF-8, invalid JSON or a top level other
    /// than an object throws.
    init(_ url: URL) throws(TextEncoderError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TextEncoderError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        try self.init(data: data, path: url.path)
    }

    init(data: Data, path: String) throws(TextEncoderError) {
        self.path = path
        guard String(validating: data, as: UTF8.self) != nil else { throw TextEncoderError("\(path): not valid UTF-8") }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data) } catch {
            throw TextEncoderError("\(path): not valid JSON (\(error.localizedDescription))")
        }
        guard let object = value as? [String: Any] else { throw TextEncoderError("\(path): the top level is not a JSON object") }
        self.object = object
    }

    init(object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    func error(_ key: String, _ reason: String) -> TextEncoderError {
        TextEncoderError("\(path): field \(key): \(reason)")
    }

    func has(_ key: String) -> Bool {
        guard let v = object[key] else { return false }
        return !(v is NSNull)
    }

    static func int(_ value: Any?) -> Int? {
        if let i = value as? Int { return i }
        guard let d = value as? Double, d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    func int(_ key: String, default d: Int? = nil, range: ClosedRange<Int> = 0...Int(Int32.max)) throws(TextEncoderError) -> Int {
        guard has(key) else {
            if let d { return d }
            throw error(key, "missing")
        }
        guard let n = Self.int(object[key]), range.contains(n) else { throw error(key, "expected an integer in \(range)") }
        return n
    }

    func float(_ key: String, default d: Float? = nil) throws(TextEncoderError) -> Float {
        guard has(key) else {
            if let d { return d }
            throw error(key, "missing")
        }
        guard let n = object[key] as? Double, n.isFinite else { throw error(key, "expected a number") }
        return Float(n)
    }

    func bool(_ key: String, default d: Bool) throws(TextEncoderError) -> Bool {
        guard has(key) else { return d }
        guard let b = object[key] as? Bool else { throw error(key, "expected true or false") }
        return b
    }

    func string(_ key: String, default d: String? = nil) throws(TextEncoderError) -> String {
        guard has(key) else {
            if let d { return d }
            throw error(key, "missing")
        }
        guard let s = object[key] as? String else { throw error(key, "expected a string") }
        return s
    }
}

/// Writes JSON with sorted keys and indentation, as a human would read it in a model folder.
func jsonData(_ object: Any) throws(TextEncoderError) -> Data {
    do { return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) } catch {
        throw TextEncoderError("cannot serialise JSON: \(error.localizedDescription)")
    }
}
