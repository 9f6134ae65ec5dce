import EncoreCore
import Foundation
import PostgresNIO

/// A PostgreSQL server and database, parsed from a `postgres://` (or `postgresql://`) URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&schema=NAME]`.
///
/// `schema` puts Encore's tables in a schema of their own (the tests give each check one); the server's
/// `search_path` is set to it when connecting.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var schema: String?

    /// Parses the URL; throws ``InvalidPostgresURL`` with what is wrong.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else { throw Self.invalid(url, "expected postgres://USER@HOST[:PORT]/DATABASE") }
        guard let host = components.host, !host.isEmpty else { throw Self.invalid(url, "no host") }
        guard let user = components.user, !user.isEmpty else { throw Self.invalid(url, "no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw Self.invalid(url, "no database name") }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        var tls = TLSMode.prefer
        var schema: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw Self.invalid(url, "sslmode must be disable, prefer or require")
                }
                tls = mode
            case "schema":
                guard let name = item.value, Self.isPlainIdentifier(name) else {
                    throw Self.invalid(url, "schema must be letters, digits and underscores")
                }
                schema = name
            default:
                throw Self.invalid(url, "unknown parameter \(item.name) (known: sslmode, schema)")
            }
        }
        self.tls = tls
        self.schema = schema
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        var text = "postgres://\(username)@\(host):\(port)/\(database)"
        var parameters: [String] = []
        if tls != .prefer { parameters.append("sslmode=\(tls.rawValue)") }
        if let schema { parameters.append("schema=\(schema)") }
        if !parameters.isEmpty { text += "?" + parameters.joined(separator: "&") }
        return text
    }

    /// The same server and database with the tables in `schema`.
    public func inSchema(_ schema: String) -> PostgresLocation {
        var copy = self
        copy.schema = schema
        return copy
    }

    func clientConfiguration(maxConnections: Int) -> PostgresClient.Configuration {
        let tlsSetting: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsSetting)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(3)
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        return configuration
    }

    /// A single connection configured like the pool's (the listening connection).
    func connectionConfiguration() -> PostgresConnection.Configuration {
        let tlsSetting: PostgresConnection.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: (try? .prefer(.init(configuration: .makeClientConfiguration()))) ?? .disable
            case .require: (try? .require(.init(configuration: .makeClientConfiguration()))) ?? .disable
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsSetting)
        configuration.options.connectTimeout = .seconds(3)
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        return configuration
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            && !("0"..."9").contains(name.unicodeScalars.first!)
    }

    static func invalid(_ url: String, _ why: String) -> InvalidPostgresURL {
        InvalidPostgresURL(reason: why)
    }
}

/// A `postgres://` URL that cannot be used. It says what is wrong but not the URL, which may hold a password.
public struct InvalidPostgresURL: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "not a usable PostgreSQL URL: \(reason)" }
}
