import EncoreCore
import Foundation
import Testing

/// The behaviour every ``DataStore`` must show. Each implementation's test suite calls these checks
/// with a fresh, empty store; the PostgreSQL store will run the very same checks.
public enum DataStoreContract {
    public static let now = Date(timeIntervalSince1970: 1_790_000_000.123456)

    public static func user(_ email: String = "u\(UUID().uuidString.prefix(6))@example.com", role: Role = .artist) -> User {
        User(id: UUID(), email: email, displayName: "U", role: role, createdAt: now, updatedAt: now)
    }

    public static func artist(owner: UUID, name: String = "Artist") -> Artist {
        Artist(id: UUID(), ownerId: owner, name: name, bio: "", country: "SE", createdAt: now, updatedAt: now)
    }

    public static func album(artist: UUID, title: String = "Album", releaseDate: String? = nil) -> Album {
        Album(id: UUID(), artistId: artist, title: title, genre: nil, releaseDate: releaseDate, createdAt: now, updatedAt: now)
    }

    public static func track(album: Album, number: Int = 0, title: String = "Track") -> Track {
        let id = UUID()
        return Track(
            id: id, albumId: album.id, artistId: album.artistId, title: title, trackNumber: number,
            sourceKey: TrackKeys.source(trackId: id, uploadId: UUID()), createdAt: now, updatedAt: now)
    }

    public static let audio = AudioInfo(
        container: "flac", codec: "flac", durationMs: 61_000, sampleRate: 44100, channels: 2, bitRate: 900_000, sizeBytes: 1234)

    public static func media(for track: Track) -> TrackMedia {
        let prefix = TrackKeys.mediaPrefix(forSource: track.sourceKey!)!
        return TrackMedia(
            prefix: prefix,
            original: MediaFile(format: "flac", codec: "flac", bitrateKbps: nil, key: prefix.appending("original.flac")!, sizeBytes: 1234),
            hlsMaster: prefix.appending("master.m3u8")!, dashManifest: prefix.appending("manifest.mpd")!,
            renditions: [
                AdaptiveRendition(
                    codec: "aac", codecs: "mp4a.40.2", bitrateKbps: 96, averageBandwidth: 97_000, peakBandwidth: 99_000,
                    playlist: prefix.appending("media_0.m3u8")!)
            ],
            progressive: [MediaFile(format: "mp3", codec: "mp3", bitrateKbps: 160, key: prefix.appending("mp3-160.mp3")!, sizeBytes: 99)],
            loudness: Loudness(integratedLufs: -9.5, truePeakDbtp: 0.3))
    }

    public static let fingerprint = AudioFingerprint(durationSeconds: 61, values: (0..<500).map { UInt32($0 &* 2_654_435_761 & 0xFFFF_FFFF) })

    /// A user with an artist and an album, stored.
    public static func seed(_ store: any DataStore) async throws -> (User, Artist, Album) {
        let owner = user()
        try await store.accounts.insertUser(owner, passwordHash: "hash")
        let profile = artist(owner: owner.id)
        try await store.catalog.insertArtist(profile)
        let record = album(artist: profile.id)
        try await store.catalog.insertAlbum(record)
        return (owner, profile, record)
    }

    public static func conflictCode(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as EncoreError {
            return error.kind == .conflict ? error.code.rawValue : "kind:\(error.kind)"
        } catch {
            return "other:\(error)"
        }
    }

    /// Every check by name: an implementation's suite runs each on a fresh, empty store.
    public static let checks: [(String, @Sendable (any DataStore) async throws -> Void)] = [
        ("users", usersRoundTripAndEmailsAreUnique),
        ("user cascade", deletingAUserCascadesAndReportsWhatWent),
        ("listing order", artistsAndAlbumsListInOrder),
        ("track numbers", trackNumbersAreAssignedAndUnique),
        ("album/artist cascade", deletingAnAlbumOrArtistReportsWhatWent),
        ("playlists", playlistSlotsStayDenseAndFollowTrackDeletes),
        ("transactions", transactionsCommitOrRollBackTogether),
        ("media and fingerprints", mediaAndFingerprintsRoundTrip),
        ("plays", playsAreIdempotentAndCountedFromThirtySeconds),
        ("app passwords", appPasswordsBelongToTheirUser),
        ("stars and ratings", starsAndRatingsFollowTheirItems),
        ("play queues", playQueuesRoundTripWithoutDeletedTracks),
        ("browsing", browsingListsOnlyPlayableMusic),
    ]

