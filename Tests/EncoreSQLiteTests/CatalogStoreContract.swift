import EncoreCore
import Foundation
import Testing

/// The behaviour every ``CatalogStore`` must show. Each implementation's test suite calls these checks
/// with a factory for a fresh, empty store; the PostgreSQL store will run the very same checks.
enum CatalogStoreContract {
    static let now = Date(timeIntervalSince1970: 1_790_000_000.123456)

    static func user(_ email: String = "u\(UUID().uuidString.prefix(6))@example.com", role: Role = .artist) -> User {
        User(id: UUID(), email: email, displayName: "U", role: role, createdAt: now, updatedAt: now)
    }

    static func artist(owner: UUID, name: String = "Artist") -> Artist {
        Artist(id: UUID(), ownerId: owner, name: name, bio: "", country: "SE", createdAt: now, updatedAt: now)
    }

    static func album(artist: UUID, title: String = "Album", releaseDate: String? = nil) -> Album {
        Album(id: UUID(), artistId: artist, title: title, genre: nil, releaseDate: releaseDate, createdAt: now, updatedAt: now)
    }

    static func track(album: Album, number: Int = 0, title: String = "Track") -> Track {
        let id = UUID()
        return Track(
            id: id, albumId: album.id, artistId: album.artistId, title: title, trackNumber: number,
            sourceKey: TrackKeys.source(trackId: id, uploadId: UUID()), createdAt: now, updatedAt: now)
    }

    static let audio = AudioInfo(
        container: "flac", codec: "flac", durationMs: 61_000, sampleRate: 44100, channels: 2, bitRate: 900_000, sizeBytes: 1234)

