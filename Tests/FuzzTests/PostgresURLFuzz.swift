import Foundation
import PostgresStore
import Testing

/// `--store postgres://…` (`PostgresURL`: every command with --store, and `serve`).
struct PostgresURLTarget: FuzzTarget {
    let name = "postgres-url"
    let quickIterations = 3000

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.bytes(seed, pool: pool, dictionary: ["postgres://", "postgresql://", "@", ":", "/", "?", "&", "=", "[", "]", "%", "%00", "%40",
                                               "sslmode=", "require", "65535", "99999", "::1", "\u{0}", "\n"])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let text = String(decoding: input, as: UTF8.self)
        let url: PostgresURL
        do { url = try PostgresURL(text) } catch {
            // Messages are built from what follows the credentials (host, port, parameters) only.
            if let scheme = text.range(of: "://") {
                let rest = text[scheme.upperBound...]
                let authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex)]
                guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return .rejected(kind: "PostgresURLError") }
                let password = authority[authority.index(after: colon)..<at]
                // (A mutation may copy the same text into the query, whose values messages do quote.)
                if password.count >= 8, error.description.contains(password), !rest[authority.endIndex...].contains(password) {
                    return .violation("the error shows the password: \(error)")
                }
            }
            return .rejected(kind: "PostgresURLError")
        }
        // Accepted: the redacted form has no password and parses back to the same place.
        guard let back = try? PostgresURL(url.redacted) else { return .violation("the redacted form does not parse: \(url.redacted)") }
        guard back.password == nil, back.user == url.user, back.host == url.host, back.port == url.port,
              back.database == url.database, back.sslMode == url.sslMode else {
            return .violation("the redacted form \(url.redacted) names another place than \(text)")
        }
        if let pw = url.password, pw.count >= 6, url.redacted.contains(pw), !url.user.contains(pw), !url.database.contains(pw), !url.host.contains(pw) {
            return .violation("the redacted form shows the password: \(url.redacted)")
        }
        guard (1...65535).contains(url.port), !url.host.isEmpty, !url.user.isEmpty, !url.database.isEmpty else {
            return .violation("accepted an empty part or a bad port: \(url.redacted)")
        }
        return .accepted
    }
}

@Suite("fuzz: postgres:// URLs") struct PostgresURLFuzz {
    @Test("corpus replay, then mutated URLs: parsed with a redacted form that names the same place, or a PostgresURLError; never the password")
    func fuzz() async throws { try await Fuzz.run(PostgresURLTarget()) }
}
