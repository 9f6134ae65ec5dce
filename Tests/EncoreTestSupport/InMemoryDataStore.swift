import EncoreCore
import Foundation
import Synchronization

/// A ``DataStore`` in memory, for fast tests of the services. It passes the same ``DataStoreContract``
/// and ``JobQueueContract`` as SQLite (its own suite runs them), so what a test proves against it holds
/// for the real store's rules too: unique emails and track numbers, cascades, transactions.
///
/// A transaction works on a copy of the whole state and publishes it on commit; transactions and writes
/// take one gate, so they never interleave (SQLite's single writer, in miniature).
public struct InMemoryDataStore: DataStore {
    let storage: Storage
    /// Nil outside a transaction; the transaction's working copy inside one.
    let working: WorkingCopy?

    public init() {
        storage = Storage()
        working = nil
    }

    init(storage: Storage, working: WorkingCopy?) {
        self.storage = storage
        self.working = working
    }

    public var accounts: any AccountRepository { MemoryAccounts(access: access) }
    public var catalog: any CatalogRepository { MemoryCatalog(access: access) }
    public var tracks: any TrackRepository { MemoryTracks(access: access) }
    public var playlists: any PlaylistRepository { MemoryPlaylists(access: access) }
    public var plays: any PlayRepository { MemoryPlays(access: access) }
    public var appPasswords: any AppPasswordRepository { MemoryAppPasswords(access: access) }
    public var listeners: any ListenerRepository { MemoryListeners(access: access) }
    public var browse: any BrowseRepository { MemoryBrowse(access: access) }
    public var jobs: any JobQueue { MemoryJobs(access: access) }
    public var searchIndex: any SearchIndexWriter { RecordingSearchIndex(access: access) }

    /// What the services asked the search index to do, in order (committed work only).
    public var indexLog: [String] { storage.committed.withLock { $0.indexLog } }

    public func ping() async throws {}

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any DataStore) async throws -> T) async throws -> T {
        if working != nil { return try await body(self) }
        return try await storage.gate.withGate {
            let copy = WorkingCopy(storage.committed.withLock { $0 })
            let result = try await body(InMemoryDataStore(storage: storage, working: copy))
            let final = copy.state.withLock { $0 }
            storage.committed.withLock { $0 = final }
            return result
        }
    }

    var access: StateAccess { StateAccess(storage: storage, working: working) }
}

/// Everything stored, as plain values.
struct MemoryState: Sendable {
    var users: [UUID: (user: User, hash: String)] = [:]
    var artists: [UUID: Artist] = [:]
    var albums: [UUID: Album] = [:]
    var tracks: [UUID: Track] = [:]
    var fingerprints: [UUID: FingerprintCandidate] = [:]
    var playlists: [UUID: Playlist] = [:]
    var slots: [UUID: [PlaylistSlot]] = [:]
    var plays: [UUID: Play] = [:]
    var appPasswords: [UUID: (password: AppPassword, sealed: Data, lookup: Data)] = [:]
    /// Stars and ratings by user and item; `sequence` orders stars of the same instant as SQLite's row ids do.
    var stars: [ListenerMark: (starredAt: Date, sequence: Int)] = [:]
    var ratings: [ListenerMark: Int] = [:]
    var nextStarSequence = 0
    var playQueues: [UUID: PlayQueue] = [:]
    var jobs: [Int64: Job] = [:]
    var nextJobId: Int64 = 1
    var indexLog: [String] = []
}

final class Storage: Sendable {
    let committed = Mutex(MemoryState())
    let gate = AsyncGate()
}

final class WorkingCopy: Sendable {
    let state: Mutex<MemoryState>
    init(_ state: MemoryState) { self.state = Mutex(state) }
}

/// Reads and writes of one store: on the committed state (writes through the gate), or on a
/// transaction's working copy.
struct StateAccess: Sendable {
    let storage: Storage
    let working: WorkingCopy?

    func read<T: Sendable>(_ body: (MemoryState) throws -> T) throws -> T {
        if let working { return try working.state.withLock { try body($0) } }
        return try storage.committed.withLock { try body($0) }
    }

