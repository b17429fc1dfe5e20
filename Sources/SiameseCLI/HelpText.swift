/// `--help` discussions are written wrapped at the source's width; ArgumentParser wraps them again
/// at the terminal's, which broke every long line mid-sentence. `reflow` joins the lines of each
/// plain paragraph into one, so that the terminal wraps it once; indented lines (examples, lists,
/// continuations) and blank lines stay as written.
enum HelpText {
    /// The discussion with each run of unindented, non-blank lines joined by spaces (a line after
    /// one ending in a colon, and a short heading line ending in one, start anew).
    static func reflow(_ text: String) -> String {
        var out: [String] = []
        var joining = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let plain = !line.isEmpty && !line.hasPrefix(" ")
            // A short line ending in a colon ("Examples:") heads what follows: never joined.
            let heading = line.hasSuffix(":") && line.count <= 40
            if plain, joining, !heading, let last = out.last, !last.hasSuffix(":") {
                out[out.count - 1] = last + " " + line
            } else {
                out.append(line)
            }
            joining = plain
        }
        return out.joined(separator: "\n")
    }
}
