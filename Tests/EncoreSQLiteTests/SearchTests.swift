import EncoreCore
import EncoreSQLite
import EncoreTestSupport
import Foundation
import Testing

/// The search contract on SQLite, each check on a database file of its own.
@Suite("Catalog search on SQLite", .timeLimit(.minutes(5)))
struct SearchTests {
    @Test("search", arguments: SearchContract.checks.map(\.0))
    func contract(name: String) async throws {
        try await SearchContract.run(name) {
            let directory = NSTemporaryDirectory() + "/encore-search-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let store = try SQLiteDataStore(path: directory + "/c.sqlite")
            return SearchContract.Backend(store: store, search: store.search, close: { closeThenRemove(store, directory) }) {
                let other = try SQLiteDataStore(path: directory + "/c.sqlite")  // as another process would open it
                return (other.search, { try? other.close() })
            }
        }
    }
}
