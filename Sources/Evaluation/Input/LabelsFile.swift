import FileSupport
import Foundation

/// Reads a labels file: one label per line, in the same order as the embedding rows.
public enum LabelsFile {
    /// Returns the labels; a trailing newline is fine, blank lines and surrounding spaces are errors
    /// because they almost always mean the file is out of step with the embeddings.
    public static func read(_ url: URL) throws(InputError) -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot read the file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: url.path, message: "the file is not UTF-8 text") }
        // "\r\n" is one Character in Swift, so both line endings are named explicitly.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw InputError(file: url.path, message: "the file is empty; expected one label per line") }
        var labels = [String]()
        labels.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            guard !line.isEmpty else { throw InputError(file: url.path, line: i + 1, field: "label", message: "empty label") }
            guard line.trimmingCharacters(in: .whitespaces) == line else {
                throw InputError(file: url.path, line: i + 1, field: "label", message: "label '\(line)' has leading or trailing spaces")
            }
            labels.append(String(line))
        }
        return labels
    }
}
