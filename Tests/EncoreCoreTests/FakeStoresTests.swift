import EncoreCore
import EncoreTestSupport
import Foundation
import Testing

/// The in-memory fakes the service tests use are held to the very contracts the real stores pass.
@Suite("In-memory fakes pass the shared contracts", .timeLimit(.minutes(1)))
struct FakeStoresTests {
    @Test("InMemoryDataStore: data store contract", arguments: DataStoreContract.checks.map(\.0))
    func dataStore(name: String) async throws {
        try await DataStoreContract.run(name, on: InMemoryDataStore())
    }

    @Test("InMemoryDataStore behind the read cache: data store contract", arguments: DataStoreContract.checks.map(\.0))
    func cachedDataStore(name: String) async throws {
        try await DataStoreContract.run(name, on: CachedDataStore(InMemoryDataStore(), cache: ReadCache(maxAge: .seconds(3600))))
    }

    @Test("InMemoryDataStore: job queue contract", arguments: JobQueueContract.checks.map(\.0))
    func jobQueue(name: String) async throws {
        let check = try #require(JobQueueContract.checks.first { $0.0 == name }?.1)
        try await check(InMemoryDataStore().jobs)
    }

    @Test("InMemoryBlobStore: blob store contract", arguments: BlobStoreContract.checks.map(\.0))
    func blobStore(name: String) async throws {
        let check = try #require(BlobStoreContract.checks.first { $0.0 == name }?.1)
        try await check(InMemoryBlobStore())
    }
}