    /// Runs the check called `name` on `store`.
    public static func run(_ name: String, on store: any DataStore) async throws {
        let check = try #require(checks.first { $0.0 == name }?.1, "no check named \(name)")
        try await check(store)
    }

    public static func usersRoundTripAndEmailsAreUnique(_ store: any DataStore) async throws {
        let stored = user("same@example.com")
        try await store.accounts.insertUser(stored, passwordHash: "h1")
        #expect(try await store.accounts.user(id: stored.id) == stored)  // dates round-trip exactly
        let found = try #require(try await store.accounts.credentials(email: "same@example.com"))
        #expect(found.user == stored)
        #expect(found.passwordHash == "h1")
        #expect(await conflictCode { try await store.accounts.insertUser(user("same@example.com"), passwordHash: "h2") } == "email_taken")
        let updated = try await store.accounts.updateUser(id: stored.id, newPasswordHash: "h3") { $0.displayName = "New" }
        #expect(updated.displayName == "New")
        #expect(try await store.accounts.credentials(email: "same@example.com")?.passwordHash == "h3")
        #expect(try await store.accounts.user(id: UUID()) == nil)
    }

    public static func deletingAUserCascadesAndReportsWhatWent(_ store: any DataStore) async throws {
        let (owner, artist, album) = try await seed(store)
        let track = try await store.tracks.insertTrack(track(album: album))
        let playlist = Playlist(id: UUID(), ownerId: owner.id, title: "P", isPublic: false, trackCount: 0, createdAt: now, updatedAt: now)
        try await store.playlists.insertPlaylist(playlist)
        _ = try await store.plays.recordPlay(
            Play(id: UUID(), userId: owner.id, trackId: track.id, playedAt: now, msPlayed: 40_000, counts: true))
        let removed = try await store.accounts.deleteUser(id: owner.id)
        #expect(removed == Removed(artistIds: [artist.id], albumIds: [album.id], trackIds: [track.id]))
        #expect(try await store.catalog.artist(id: artist.id) == nil)
        #expect(try await store.catalog.album(id: album.id) == nil)
        #expect(try await store.tracks.track(id: track.id) == nil)
        #expect(try await store.playlists.playlist(id: playlist.id) == nil)
        #expect(try await store.plays.playCount(trackId: track.id) == 0)
    }

    public static func artistsAndAlbumsListInOrder(_ store: any DataStore) async throws {
        let owner = user()
        try await store.accounts.insertUser(owner, passwordHash: "h")
        for name in ["beta", "Alpha", "gamma"] { try await store.catalog.insertArtist(artist(owner: owner.id, name: name)) }
        let page = try await store.catalog.artists(ownerId: owner.id, page: try PageRequest(limit: 2))
        #expect(page.items.map(\.name) == ["Alpha", "beta"])
        #expect(page.nextOffset == 2)
        let rest = try await store.catalog.artists(ownerId: owner.id, page: try PageRequest(limit: 2, offset: 2))
        #expect(rest.items.map(\.name) == ["gamma"])
        #expect(rest.nextOffset == nil)
        #expect(try await store.catalog.artists(ownerId: UUID(), page: try PageRequest()).items.isEmpty)

        let first = try #require(page.items.first)
        try await store.catalog.insertAlbum(album(artist: first.id, title: "Later", releaseDate: "2020-01-01"))
        try await store.catalog.insertAlbum(album(artist: first.id, title: "Undated"))
        try await store.catalog.insertAlbum(album(artist: first.id, title: "Earlier", releaseDate: "2010-01-01"))
        let albums = try await store.catalog.albums(artistId: first.id, page: try PageRequest())
        #expect(albums.items.map(\.title) == ["Earlier", "Later", "Undated"])
        let (before, renamed) = try await store.catalog.updateArtist(id: first.id) { $0.name = "Renamed" }
        #expect(before == first)
        #expect(try await store.catalog.artist(id: first.id) == renamed)
        let byId = try await store.catalog.albums(ids: albums.items.map(\.id) + [UUID()])
        #expect(Set(byId.keys) == Set(albums.items.map(\.id)))
        #expect(try await store.catalog.artists(ids: [first.id]) == [first.id: renamed])
    }