    /// Applies `body` to a copy and keeps the copy only if `body` returns: every write is all or nothing.
    func write<T: Sendable>(_ body: @escaping @Sendable (inout MemoryState) throws -> T) async throws -> T {
        func apply(_ state: borrowing Mutex<MemoryState>) throws -> T {
            try state.withLock { current in
                var copy = current
                let result = try body(&copy)
                current = copy
                return result
            }
        }
        if let working { return try apply(working.state) }
        return try await storage.gate.withGate { try apply(storage.committed) }
    }
}

private func conflict(_ code: ErrorCode, _ message: String) -> EncoreError { EncoreError(code, message) }
let missingReference = EncoreError(.referenceMissing, "A referenced item no longer exists.")

extension MemoryState {
    func page<T>(_ items: [T], _ page: PageRequest) -> Page<T> {
        Page(fetched: Array(items.dropFirst(page.offset).prefix(page.limit + 1)), request: page)
    }

    /// Removes tracks and everything that points at them; returns their ids, sorted.
    mutating func removeTracks(where predicate: (Track) -> Bool) -> [UUID] {
        let ids = tracks.values.filter(predicate).map(\.id).sorted { $0.uuidString < $1.uuidString }
        for id in ids {
            tracks[id] = nil
            fingerprints[id] = nil
            plays = plays.filter { $0.value.trackId != id }
            for (playlist, entries) in slots { slots[playlist] = entries.filter { $0.trackId != id } }
        }
        return ids
    }

    mutating func removeArtists(_ ids: [UUID]) -> Removed {
        let albumIds = albums.values.filter { ids.contains($0.artistId) }.map(\.id)
        let trackIds = removeTracks { ids.contains($0.artistId) }
        for id in albumIds { albums[id] = nil }
        for id in ids { artists[id] = nil }
        return Removed(artistIds: ids, albumIds: albumIds, trackIds: trackIds)
    }

    func checkTrackConstraints(_ track: Track) throws {
        guard albums[track.albumId] != nil, artists[track.artistId] != nil else { throw missingReference }
        if tracks.values.contains(where: { $0.id != track.id && $0.albumId == track.albumId && $0.trackNumber == track.trackNumber }) {
            throw conflict(.trackNumberTaken, "Another track of that album has that trackNumber.")
        }
        if let key = track.sourceKey, tracks.values.contains(where: { $0.id != track.id && $0.sourceKey == key }) {
            throw conflict(.uploadAlreadyUsed, "That upload belongs to another track.")
        }
    }

    func playlist(_ id: UUID) -> Playlist? {
        guard var playlist = playlists[id] else { return nil }
        playlist.trackCount = slots[id]?.count ?? 0
        return playlist
    }
}

private func byName(_ lhs: Artist, _ rhs: Artist) -> Bool {
    let (left, right) = (lhs.name.lowercased(), rhs.name.lowercased())
    return left != right ? left < right : lhs.id.uuidString < rhs.id.uuidString
}

struct MemoryAccounts: AccountRepository {
    let access: StateAccess

    func insertUser(_ user: User, passwordHash: String) async throws {
        try await access.write { state in
            guard !state.users.values.contains(where: { $0.user.email == user.email }) else {
                throw conflict(.emailTaken, "An account with that email exists already.")
            }
            state.users[user.id] = (user, passwordHash)
        }
    }

    func user(id: UUID) async throws -> User? { try access.read { $0.users[id]?.user } }

    func credentials(email: String) async throws -> (user: User, passwordHash: String)? {
        try access.read { state in state.users.values.first { $0.user.email == email }.map { ($0.user, $0.hash) } }
    }

    func updateUser(id: UUID, newPasswordHash: String?, _ change: @escaping @Sendable (inout User) throws -> Void) async throws -> User {
        try await access.write { state in
            guard let stored = state.users[id] else { throw EncoreError.notFound(.userNotFound) }
            var user = stored.user
            try change(&user)
            if state.users.values.contains(where: { $0.user.id != id && $0.user.email == user.email }) {
                throw conflict(.emailTaken, "An account with that email exists already.")
            }
            state.users[id] = (user, newPasswordHash ?? stored.hash)
            return user
        }
    }

