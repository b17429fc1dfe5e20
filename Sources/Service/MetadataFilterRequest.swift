import EmbeddingStore

/// The `"filter"` of `POST /v1/search`, in the MongoDB / Chroma style:
/// `{"lang": "en", "year": {"$gte": 2020, "$lt": 2024}, "tag": {"$in": ["a", "b"]},
/// "status": {"$ne": "closed"}, "owner": {"$exists": true}}`. A plain value means equality;
/// an object holds operators, all of which must hold. Every mistake is a 400 naming its field
/// (`filter.year.$gte`).
enum MetadataFilterRequest {
    static let operators: Set<String> = ["$eq", "$ne", "$in", "$gt", "$gte", "$lt", "$lte", "$exists"]

    static func parse(_ filter: JSONObject) throws(APIError) -> MetadataFilter {
        var conditions: [(key: String, condition: MetadataFilter.Condition)] = []
        for key in filter.fields.keys.sorted() {
            do { try MetadataFilter.check(key: key) } catch {
                throw APIError(.invalidValue, error.message, field: filter.path)
            }
            let field = filter.name(key)
            switch filter.fields[key]! {
            case .object(let ops):
                guard !ops.isEmpty else {
                    throw APIError(.invalidValue, "'\(field)' holds no operator (use \(operators.sorted().joined(separator: ", ")))", field: field)
                }
                for op in ops.keys.sorted() {
                    conditions.append((key, try condition(op, ops[op]!, field: "\(field).\(op)")))
                }
            case let value:
                conditions.append((key, .equal(try scalar(value, field: field))))
            }
            // Checked as they grow, so that a huge filter is refused before it is all read.
            guard conditions.count <= MetadataFilter.maxConditions else {
                throw APIError(.invalidValue, "'\(filter.path)' holds more than \(MetadataFilter.maxConditions) conditions", field: filter.path)
            }
        }
        do { return try MetadataFilter(conditions) } catch {
            // Unreachable after the checks above; kept a 400 rather than a 500 all the same.
            throw APIError(.invalidValue, error.message, field: error.key.map { filter.name($0) } ?? filter.path)
        }
    }

    static func condition(_ op: String, _ value: JSONValue, field: String) throws(APIError) -> MetadataFilter.Condition {
        switch op {
        case "$eq": return .equal(try scalar(value, field: field))
        case "$ne": return .notEqual(try scalar(value, field: field))
        case "$in":
            guard case .array(let values) = value else {
                throw APIError(.wrongType, "'\(field)' must be an array, got \(value.typeName)", field: field)
            }
            guard values.count <= MetadataFilter.maxListValues else {
                throw APIError(.invalidValue, "'\(field)' holds \(values.count) values; at most \(MetadataFilter.maxListValues)", field: field)
            }
            var list: [MetadataFilter.Value] = []
            for (i, v) in values.enumerated() { list.append(try scalar(v, field: "\(field)[\(i)]")) }
            return .in(list)
        case "$gt", "$gte", "$lt", "$lte":
            let comparison: MetadataFilter.Comparison = switch op {
            case "$gt": .greater
            case "$gte": .greaterOrEqual
            case "$lt": .less
            default: .lessOrEqual
            }
            guard let n = try number(value, field: field) else {
                throw APIError(.wrongType, "'\(field)' must be a number, got \(value.typeName)", field: field)
            }
            return .compare(comparison, n)
        case "$exists":
            guard case .bool(let b) = value else {
                throw APIError(.wrongType, "'\(field)' must be true or false, got \(value.typeName)", field: field)
            }
            return .exists(b)
        default:
            throw APIError(.invalidValue, "unknown filter operator '\(op)' (allowed: \(operators.sorted().joined(separator: ", ")))", field: field)
        }
    }

    /// A string, a number or a boolean.
    static func scalar(_ value: JSONValue, field: String) throws(APIError) -> MetadataFilter.Value {
        switch value {
        case .string(let s):
            // No stored value holds a raw NUL, and SQLite would cut the bound text at it.
            guard !EmbeddingStore.holdsNUL(s) else { throw APIError(.invalidValue, "'\(field)' holds a NUL character", field: field) }
            return .string(s)
        case .bool(let b): return .bool(b)
        default:
            guard let n = try number(value, field: field) else {
                throw APIError(.wrongType, "'\(field)' must be a string, a number or a boolean, got \(value.typeName)", field: field)
            }
            return .number(n)
        }
    }

    /// The number (nil when `value` is not one); integers beyond 2⁵³ stay exact.
    static func number(_ value: JSONValue, field: String) throws(APIError) -> MetadataFilter.Number? {
        switch value {
        case .integer(let i): return .integer(i)
        case .number(let d):
            guard d.isFinite else { throw APIError(.invalidValue, "'\(field)' must be a finite number", field: field) }
            return .real(d)
        default: return nil
        }
    }
}
