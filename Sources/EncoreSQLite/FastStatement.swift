import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps a prepared GRDB statement through the SQLite C API, for the bulk paths (imports,
/// index rebuilds) where building `StatementArguments` for millions of rows costs more than SQLite does.
/// Used only inside a GRDB write transaction, on the statement's own connection.
struct FastStatement {
    let statement: Statement
    private var index: Int32 = 0

    init(_ statement: Statement) {
        self.statement = statement
        // GRDB resets its statements lazily: one it ran last may still be mid-step, or hold its bindings.
        sqlite3_reset(statement.sqliteStatement)
        sqlite3_clear_bindings(statement.sqliteStatement)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement.sqliteStatement, index, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    mutating func bind(_ value: Double) {
        index += 1
        sqlite3_bind_double(statement.sqliteStatement, index, value)
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard let value else {
            sqlite3_bind_null(statement.sqliteStatement, index)
            return
        }
        sqlite3_bind_text(statement.sqliteStatement, index, value, -1, Self.transient)
    }

    /// UUIDs as the 16-byte blobs GRDB stores.
    mutating func bind(_ value: UUID) {
        index += 1
        var uuid = value.uuid
        withUnsafeBytes(of: &uuid) { bytes in
            _ = sqlite3_bind_blob(statement.sqliteStatement, index, bytes.baseAddress, 16, Self.transient)
        }
    }

    /// Runs the statement with the values bound so far, then clears them for the next row.
    mutating func step() throws {
        defer {
            sqlite3_reset(statement.sqliteStatement)
            index = 0
        }
        let code = sqlite3_step(statement.sqliteStatement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))))
        }
    }
}