    func deleteUser(id: UUID) async throws -> Removed {
        try await access.write { state in
            guard state.users[id] != nil else { throw EncoreError.notFound(.userNotFound) }
            let artistIds = state.artists.values.filter { $0.ownerId == id }.map(\.id)
            let removed = state.removeArtists(artistIds)
            for playlist in state.playlists.values where playlist.ownerId == id {
                state.playlists[playlist.id] = nil
                state.slots[playlist.id] = nil
            }
            state.plays = state.plays.filter { $0.value.userId != id }
            state.appPasswords = state.appPasswords.filter { $0.value.password.userId != id }
            state.users[id] = nil
            return removed
        }
    }
}

struct MemoryCatalog: CatalogRepository {
    let access: StateAccess

    func insertArtist(_ artist: Artist) async throws {
        try await access.write { state in
            guard state.users[artist.ownerId] != nil else { throw missingReference }
            state.artists[artist.id] = artist
        }
    }

    func artist(id: UUID) async throws -> Artist? { try access.read { $0.artists[id] } }

    func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try access.read { state in
            state.page(state.artists.values.filter { ownerId == nil || $0.ownerId == ownerId }.sorted(by: byName), page)
        }
    }

    func artists(ids: [UUID]) async throws -> [UUID: Artist] {
        try access.read { state in state.artists.filter { ids.contains($0.key) } }
    }

    func updateArtist(id: UUID, _ change: @escaping @Sendable (inout Artist) throws -> Void) async throws -> (before: Artist, after: Artist) {
        try await access.write { state in
            guard let before = state.artists[id] else { throw EncoreError.notFound(.artistNotFound) }
            var after = before
            try change(&after)
            state.artists[id] = after
            return (before, after)
        }
    }

    func deleteArtist(id: UUID) async throws -> Removed {
        try await access.write { state in
            guard state.artists[id] != nil else { throw EncoreError.notFound(.artistNotFound) }
            return state.removeArtists([id])
        }
    }

    func insertAlbum(_ album: Album) async throws {
        try await access.write { state in
            guard state.artists[album.artistId] != nil else { throw missingReference }
            state.albums[album.id] = album
        }
    }

    func album(id: UUID) async throws -> Album? { try access.read { $0.albums[id] } }

    func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        try access.read { state in
            let sorted = state.albums.values.filter { $0.artistId == artistId }.sorted { lhs, rhs in
                switch (lhs.releaseDate, rhs.releaseDate) {
                case (let left?, let right?) where left != right: return left < right
                case (.some, nil): return true
                case (nil, .some): return false
                default: return lhs.createdAt != rhs.createdAt ? lhs.createdAt < rhs.createdAt : lhs.id.uuidString < rhs.id.uuidString
                }
            }
            return state.page(sorted, page)
        }
    }

    func albums(ids: [UUID]) async throws -> [UUID: Album] {
        try access.read { state in state.albums.filter { ids.contains($0.key) } }
    }

    func updateAlbum(id: UUID, _ change: @escaping @Sendable (inout Album) throws -> Void) async throws -> (before: Album, after: Album) {
        try await access.write { state in
            guard let before = state.albums[id] else { throw EncoreError.notFound(.albumNotFound) }
            var after = before
            try change(&after)
            state.albums[id] = after
            return (before, after)
        }
    }

    func deleteAlbum(id: UUID) async throws -> Removed {
        try await access.write { state in
            guard state.albums[id] != nil else { throw EncoreError.notFound(.albumNotFound) }
            let trackIds = state.removeTracks { $0.albumId == id }
            state.albums[id] = nil
            return Removed(albumIds: [id], trackIds: trackIds)
        }
    }
}

struct MemoryTracks: TrackRepository {
    let access: StateAccess

