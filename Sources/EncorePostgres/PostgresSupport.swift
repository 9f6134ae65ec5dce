import EncoreCore
import Foundation
import Logging
import PostgresNIO

/// postgres-nio logs every query at debug level: the store's own statements stay out of the log.
let queryLogger = Logger(label: "encore.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

extension PostgresConnection {
    /// Runs a statement, discarding any rows.
    func run(_ query: PostgresQuery) async throws {
        for try await _ in try await self.query(query, logger: queryLogger) {}
    }

    /// Every row of a query, with columns by name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await self.query(query, logger: queryLogger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// The first row of a query, if any.
    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded; a value of the wrong type is a corrupt row.
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try self[column].decode(T.self, context: .default)
        } catch {
            throw EncoreError(.corruptRow, "Unexpected stored value in column \(column).")
        }
    }

    /// A date stored as seconds since 1970.
    func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: try value(column, as: Double.self)) }

    func optionalDate(_ column: String) throws -> Date? {
        try value(column, as: Double?.self).map(Date.init(timeIntervalSince1970:))
    }

    /// A JSON value stored as text.
    func json<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let text = try value(column, as: String?.self) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw EncoreError(.corruptRow, "Unexpected stored JSON in column \(column).")
        }
    }
}

extension Date {
    /// How dates are stored: seconds since 1970.
    var stored: Double { timeIntervalSince1970 }
}

/// A value as the JSON text stored for it.
func storedJSON<T: Encodable>(_ value: T?) throws -> String? {
    guard let value else { return nil }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// How PostgreSQL's errors become Encore's: the constraints a client can run into are conflicts with their
/// own codes; a server that is down, restarting or read-only (a replica) is `storage_unavailable`, which
/// clients retry; anything else is left as it is (a 500).
enum PostgresErrors {
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw mapped(error)
        }
    }

    static func mapped(_ error: any Error) -> any Error {
        if error is EncoreError || error is CancellationError { return error }
        if let transaction = error as? PostgresTransactionError {
            return mapped(transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? transaction.rollbackError ?? error)
        }
        guard let psql = error as? PSQLError else { return error }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? ""
            let constraint = psql.serverInfo?[.constraintName] ?? ""
            switch state {
            case "23505":
                switch constraint {
                case "app_user_email_key": return EncoreError(.emailTaken, "An account with that email exists already.")
                case "track_album_number_key": return EncoreError(.trackNumberTaken, "Another track of that album has that trackNumber.")
                case "track_source_key_key": return EncoreError(.uploadAlreadyUsed, "That upload belongs to another track.")
                default: return EncoreError(.conflict, "The change conflicts with the current state.")
                }
            case "23503": return EncoreError(.referenceMissing, "A referenced item no longer exists.")
            case "40001", "40P01", "55P03":
                return EncoreError(.storageUnavailable, "The database is busy; try again.")
            case "25006", "57P01", "57P02", "57P03", "53300":
                return EncoreError(.storageUnavailable, "The database is not accepting this now; try again.")
            default:
                if state.hasPrefix("08") { return EncoreError(.storageUnavailable, "The database cannot be reached; try again.") }
                return UnexpectedDatabaseError(state: state, message: psql.serverInfo?[.message] ?? "")
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown, .queryCancelled:
            return EncoreError(.storageUnavailable, "The database cannot be reached; try again.")
        default:
            return error
        }
    }
}

/// A PostgreSQL error Encore has no meaning for: a 500 for clients (who see none of it), and for the log
/// its SQLSTATE and message (postgres-nio's own description hides both; the detail, which can hold
/// values, is left out).
struct UnexpectedDatabaseError: Error, CustomStringConvertible {
    var state: String
    var message: String
    var description: String { "PostgreSQL error \(state): \(message)" }
}