    public static func trackNumbersAreAssignedAndUnique(_ store: any DataStore) async throws {
        let (_, _, album) = try await seed(store)
        let first = try await store.tracks.insertTrack(track(album: album))
        let second = try await store.tracks.insertTrack(track(album: album))
        #expect(first.trackNumber == 1)
        #expect(second.trackNumber == 2)
        let fifth = try await store.tracks.insertTrack(track(album: album, number: 5))
        #expect(try await store.tracks.insertTrack(track(album: album)).trackNumber == 6)
        #expect(await conflictCode { _ = try await store.tracks.insertTrack(track(album: album, number: 5)) } == "track_number_taken")
        #expect(await conflictCode { _ = try await store.tracks.updateTrack(id: first.id) { $0.trackNumber = 2 } } == "track_number_taken")
        // A failed update changes nothing.
        #expect(try await store.tracks.track(id: first.id) == first)
        let listed = try await store.tracks.tracks(albumId: album.id, page: try PageRequest())
        #expect(listed.items.map(\.trackNumber) == [1, 2, 5, 6])
        let (before, after) = try await store.tracks.updateTrack(id: fifth.id) { $0.title = "Renamed" }
        #expect(before == fifth)
        #expect(after.title == "Renamed")
        #expect(try await store.tracks.track(id: fifth.id) == after)
        #expect(try await store.tracks.tracks(ids: [fifth.id, UUID()]) == [fifth.id: after])
        #expect(try await store.tracks.deleteTrack(id: fifth.id) == after)
        #expect(try await store.tracks.deleteTrack(id: fifth.id) == nil)
    }

    public static func deletingAnAlbumOrArtistReportsWhatWent(_ store: any DataStore) async throws {
        let (_, artist, firstAlbum) = try await seed(store)
        let one = try await store.tracks.insertTrack(track(album: firstAlbum))
        let other = album(artist: artist.id, title: "Second")
        try await store.catalog.insertAlbum(other)
        let two = try await store.tracks.insertTrack(track(album: other))
        #expect(try await store.catalog.deleteAlbum(id: firstAlbum.id) == Removed(albumIds: [firstAlbum.id], trackIds: [one.id]))
        #expect(try await store.tracks.track(id: one.id) == nil)
        #expect(try await store.catalog.deleteArtist(id: artist.id) == Removed(artistIds: [artist.id], albumIds: [other.id], trackIds: [two.id]))
        #expect(try await store.tracks.track(id: two.id) == nil)
        #expect(await conflictCode { _ = try await store.catalog.deleteArtist(id: artist.id) } == "kind:notFound")
    }

