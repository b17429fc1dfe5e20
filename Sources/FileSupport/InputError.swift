/// A problem with an input file, located as precisely as possible: file, line and field.
///
/// The description reads like a compiler diagnostic (`pairs.csv:17: score: "abc" is not a number`)
/// so that a user can jump straight to the offending line.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, as the user named it.
    public let file: String
    /// 1-based line number, when the problem is on one line.
    public let line: Int?
    /// The column or field name, when the problem is in one field.
    public let field: String?
    /// What is wrong, in words.
    public let message: String

    /// Creates an error located at a file, and optionally a line and a field.
    /// - Parameters:
    ///   - file: The file, as the user named it.
    ///   - line: 1-based line number, or nil when the problem is not on one line (default nil).
    ///   - field: The column or field name, or nil (default nil).
    ///   - message: What is wrong, in words.
    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// `file:line: field: message`, leaving out the parts that are nil.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += "\(field): " }
        return s + message
    }
}
