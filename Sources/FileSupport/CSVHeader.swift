/// The header row of a CSV file: column names, each named once, looked up by name with errors
/// that name the file, the line and the column (one helper for every reader of named columns).
public struct CSVHeader: Sendable {
    /// The column names, in file order.
    public let names: [String]
    /// The file, for error messages.
    public let file: String
    /// The header's line number.
    public let line: Int

    /// Checks that no column is named twice (a reader would silently pick one of them).
    /// - Parameters:
    ///   - names: the header's fields.
    ///   - file: the file's name in errors.
    ///   - line: the header's line number.
    public init(_ names: [String], file: String, line: Int) throws(InputError) {
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted {
            throw InputError(file: file, line: line, field: n, message: "the header names column '\(n)' twice")
        }
        self.names = names
        self.file = file
        self.line = line
    }

    /// The position of column `name`, or an error listing the columns there are.
    public func index(of name: String) throws(InputError) -> Int {
        guard let i = names.firstIndex(of: name) else {
            throw InputError(file: file, line: line, field: name, message: "missing column '\(name)'; the header has: \(names.joined(separator: ", "))")
        }
        return i
    }
}
