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

@Suite("The read cache", .timeLimit(.minutes(1)))
struct ReadCacheTests {
    @Test("a transaction that touches no cached aggregate (a play, a job) keeps the cache; one that does empties it")
    func selectiveInvalidation() async throws {
        let base = InMemoryDataStore()
        let cached = CachedDataStore(base, cache: ReadCache(maxAge: .seconds(3600)))
        let (owner, _, album) = try await DataStoreContract.seed(cached)
        let track = try await cached.tracks.insertTrack(DataStoreContract.track(album: album))
        #expect(try await cached.accounts.user(id: owner.id)?.displayName == owner.displayName)  // now cached
        _ = try await base.accounts.updateUser(id: owner.id, newPasswordHash: nil) { $0.displayName = "Changed elsewhere" }

        try await cached.transaction { tx in
            _ = try await tx.plays.recordPlay(Play(id: UUID(), userId: owner.id, trackId: track.id, playedAt: Date(), msPlayed: 40_000, counts: true))
            try await tx.jobs.enqueue(JobRequest(kind: "k", payload: ""))
        }
        #expect(try await cached.accounts.user(id: owner.id)?.displayName == owner.displayName)  // still the cached copy

        try await cached.transaction { tx in _ = try await tx.tracks.updateTrack(id: track.id) { $0.title = "Renamed" } }
        #expect(try await cached.accounts.user(id: owner.id)?.displayName == "Changed elsewhere")  // emptied
    }

    @Test("rows read inside a transaction that rolls back are never cached")
    func uncommittedReadsAreNotRemembered() async throws {
        let cached = CachedDataStore(InMemoryDataStore(), cache: ReadCache(maxAge: .seconds(3600)))
        let (_, _, album) = try await DataStoreContract.seed(cached)
        let doomed = DataStoreContract.track(album: album)
        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await cached.transaction { tx in
                _ = try await tx.tracks.insertTrack(doomed)
                #expect(try await tx.tracks.track(id: doomed.id) != nil)
                throw Abandoned()
            }
        }
        #expect(try await cached.tracks.track(id: doomed.id) == nil)
    }
}
