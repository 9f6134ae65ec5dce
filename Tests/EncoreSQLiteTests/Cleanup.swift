import EncoreSQLite
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Closes `store`, then deletes `directory`. A database file is deleted only once every connection to it
/// is closed: SQLite shares lock state between connections to one inode, and a deleted file's inode can
/// come back as another test's database (seen as "disk I/O error" in an unrelated test). Work still in
/// flight (a runner's last heartbeat) gets a moment to finish; a store that will not close fails the test
/// and keeps its files.
func closeThenRemove(_ store: SQLiteDataStore, _ directory: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var lastError: (any Error)?
    for attempt in 0..<100 {
        do {
            try store.close()
            if attempt > 0 { print("closeThenRemove: closed after \(attempt) retries (\(String(describing: lastError)))") }
            try? FileManager.default.removeItem(atPath: directory)
            return
        } catch {
            lastError = error
            usleep(20_000)
        }
    }
    Issue.record("the database did not close: \(String(describing: lastError)); \(directory) is left in place", sourceLocation: sourceLocation)
}
