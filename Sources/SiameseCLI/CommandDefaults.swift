import ArgumentParser
import Foundation

/// Option values from the environment and an optional config file, for every command but
/// `serve` (which resolves its own settings, see `ServiceConfiguration`): flags first, then
/// `SIAMESE_<COMMAND>_<OPTION>` variables, then the config file's section for the command, then
/// the command's defaults.
///
/// ```sh
/// SIAMESE_SEARCH_K=20 siamese search --index x.hnsw --queries q.npy      # as if --k 20
/// SIAMESE_INDEX_BUILD_EF_CONSTRUCTION=400 siamese index build …            # --ef-construction 400
/// ```
///
/// The config file is JSON, named by `SIAMESE_CONFIG`, with one object per command
/// (`{"search": {"k": 20, "format": "jsonl"}, "index build": {"hnsw": true, "m": 32}}`); its other
/// keys are `serve`'s. Flags take `true`/`false`. Only options the command has are read (taken from
/// its help), so unrelated variables such as `SIAMESE_THREADS` never become unknown options; an
/// unknown key in the file is an error naming the file, the section and the key.
enum CommandDefaults {
    /// `arguments` (without the program name) with the defaults appended for options not given.
    static func apply(to arguments: [String], environment: [String: String]) throws -> [String] {
        let (path, command) = resolve(arguments)
        guard let command, !path.isEmpty, path != ["serve"], !arguments.contains("--help"), !arguments.contains("-h") else { return arguments }
        let options = Self.options(of: command)
        let section = try fileSection(path, options: options, environment: environment)
        let prefix = "SIAMESE_" + path.map(envName).joined(separator: "_") + "_"
        var added: [String] = []
        for (name, takesValue) in options.sorted(by: { $0.key < $1.key }) {
            let given = arguments.contains { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") }
            guard !given else { continue }
            let variable = prefix + envName(name)
            let value: String, source: String
            if let v = environment[variable] { (value, source) = (v, variable) }
            else if let v = section?.values[name] { (value, source) = (v, section!.source + " key '\(name)'") }
            else { continue }
            if takesValue {
                added += ["--\(name)", value]
            } else {
                switch value.lowercased() {
                case "1", "true", "yes": added.append("--\(name)")
                case "0", "false", "no", "": break
                default: throw ValidationError("\(source): --\(name) is a flag; give true or false, not '\(value)'")
                }
            }
        }
        guard !added.isEmpty else { return arguments }
        // Before a `--` terminator, if there is one, so the values stay options.
        var result = arguments
        result.insert(contentsOf: added, at: result.firstIndex(of: "--") ?? result.endIndex)
        return result
    }

    /// The leading subcommand names and the command they select.
    static func resolve(_ arguments: [String]) -> (path: [String], command: ParsableCommand.Type?) {
        var path: [String] = [], command: ParsableCommand.Type? = nil
        var candidates = SiameseCommand.configuration.subcommands
        for argument in arguments {
            guard let next = candidates.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            command = next
            candidates = next.configuration.subcommands
        }
        return (path, command)
    }

    /// The command's long options, and whether each takes a value, read from its help text.
    static func options(of command: ParsableCommand.Type) -> [String: Bool] {
        let help = SiameseCommand.helpMessage(for: command, includeHidden: false, columns: 10_000)
        var options: [String: Bool] = [:]
        let pattern = try! NSRegularExpression(pattern: #"--([a-z0-9][a-z0-9-]*)( <[^>]+>)?"#)
        for line in help.split(separator: "\n") {
            // Option lines: indented, starting with the option, then two spaces and the description.
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("  "), trimmed.hasPrefix("-") else { continue }
            let spec = trimmed.components(separatedBy: "  ")[0]
            for m in pattern.matches(in: spec, range: NSRange(spec.startIndex..., in: spec)) {
                guard let r = Range(m.range(at: 1), in: spec) else { continue }
                let name = String(spec[r])
                if name == "help" || name == "version" { continue }
                options[name] = (options[name] ?? false) || m.range(at: 2).location != NSNotFound
            }
        }
        return options
    }

    struct Section {
        let source: String
        let values: [String: String]
    }

    /// The config file's section for `path` (`"index build"`), checked against the command's options.
    static func fileSection(_ path: [String], options: [String: Bool], environment: [String: String]) throws -> Section? {
        guard let file = environment["SIAMESE_CONFIG"], !file.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file) (SIAMESE_CONFIG): cannot read the config file") }
        guard let object = try? JSONDecoder().decode([String: ConfigValue].self, from: data) else {
            throw ValidationError("\(file) (SIAMESE_CONFIG): the config file must be a JSON object")
        }
        let key = path.joined(separator: " ")
        guard let raw = object[key] else { return nil }
        let source = "\(file) section '\(key)'"
        guard case .object(let entries) = raw else { throw ValidationError("\(source): must be an object of option names and values") }
        var values: [String: String] = [:]
        for (name, value) in entries {
            guard options[name] != nil else {
                throw ValidationError("\(source): unknown option '\(name)' (known: \(options.keys.sorted().joined(separator: ", ")))")
            }
            guard let text = value.text else { throw ValidationError("\(source): '\(name)' must be a string, a number or a boolean") }
            values[name] = text
        }
        return Section(source: source, values: values)
    }

    /// A JSON value of the config file; JSONDecoder keeps `true` and `1` apart.
    enum ConfigValue: Decodable {
        case bool(Bool), number(Double), string(String), object([String: ConfigValue]), other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let o = try? c.decode([String: ConfigValue].self) { self = .object(o) }
            else { self = .other }
        }

        /// The value as a command-line argument (whole numbers without a decimal point).
        var text: String? {
            switch self {
            case .bool(let b): b ? "true" : "false"
            case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
            case .string(let s): s
            case .object, .other: nil
            }
        }
    }

    private static func envName(_ s: String) -> String { s.uppercased().replacingOccurrences(of: "-", with: "_") }
}