    func insertTrack(_ track: Track) async throws -> Track {
        try await access.write { state in
            var track = track
            if track.trackNumber == 0 {
                let highest = state.tracks.values.filter { $0.albumId == track.albumId }.map(\.trackNumber).max() ?? 0
                guard highest < Validate.maxTrackNumber else {
                    throw conflict(.trackNumberTaken, "The album's last track number (\(Validate.maxTrackNumber)) is taken; give a trackNumber.")
                }
                track.trackNumber = highest + 1
            }
            try state.checkTrackConstraints(track)
            state.tracks[track.id] = track
            return track
        }
    }

    func track(id: UUID) async throws -> Track? { try access.read { $0.tracks[id] } }

    func tracks(ids: [UUID]) async throws -> [UUID: Track] {
        try access.read { state in state.tracks.filter { ids.contains($0.key) } }
    }

    func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        try access.read { state in state.page(state.tracks.values.filter { $0.albumId == albumId }.sorted { $0.trackNumber < $1.trackNumber }, page) }
    }

    func updateTrack(id: UUID, _ change: @escaping @Sendable (inout Track) throws -> Void) async throws -> (before: Track, after: Track) {
        try await access.write { state in
            guard let before = state.tracks[id] else { throw EncoreError.notFound(.trackNotFound) }
            var after = before
            try change(&after)
            try state.checkTrackConstraints(after)
            state.tracks[id] = after
            return (before, after)
        }
    }

    func saveFingerprint(_ fingerprint: AudioFingerprint, trackId: UUID, artistId: UUID) async throws {
        try await access.write { state in
            guard state.tracks[trackId] != nil else { throw missingReference }
            state.fingerprints[trackId] = FingerprintCandidate(trackId: trackId, artistId: artistId, fingerprint: fingerprint)
        }
    }

    func fingerprintCandidates(durationSeconds: Double, tolerance: Double, excludingTrack: UUID) async throws -> [FingerprintCandidate] {
        try access.read { state in
            state.fingerprints.values.filter { candidate in
                candidate.trackId != excludingTrack && state.tracks[candidate.trackId]?.status == .ready
                    && abs(candidate.fingerprint.durationSeconds - durationSeconds) <= tolerance
            }
        }
    }

    func deleteTrack(id: UUID) async throws -> Track? {
        try await access.write { state in
            guard let track = state.tracks[id] else { return nil }
            _ = state.removeTracks { $0.id == id }
            return track
        }
    }
}

struct MemoryPlaylists: PlaylistRepository {
    let access: StateAccess

    func insertPlaylist(_ playlist: Playlist) async throws {
        try await access.write { state in
            guard state.users[playlist.ownerId] != nil else { throw missingReference }
            state.playlists[playlist.id] = playlist
            state.slots[playlist.id] = []
        }
    }

    func playlist(id: UUID) async throws -> Playlist? { try access.read { $0.playlist(id) } }

    func playlists(ownerId: UUID, page: PageRequest) async throws -> Page<Playlist> {
        try access.read { state in
            let owned = state.playlists.values.filter { $0.ownerId == ownerId }
                .sorted { $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.id.uuidString < $1.id.uuidString }
            return state.page(owned.compactMap { state.playlist($0.id) }, page)
        }
    }

    func updatePlaylist(id: UUID, _ change: @escaping @Sendable (inout Playlist) throws -> Void) async throws -> Playlist {
        try await access.write { state in
            guard var playlist = state.playlist(id) else { throw EncoreError.notFound(.playlistNotFound) }
            try change(&playlist)
            state.playlists[id] = playlist
            return playlist
        }
    }

    func deletePlaylist(id: UUID) async throws -> Bool {
        try await access.write { state in
            guard state.playlists[id] != nil else { return false }
            state.playlists[id] = nil
            state.slots[id] = nil
            return true
        }
    }

    func playlistEntries(playlistId: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        try access.read { state in
            let entries = (state.slots[playlistId] ?? []).enumerated().compactMap { position, slot in
                state.tracks[slot.trackId].map { PlaylistEntry(position: position, track: $0, addedAt: slot.addedAt) }
            }
            return state.page(entries, page)
        }
    }