    public static func playlistSlotsStayDenseAndFollowTrackDeletes(_ store: any DataStore) async throws {
        let (owner, _, album) = try await seed(store)
        let tracks = [
            try await store.tracks.insertTrack(track(album: album, title: "A")),
            try await store.tracks.insertTrack(track(album: album, title: "B")),
        ]
        let playlist = Playlist(id: UUID(), ownerId: owner.id, title: "P", isPublic: true, trackCount: 0, createdAt: now, updatedAt: now)
        try await store.playlists.insertPlaylist(playlist)
        let updated = try await store.playlists.updatePlaylistSlots(playlistId: playlist.id) { slots in
            slots = [tracks[0].id, tracks[1].id, tracks[0].id].map { PlaylistSlot(trackId: $0, addedAt: now) }
        }
        #expect(updated.trackCount == 3)
        var entries = try await store.playlists.playlistEntries(playlistId: playlist.id, page: try PageRequest())
        #expect(entries.items.map(\.track.title) == ["A", "B", "A"])
        #expect(entries.items.map(\.position) == [0, 1, 2])
        #expect(entries.items.map(\.addedAt) == [now, now, now])
        _ = try await store.tracks.deleteTrack(id: tracks[0].id)
        entries = try await store.playlists.playlistEntries(playlistId: playlist.id, page: try PageRequest())
        #expect(entries.items.map(\.track.title) == ["B"])
        #expect(entries.items.map(\.position) == [0])
        #expect(try await store.playlists.playlist(id: playlist.id)?.trackCount == 1)
        // A failing change leaves the slots as they were.
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await store.playlists.updatePlaylistSlots(playlistId: playlist.id) { slots in
                slots.removeAll(); throw Refused()
            }
        }
        #expect(try await store.playlists.playlist(id: playlist.id)?.trackCount == 1)
        #expect(try await store.playlists.playlists(ownerId: owner.id, page: try PageRequest()).items.map(\.id) == [playlist.id])
        let renamed = try await store.playlists.updatePlaylist(id: playlist.id) { $0.title = "Q" }
        #expect(try await store.playlists.playlist(id: playlist.id) == renamed)
        #expect(try await store.playlists.deletePlaylist(id: playlist.id))
        #expect(try await store.playlists.deletePlaylist(id: playlist.id) == false)
    }

    /// Work in a transaction commits whole or not at all, across repositories; reads inside it see its
    /// own writes; a nested transaction is part of the enclosing one.
    public static func transactionsCommitOrRollBackTogether(_ store: any DataStore) async throws {
        let (_, _, album) = try await seed(store)
        let first = track(album: album, number: 1)
        try await store.transaction { tx in
            _ = try await tx.tracks.insertTrack(first)
            #expect(try await tx.tracks.track(id: first.id) != nil)  // visible inside before the commit
            try await tx.jobs.enqueue(TrackProcessingJob(trackId: first.id, sourceKey: first.sourceKey!).request)
        }
        let job = try #require(try await store.jobs.lease(owner: "w", duration: .seconds(60), now: Date()))
        #expect(try TrackProcessingJob(payload: job.payload) == TrackProcessingJob(trackId: first.id, sourceKey: first.sourceKey!))

        // A clash on the second write undoes the first: no orphan job.
        let clash = track(album: album, number: 1)
        let code = await conflictCode {
            try await store.transaction { tx in
                try await tx.jobs.enqueue(TrackProcessingJob(trackId: clash.id, sourceKey: clash.sourceKey!).request)
                _ = try await tx.tracks.insertTrack(clash)
            }
        }
        #expect(code == "track_number_taken")
        #expect(try await store.jobs.lease(owner: "w", duration: .seconds(60), now: Date()) == nil)

        // Any error thrown by the body rolls back everything it wrote, in every repository.
        struct Abandoned: Error {}
        let second = track(album: album, number: 2)
        await #expect(throws: Abandoned.self) {
            try await store.transaction { tx in
                _ = try await tx.tracks.insertTrack(second)
                _ = try await tx.catalog.updateAlbum(id: album.id) { $0.title = "Changed" }
                try await tx.transaction { inner in
                    _ = try await inner.accounts.insertUser(user(), passwordHash: "h")
                }
                throw Abandoned()
            }
        }
        #expect(try await store.tracks.track(id: second.id) == nil)
        #expect(try await store.catalog.album(id: album.id)?.title == album.title)

        // Transactions started at once all commit, one after another.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 10..<16 {
                group.addTask {
                    try await store.transaction { tx in
                        _ = try await tx.tracks.insertTrack(track(album: album, number: number))
                        try await tx.jobs.enqueue(JobRequest(kind: "test", payload: "\(number)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let listed = try await store.tracks.tracks(albumId: album.id, page: try PageRequest())
        #expect(listed.items.map(\.trackNumber) == [1] + Array(10..<16))
        try await store.ping()
    }

    public static func mediaAndFingerprintsRoundTrip(_ store: any DataStore) async throws {
        let (_, _, album) = try await seed(store)
        let stored = try await store.tracks.insertTrack(track(album: album))
        #expect(stored.status == .processing)
        let media = media(for: stored)
        let (_, ready) = try await store.tracks.updateTrack(id: stored.id) { track in
            track.media = media
            track.audio = audio
            track.durationMs = audio.durationMs
            track.status = .ready
            track.sourceKey = nil
            track.failure = TrackFailure(code: "invalid_audio", message: "an earlier replacement")
            track.linkedTrackId = stored.id
        }
        #expect(try await store.tracks.track(id: stored.id) == ready)  // media, audio and failure round-trip whole
        try await store.tracks.saveFingerprint(fingerprint, trackId: stored.id, artistId: stored.artistId)
        try await store.tracks.saveFingerprint(fingerprint, trackId: stored.id, artistId: stored.artistId)  // replaces
        let found = try await store.tracks.fingerprintCandidates(durationSeconds: 63, tolerance: 5, excludingTrack: UUID())
        #expect(found.map(\.trackId) == [stored.id])
        #expect(found.map(\.fingerprint) == [fingerprint])
        #expect(found.map(\.artistId) == [stored.artistId])
        #expect(try await store.tracks.fingerprintCandidates(durationSeconds: 90, tolerance: 5, excludingTrack: UUID()).isEmpty)
        #expect(try await store.tracks.fingerprintCandidates(durationSeconds: 61, tolerance: 5, excludingTrack: stored.id).isEmpty)
        // Only ready tracks are candidates.
        _ = try await store.tracks.updateTrack(id: stored.id) { $0.status = .processing }
        #expect(try await store.tracks.fingerprintCandidates(durationSeconds: 61, tolerance: 5, excludingTrack: UUID()).isEmpty)
    }

    public static func playsAreIdempotentAndCountedFromThirtySeconds(_ store: any DataStore) async throws {
        let (owner, _, album) = try await seed(store)
        let track = try await store.tracks.insertTrack(track(album: album))
        let plays = (0..<3).map { index in
            Play(id: UUID(), userId: owner.id, trackId: track.id, playedAt: now.addingTimeInterval(Double(index)), msPlayed: 31_000, counts: true)
        }
        for play in plays { #expect(try await store.plays.recordPlay(play).recorded) }
        // The same report again, even with other figures: the play as first recorded.
        var retried = plays[0]
        retried.msPlayed = 99_000
        let again = try await store.plays.recordPlay(retried)
        #expect(again.recorded == false)
        #expect(again.play == plays[0])
        // Another user cannot take (or overwrite) a play id.
        let stranger = user()
        try await store.accounts.insertUser(stranger, passwordHash: "h")
        retried.userId = stranger.id
        #expect(await conflictCode { _ = try await store.plays.recordPlay(retried) } == "play_id_taken")
        let skip = Play(id: UUID(), userId: owner.id, trackId: track.id, playedAt: now.addingTimeInterval(10), msPlayed: 5_000, counts: false)
        #expect(try await store.plays.recordPlay(skip).recorded)
        #expect(try await store.plays.playCount(trackId: track.id) == 3)
        #expect(try await store.plays.playCount(trackId: UUID()) == 0)
        let history = try await store.plays.history(userId: owner.id, page: try PageRequest(limit: 3))
        #expect(history.items == [skip, plays[2], plays[1]])
        #expect(history.nextOffset == 3)
        #expect(try await store.plays.history(userId: UUID(), page: try PageRequest()).items.isEmpty)
        // The last play of each track, skips included, per user.
        let other = try await store.tracks.insertTrack(DataStoreContract.track(album: album, title: "Other"))
        #expect(try await store.plays.lastPlayed(userId: owner.id, trackIds: [track.id, other.id]) == [track.id: skip.playedAt])
        #expect(try await store.plays.lastPlayed(userId: stranger.id, trackIds: [track.id]).isEmpty)
        #expect(try await store.plays.lastPlayed(userId: owner.id, trackIds: []).isEmpty)
    }

    public static func appPasswordsBelongToTheirUser(_ store: any DataStore) async throws {
        let owner = user()
        let other = user()
        try await store.accounts.insertUser(owner, passwordHash: "h")
        try await store.accounts.insertUser(other, passwordHash: "h")
        let first = AppPassword(id: UUID(), userId: owner.id, name: "Phone", createdAt: now, lastUsedAt: nil)
        let second = AppPassword(id: UUID(), userId: owner.id, name: "Desktop", createdAt: now.addingTimeInterval(1), lastUsedAt: nil)
        try await store.appPasswords.insertAppPassword(second, sealedSecret: Data([2]), lookupKey: Data([20]))
        try await store.appPasswords.insertAppPassword(first, sealedSecret: Data([1]), lookupKey: Data([10]))
        let listed = try await store.appPasswords.appPasswords(userId: owner.id)
        #expect(listed.map(\.password) == [first, second])  // oldest first
        #expect(listed.map(\.sealedSecret) == [Data([1]), Data([2])])
        #expect(try await store.appPasswords.appPasswords(userId: other.id).isEmpty)
        #expect(try await store.appPasswords.appPassword(lookupKey: Data([20]))?.password == second)
        #expect(try await store.appPasswords.appPassword(lookupKey: Data([30])) == nil)
        let taken = AppPassword(id: UUID(), userId: other.id, name: "Same key", createdAt: now, lastUsedAt: nil)
        #expect(await conflictCode { try await store.appPasswords.insertAppPassword(taken, sealedSecret: Data([3]), lookupKey: Data([10])) } != nil)
        try await store.appPasswords.markAppPasswordUsed(id: first.id, at: now.addingTimeInterval(60))
        #expect(try await store.appPasswords.appPasswords(userId: owner.id).first?.password.lastUsedAt == now.addingTimeInterval(60))
        #expect(try await store.appPasswords.deleteAppPassword(id: first.id, userId: other.id) == false)  // not theirs
        #expect(try await store.appPasswords.deleteAppPassword(id: first.id, userId: owner.id))
        #expect(try await store.appPasswords.deleteAppPassword(id: first.id, userId: owner.id) == false)
        _ = try await store.accounts.deleteUser(id: owner.id)
        #expect(try await store.appPasswords.appPassword(lookupKey: Data([20])) == nil)  // gone with the account
    }
}