    static func media(for track: Track) -> TrackMedia {
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

    static let fingerprint = AudioFingerprint(durationSeconds: 61, values: (0..<500).map { UInt32($0 &* 2_654_435_761 & 0xFFFF_FFFF) })

    /// A user with an artist and an album, stored.
    static func seed(_ store: any CatalogStore) async throws -> (User, Artist, Album) {
        let owner = user()
        try await store.insertUser(owner, passwordHash: "hash")
        let profile = artist(owner: owner.id)
        try await store.insertArtist(profile)
        let record = album(artist: profile.id)
        try await store.insertAlbum(record)
        return (owner, profile, record)
    }

    static func conflictCode(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as EncoreError {
            return error.kind == .conflict ? error.code : "kind:\(error.kind)"
        } catch {
            return "other:\(error)"
        }
    }

    static func usersRoundTripAndEmailsAreUnique(_ store: any CatalogStore) async throws {
        let stored = user("same@example.com")
        try await store.insertUser(stored, passwordHash: "h1")
        #expect(try await store.user(id: stored.id) == stored)  // dates round-trip exactly
        let found = try #require(try await store.credentials(email: "same@example.com"))
        #expect(found.user == stored)
        #expect(found.passwordHash == "h1")
        #expect(await conflictCode { try await store.insertUser(user("same@example.com"), passwordHash: "h2") } == "email_taken")
        let updated = try await store.updateUser(id: stored.id, newPasswordHash: "h3") { $0.displayName = "New" }
        #expect(updated.displayName == "New")
        #expect(try await store.credentials(email: "same@example.com")?.passwordHash == "h3")
        #expect(try await store.user(id: UUID()) == nil)
    }

    static func deletingAUserCascadesAndReportsBlobKeys(_ store: any CatalogStore) async throws {
        let (owner, artist, album) = try await seed(store)
        let track = try await store.insertTrack(track(album: album), job: nil)
        let playlist = Playlist(id: UUID(), ownerId: owner.id, title: "P", isPublic: false, trackCount: 0, createdAt: now, updatedAt: now)
        try await store.insertPlaylist(playlist)
        try await store.recordPlay(PlayEvent(userId: owner.id, trackId: track.id, playedAt: now))
        let keys = try await store.deleteUser(id: owner.id)
        #expect(keys == [track.id])
        #expect(try await store.artist(id: artist.id) == nil)
        #expect(try await store.album(id: album.id) == nil)
        #expect(try await store.track(id: track.id) == nil)
        #expect(try await store.playlist(id: playlist.id) == nil)
    }

    static func artistsAndAlbumsListInOrder(_ store: any CatalogStore) async throws {
        let owner = user()
        try await store.insertUser(owner, passwordHash: "h")
        for name in ["beta", "Alpha", "gamma"] { try await store.insertArtist(artist(owner: owner.id, name: name)) }
        let page = try await store.artists(ownerId: owner.id, page: try PageRequest(limit: 2))
        #expect(page.items.map(\.name) == ["Alpha", "beta"])
        #expect(page.nextOffset == 2)
        let rest = try await store.artists(ownerId: owner.id, page: try PageRequest(limit: 2, offset: 2))
        #expect(rest.items.map(\.name) == ["gamma"])
        #expect(rest.nextOffset == nil)
        #expect(try await store.artists(ownerId: UUID(), page: try PageRequest()).items.isEmpty)

        let first = page.items[0]
        try await store.insertAlbum(album(artist: first.id, title: "Later", releaseDate: "2020-01-01"))
        try await store.insertAlbum(album(artist: first.id, title: "Undated"))
        try await store.insertAlbum(album(artist: first.id, title: "Earlier", releaseDate: "2010-01-01"))
        let albums = try await store.albums(artistId: first.id, page: try PageRequest())
        #expect(albums.items.map(\.title) == ["Earlier", "Later", "Undated"])
        let renamed = try await store.updateArtist(id: first.id) { $0.name = "Renamed" }
        #expect(try await store.artist(id: first.id) == renamed)
    }

    static func trackNumbersAreAssignedAndUnique(_ store: any CatalogStore) async throws {
        let (_, _, album) = try await seed(store)
        let first = try await store.insertTrack(track(album: album), job: nil)
        let second = try await store.insertTrack(track(album: album), job: nil)
        #expect(first.trackNumber == 1)
        #expect(second.trackNumber == 2)
        let fifth = try await store.insertTrack(track(album: album, number: 5), job: nil)
        #expect(try await store.insertTrack(track(album: album), job: nil).trackNumber == 6)
        #expect(await conflictCode { _ = try await store.insertTrack(track(album: album, number: 5), job: nil) } == "track_number_taken")
        #expect(await conflictCode { _ = try await store.updateTrack(id: first.id, job: nil) { $0.trackNumber = 2 } } == "track_number_taken")
        // A failed update changes nothing.
        #expect(try await store.track(id: first.id) == first)
        let listed = try await store.tracks(albumId: album.id, page: try PageRequest())
        #expect(listed.items.map(\.trackNumber) == [1, 2, 5, 6])
        let (before, after) = try await store.updateTrack(id: fifth.id, job: nil) { $0.title = "Renamed" }
        #expect(before == fifth)
        #expect(after.title == "Renamed")
        #expect(try await store.track(id: fifth.id) == after)
        #expect(try await store.deleteTrack(id: fifth.id) == after)
        #expect(try await store.deleteTrack(id: fifth.id) == nil)
    }

    static func deletingAnAlbumOrArtistReportsBlobKeys(_ store: any CatalogStore) async throws {
        let (_, artist, firstAlbum) = try await seed(store)
        let one = try await store.insertTrack(track(album: firstAlbum), job: nil)
        let other = album(artist: artist.id, title: "Second")
        try await store.insertAlbum(other)
        let two = try await store.insertTrack(track(album: other), job: nil)
        #expect(try await store.deleteAlbum(id: firstAlbum.id) == [one.id])
        #expect(try await store.track(id: one.id) == nil)
        #expect(try await store.deleteArtist(id: artist.id) == [two.id])
        #expect(try await store.track(id: two.id) == nil)
        #expect(await conflictCode { _ = try await store.deleteArtist(id: artist.id) } == "kind:notFound")
    }

    static func playlistSlotsStayDenseAndFollowTrackDeletes(_ store: any CatalogStore) async throws {
        let (owner, _, album) = try await seed(store)
        let tracks = [
            try await store.insertTrack(track(album: album, title: "A"), job: nil),
            try await store.insertTrack(track(album: album, title: "B"), job: nil),
        ]
        let playlist = Playlist(id: UUID(), ownerId: owner.id, title: "P", isPublic: true, trackCount: 0, createdAt: now, updatedAt: now)
        try await store.insertPlaylist(playlist)
        let updated = try await store.updatePlaylistSlots(playlistId: playlist.id) { slots in
            slots = [tracks[0].id, tracks[1].id, tracks[0].id].map { PlaylistSlot(trackId: $0, addedAt: now) }
        }
        #expect(updated.trackCount == 3)
        var entries = try await store.playlistEntries(playlistId: playlist.id, page: try PageRequest())
        #expect(entries.items.map(\.track.title) == ["A", "B", "A"])
        #expect(entries.items.map(\.position) == [0, 1, 2])
        #expect(entries.items.first?.addedAt == now)
        _ = try await store.deleteTrack(id: tracks[0].id)
        entries = try await store.playlistEntries(playlistId: playlist.id, page: try PageRequest())
        #expect(entries.items.map(\.track.title) == ["B"])
        #expect(entries.items.map(\.position) == [0])
        #expect(try await store.playlist(id: playlist.id)?.trackCount == 1)
        // A failing change leaves the slots as they were.
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await store.updatePlaylistSlots(playlistId: playlist.id) { slots in
                slots.removeAll(); throw Refused()
            }
        }
        #expect(try await store.playlist(id: playlist.id)?.trackCount == 1)
        #expect(try await store.playlists(ownerId: owner.id, page: try PageRequest()).items.map(\.id) == [playlist.id])
        #expect(try await store.deletePlaylist(id: playlist.id))
        #expect(try await store.deletePlaylist(id: playlist.id) == false)
    }