    func updatePlaylistSlots(playlistId: UUID, _ change: @escaping @Sendable (inout [PlaylistSlot]) throws -> Void) async throws -> Playlist {
        try await access.write { state in
            guard var playlist = state.playlist(playlistId) else { throw EncoreError.notFound(.playlistNotFound) }
            var slots = state.slots[playlistId] ?? []
            try change(&slots)
            guard slots.allSatisfy({ state.tracks[$0.trackId] != nil }) else { throw missingReference }
            state.slots[playlistId] = slots
            playlist.trackCount = slots.count
            playlist.updatedAt = Date()
            state.playlists[playlistId] = playlist
            return playlist
        }
    }
}

struct MemoryPlays: PlayRepository {
    let access: StateAccess

    func recordPlay(_ play: Play) async throws -> (play: Play, recorded: Bool) {
        try await access.write { state in
            if let stored = state.plays[play.id] {
                guard stored.userId == play.userId else { throw EncoreError(.playIdTaken, "Another user's play has that playId.") }
                return (stored, false)
            }
            guard state.users[play.userId] != nil, state.tracks[play.trackId] != nil else { throw missingReference }
            state.plays[play.id] = play
            return (play, true)
        }
    }

    func playCount(trackId: UUID) async throws -> Int {
        try access.read { state in state.plays.values.filter { $0.trackId == trackId && $0.counts }.count }
    }

    func lastPlayed(userId: UUID, trackIds: [UUID]) async throws -> [UUID: Date] {
        try access.read { state in
            var dates: [UUID: Date] = [:]
            for play in state.plays.values where play.userId == userId && trackIds.contains(play.trackId) {
                dates[play.trackId] = max(dates[play.trackId] ?? play.playedAt, play.playedAt)
            }
            return dates
        }
    }

    func history(userId: UUID, page: PageRequest) async throws -> Page<Play> {
        try access.read { state in
            let mine = state.plays.values.filter { $0.userId == userId }
                .sorted { $0.playedAt != $1.playedAt ? $0.playedAt > $1.playedAt : $0.id.uuidString < $1.id.uuidString }
            return state.page(mine, page)
        }
    }
}

struct MemoryAppPasswords: AppPasswordRepository {
    let access: StateAccess

    func insertAppPassword(_ password: AppPassword, sealedSecret: Data, lookupKey: Data) async throws {
        try await access.write { state in
            guard state.users[password.userId] != nil else { throw missingReference }
            guard !state.appPasswords.values.contains(where: { $0.lookup == lookupKey }) else {
                throw conflict(.conflict, "The change conflicts with the current state.")
            }
            state.appPasswords[password.id] = (password, sealedSecret, lookupKey)
        }
    }

    func appPasswords(userId: UUID) async throws -> [(password: AppPassword, sealedSecret: Data)] {
        try access.read { state in
            state.appPasswords.values.filter { $0.password.userId == userId }
                .sorted { ($0.password.createdAt, $0.password.id.uuidString) < ($1.password.createdAt, $1.password.id.uuidString) }
                .map { ($0.password, $0.sealed) }
        }
    }

    func appPassword(lookupKey: Data) async throws -> (password: AppPassword, sealedSecret: Data)? {
        try access.read { state in state.appPasswords.values.first { $0.lookup == lookupKey }.map { ($0.password, $0.sealed) } }
    }

    func deleteAppPassword(id: UUID, userId: UUID) async throws -> Bool {
        try await access.write { state in
            guard state.appPasswords[id]?.password.userId == userId else { return false }
            state.appPasswords[id] = nil
            return true
        }
    }

    func markAppPasswordUsed(id: UUID, at time: Date) async throws {
        try await access.write { state in state.appPasswords[id]?.password.lastUsedAt = time }
    }
}

struct MemoryJobs: JobQueue {
    let access: StateAccess

    func enqueue(_ request: JobRequest) async throws -> Int64 {
        try await access.write { state in
            let now = Date()
            let id = state.nextJobId
            state.nextJobId += 1
            state.jobs[id] = Job(
                id: id, kind: request.kind, payload: request.payload, state: .queued, attempts: 0, maxAttempts: max(1, request.maxAttempts),
                runAt: request.runAt ?? now, leaseOwner: nil, leaseExpiresAt: nil, lastError: nil, createdAt: now, updatedAt: now)
            return id
        }
    }

