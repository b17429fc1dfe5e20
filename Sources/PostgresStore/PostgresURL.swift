import Foundation

/// Where a PostgreSQL store is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`
/// (`postgresql://` too), as `--store` takes it.
///
/// The password is best kept out of the URL (shell history, process lists): it is then taken from
/// `PGPASSWORD` or from a password file. Whatever its source, it never appears in
/// ``redacted``, which is the only form of the URL that messages, logs and metrics show.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How to use TLS (`?sslmode=`).
    public enum SSLMode: String, Sendable, Equatable {
        /// Plain TCP (the default: the usual case is a database on the same host or network).
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection (the server's certificate is verified).
        case require
    }

    /// The role to connect as.
    public var user: String
    /// The password, when the URL or the caller gave one (never shown).
    public var password: String?
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port (default 5432).
    public var port: Int
    /// The database.
    public var database: String
    /// TLS use.
    public var sslMode: SSLMode

    /// Whether `location` names a PostgreSQL store rather than a file.
    public static func isPostgres(_ location: String) -> Bool {
        let l = location.lowercased()
        return l.hasPrefix("postgres://") || l.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Parameters:
    ///   - string: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`;
    ///     user, password and database may be percent-encoded.
    /// - Throws: ``PostgresURLError`` naming what is wrong; its message never holds the password.
    public init(_ string: String) throws(PostgresURLError) {
        guard string.utf8.count <= 4096 else { throw PostgresURLError("the URL is longer than 4096 bytes") }
        guard let schemeEnd = string.range(of: "://"),
              ["postgres", "postgresql"].contains(string[..<schemeEnd.lowerBound].lowercased()) else {
            throw PostgresURLError("a PostgreSQL store is named postgres://USER@HOST:PORT/DATABASE")
        }
        var rest = Substring(string[schemeEnd.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        guard let slash = rest.firstIndex(of: "/") else { throw PostgresURLError("no database: end the URL with /DATABASE") }
        let authority = rest[..<slash]
        let path = rest[rest.index(after: slash)...]
        guard !path.isEmpty, !path.contains("/") else { throw PostgresURLError("the database name after the host is missing or holds '/'") }
        guard let database = Self.decode(path), !database.isEmpty else { throw PostgresURLError("the database name is not valid percent-encoded UTF-8") }
        // The last '@' separates credentials from the host: a password may hold '@' only encoded,
        // but users do paste them raw.
        guard let at = authority.lastIndex(of: "@") else { throw PostgresURLError("no user: write postgres://USER@HOST:PORT/DATABASE") }
        let credentials = authority[..<at], hostPort = authority[authority.index(after: at)...]
        let rawUser: Substring, rawPassword: Substring?
        if let colon = credentials.firstIndex(of: ":") {
            rawUser = credentials[..<colon]; rawPassword = credentials[credentials.index(after: colon)...]
        } else {
            rawUser = credentials; rawPassword = nil
        }
        guard let user = Self.decode(rawUser), !user.isEmpty else { throw PostgresURLError("the user name is empty or not valid percent-encoded UTF-8") }
        var password: String?
        if let rawPassword {
            guard let p = Self.decode(rawPassword) else { throw PostgresURLError("the password is not valid percent-encoded UTF-8") }
            password = p
        }
        let (host, port) = try Self.hostPort(hostPort)
        var sslMode = SSLMode.disable
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]), value = kv.count > 1 ? String(kv[1]) : ""
            switch key {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else { throw PostgresURLError("sslmode must be disable, prefer or require, not '\(Self.printable(value))'") }
                sslMode = mode
            default:
                throw PostgresURLError("unknown parameter '\(Self.printable(key))' (known: sslmode)")
            }
        }
        for (name, value) in [("user", user), ("database", database)] where value.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }) {
            throw PostgresURLError("the \(name) name holds a control character")
        }
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL without its password: the only form shown anywhere.
    public var redacted: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let ssl = sslMode == .disable ? "" : "?sslmode=\(sslMode.rawValue)"
        return "postgres://\(Self.encode(user))@\(h):\(port)/\(Self.encode(database))\(ssl)"
    }

    /// The redacted URL.
    public var description: String { redacted }

    /// `HOST[:PORT]` or `[IPV6][:PORT]`.
    static func hostPort(_ s: Substring) throws(PostgresURLError) -> (String, Int) {
        var host: Substring, portText: Substring?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw PostgresURLError("an IPv6 host opened with '[' is not closed with ']'") }
            host = s[s.index(after: s.startIndex)..<close]
            let after = s[s.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw PostgresURLError("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = s.lastIndex(of: ":") {
            host = s[..<colon]; portText = s[s.index(after: colon)...]
        } else {
            host = s
        }
        guard !host.isEmpty else { throw PostgresURLError("no host: write postgres://USER@HOST:PORT/DATABASE") }
        guard host.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._:".unicodeScalars.contains($0)) }) else {
            throw PostgresURLError("the host '\(printable(String(host)))' holds characters a host name cannot")
        }
        var port = 5432
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw PostgresURLError("the port '\(printable(String(portText)))' is not a number from 1 to 65535") }
            port = p
        }
        return (String(host), port)
    }

    static func decode(_ s: Substring) -> String? { String(s).removingPercentEncoding }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// A piece of the URL for a message: at most 64 characters, control characters escaped.
    static func printable(_ s: String) -> String {
        let cut = s.count > 64 ? String(s.prefix(64)) + "…" : s
        return cut.unicodeScalars.map { $0.value < 0x20 || $0 == "\u{7F}" ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}

/// A `postgres://` URL that cannot be used; the message never holds the password.
public struct PostgresURLError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    init(_ message: String) { self.message = message }
    /// The message, prefixed so that it names what was being read.
    public var description: String { "--store URL: \(message)" }
}