    /// A track row and its processing job are written together, or not at all.
    static func tracksAndTheirJobsCommitTogether(_ store: any CatalogStore & JobQueue) async throws {
        let (_, _, album) = try await seed(store)
        let first = track(album: album, number: 1)
        _ = try await store.insertTrack(first, job: TrackProcessingJob(trackId: first.id, sourceKey: first.sourceKey!).request)
        let job = try #require(try await store.lease(owner: "w", duration: .seconds(60), now: Date()))
        #expect(try TrackProcessingJob(payload: job.payload) == TrackProcessingJob(trackId: first.id, sourceKey: first.sourceKey!))
        let clash = track(album: album, number: 1)
        let code = await conflictCode {
            _ = try await store.insertTrack(clash, job: TrackProcessingJob(trackId: clash.id, sourceKey: clash.sourceKey!).request)
        }
        #expect(code == "track_number_taken")
        #expect(try await store.lease(owner: "w", duration: .seconds(60), now: Date()) == nil)  // no orphan job
    }

    /// The pipeline's outcome lands only on the upload it was computed for.
    static func processingOutcomesApplyToTheirUploadOnly(_ store: any CatalogStore) async throws {
        let (_, _, album) = try await seed(store)
        let stored = try await store.insertTrack(track(album: album), job: nil)
        let source = try #require(stored.sourceKey)
        #expect(stored.status == .processing)
        let stale = try await store.finishProcessing(
            trackId: stored.id, sourceKey: TrackKeys.source(trackId: stored.id, uploadId: UUID()), outcome: .failed(.init(code: "x", message: "y")))
        #expect(stale == nil)
        let media = media(for: stored)
        let ready = try #require(
            try await store.finishProcessing(
                trackId: stored.id, sourceKey: source, outcome: .ready(media: media, audio: audio, fingerprint: fingerprint, linkedTrackId: nil)))
        #expect(ready.after.status == .ready)
        #expect(ready.after.sourceKey == nil)
        #expect(ready.after.durationMs == 61_000)
        #expect(try await store.track(id: stored.id)?.media == media)  // media round-trips whole
        #expect(try await store.finishProcessing(trackId: stored.id, sourceKey: source, outcome: .failed(.init(code: "x", message: "y"))) == nil)

        // A replacement that fails leaves the track ready with its previous media.
        let replacement = TrackKeys.source(trackId: stored.id, uploadId: UUID())
        _ = try await store.updateTrack(id: stored.id, job: nil) { $0.sourceKey = replacement }
        let failed = try #require(
            try await store.finishProcessing(
                trackId: stored.id, sourceKey: replacement, outcome: .failed(.init(code: "invalid_audio", message: "bad"))))
        #expect(failed.after.status == .ready)
        #expect(failed.after.media == media)
        #expect(failed.after.failure?.code == "invalid_audio")

        // A first upload that fails leaves the track failed.
        let other = try await store.insertTrack(track(album: album), job: nil)
        let outcome = try await store.finishProcessing(
            trackId: other.id, sourceKey: other.sourceKey!, outcome: .failed(.init(code: "invalid_audio", message: "empty")))
        #expect(outcome?.after.status == .failed)
    }

    static func fingerprintsOfReadyTracksAreCandidates(_ store: any CatalogStore) async throws {
        let (_, _, album) = try await seed(store)
        let stored = try await store.insertTrack(track(album: album), job: nil)
        _ = try await store.finishProcessing(
            trackId: stored.id, sourceKey: stored.sourceKey!,
            outcome: .ready(media: media(for: stored), audio: audio, fingerprint: fingerprint, linkedTrackId: nil))
        let found = try await store.fingerprintCandidates(durationSeconds: 63, tolerance: 5, excludingTrack: UUID())
        #expect(found.map(\.trackId) == [stored.id])
        #expect(found.first?.fingerprint == fingerprint)
        #expect(found.first?.artistId == stored.artistId)
        #expect(try await store.fingerprintCandidates(durationSeconds: 90, tolerance: 5, excludingTrack: UUID()).isEmpty)
        #expect(try await store.fingerprintCandidates(durationSeconds: 61, tolerance: 5, excludingTrack: stored.id).isEmpty)
    }

    static func playsAreCounted(_ store: any CatalogStore) async throws {
        let (owner, _, album) = try await seed(store)
        let track = try await store.insertTrack(track(album: album), job: nil)
        for _ in 0..<3 { try await store.recordPlay(PlayEvent(userId: owner.id, trackId: track.id, playedAt: now)) }
        #expect(try await store.playCount(trackId: track.id) == 3)
        #expect(try await store.playCount(trackId: UUID()) == 0)
        try await store.ping()
    }
}