    func stats(now: Date) async throws -> JobQueueStats {
        try access.read { state in
            let jobs = Array(state.jobs.values)
            func isDue(_ job: Job) -> Bool {
                (job.state == .queued && job.runAt <= now) || (job.state == .running && (job.leaseExpiresAt ?? .distantFuture) <= now)
            }
            let due = jobs.filter(isDue)
            return JobQueueStats(
                due: due.count, scheduled: jobs.filter { $0.state == .queued && $0.runAt > now }.count,
                running: jobs.filter { $0.state == .running && !isDue($0) }.count, dead: jobs.filter { $0.state == .dead }.count,
                oldestDueAt: due.map { $0.state == .queued ? $0.runAt : $0.leaseExpiresAt! }.min())
        }
    }

    func lease(owner: String, duration: Duration, now: Date) async throws -> Job? {
        try await access.write { state in
            let due = state.jobs.values.filter { job in
                (job.state == .queued && job.runAt <= now) || (job.state == .running && (job.leaseExpiresAt ?? .distantFuture) <= now)
            }
            guard var job = due.min(by: { $0.runAt != $1.runAt ? $0.runAt < $1.runAt : $0.id < $1.id }) else { return nil }
            job.state = .running
            job.attempts += 1
            job.leaseOwner = owner
            job.leaseExpiresAt = now.addingTimeInterval(duration.timeInterval)
            job.updatedAt = now
            state.jobs[job.id] = job
            return job
        }
    }

    /// Changes the job when `owner` holds its lease; false otherwise.
    private func held(_ jobId: Int64, by owner: String, _ change: @escaping @Sendable (inout Job) -> Void) async throws -> Bool {
        try await access.write { state in
            guard var job = state.jobs[jobId], job.state == .running, job.leaseOwner == owner else { return false }
            change(&job)
            state.jobs[jobId] = job
            return true
        }
    }

    func heartbeat(jobId: Int64, owner: String, duration: Duration, now: Date) async throws -> Bool {
        try await held(jobId, by: owner) { job in
            job.leaseExpiresAt = now.addingTimeInterval(duration.timeInterval)
            job.updatedAt = now
        }
    }

    func complete(jobId: Int64, owner: String, now: Date) async throws -> Bool {
        try await held(jobId, by: owner) { job in
            job.state = .done
            job.leaseOwner = nil
            job.leaseExpiresAt = nil
            job.updatedAt = now
        }
    }

    func fail(jobId: Int64, owner: String, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        try await held(jobId, by: owner) { job in
            let retry = retryAt.flatMap { job.attempts < job.maxAttempts ? $0 : nil }
            job.state = retry == nil ? .dead : .queued
            job.runAt = retry ?? job.runAt
            job.lastError = String(error.prefix(2000))
            job.leaseOwner = nil
            job.leaseExpiresAt = nil
            job.updatedAt = now
        }
    }

    func job(id: Int64) async throws -> Job? { try access.read { $0.jobs[id] } }
}

/// A search index that only records what it is told, in the caller's transaction: tests check that the
/// services keep the index in step (the ranking itself is the real engine's, tested on SQLite).
struct RecordingSearchIndex: SearchIndexWriter {
    let access: StateAccess

    private func log(_ entry: String) async throws {
        try await access.write { $0.indexLog.append(entry) }
    }

    func artistChanged(_ id: UUID, cascade: Bool) async throws { try await log("artist \(id.uuidString.lowercased())\(cascade ? " +" : "")") }
    func albumChanged(_ id: UUID, cascade: Bool) async throws { try await log("album \(id.uuidString.lowercased())\(cascade ? " +" : "")") }
    func trackChanged(_ id: UUID) async throws { try await log("track \(id.uuidString.lowercased())") }

    func removed(_ ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        try await log("removed \(ids.map { $0.uuidString.lowercased() }.sorted().joined(separator: ","))")
    }

    func played(trackId: UUID, at time: Date) async throws {
        try await log("played \(trackId.uuidString.lowercased()) at \(Int(time.timeIntervalSince1970))")
    }
}
