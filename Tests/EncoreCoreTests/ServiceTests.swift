import EncoreCore
import EncoreTestSupport
import Foundation
import Testing

/// The use-case services' rules, on in-memory fakes: no sockets, no files, no ffmpeg.
@Suite("Use-case services", .timeLimit(.minutes(1)))
struct ServiceTests {
    static func code(_ body: () async throws -> Void) async -> String? { await errorCode(body) }

    @Test("accounts: no admin over the API, one error for unknown emails and wrong passwords, current password for changes")
    func accounts() async throws {
        let fixture = ServiceFixture()
        let accounts = fixture.services.accounts
        #expect(
            await Self.code { _ = try await accounts.register(email: "a@example.com", password: "long enough", displayName: "A", role: .admin) }
                == "invalid_role")
        let user = try await accounts.register(email: " Ana@Example.com ", password: "long enough", displayName: "Ana", role: .listener)
        #expect(user.email == "ana@example.com")
        #expect(try await accounts.login(email: "ANA@example.com", password: "long enough") == user)
        #expect(await Self.code { _ = try await accounts.login(email: "ana@example.com", password: "wrong one") } == "invalid_credentials")
        #expect(await Self.code { _ = try await accounts.login(email: "nobody@example.com", password: "long enough") } == "invalid_credentials")
        let principal = Principal(userId: user.id, role: user.role)
        let noCurrent = await Self.code {
            _ = try await accounts.updateUser(principal, displayName: nil, email: "new@example.com", newPassword: nil, currentPassword: nil)
        }
        #expect(noCurrent == "current_password_required")
        let renamed = try await accounts.updateUser(
            principal, displayName: "Ana B", email: "new@example.com", newPassword: "another long one", currentPassword: "long enough")
        #expect(renamed.displayName == "Ana B")
        #expect(try await accounts.login(email: "new@example.com", password: "another long one").id == user.id)
        #expect(
            await Self.code { _ = try await accounts.register(email: "new@example.com", password: "long enough", displayName: "B", role: .artist) }
                == "email_taken")
    }

    @Test("catalog: only artists publish, only owners (and admins) change, and every change reaches the index in its transaction")
    func catalogOwnership() async throws {
        let fixture = ServiceFixture()
        let catalog = fixture.services.catalog
        let (_, artist) = try await fixture.account(.artist)
        let (_, other) = try await fixture.account(.artist)
        let (_, listener) = try await fixture.account(.listener)
        let admin = Principal(userId: UUID(), role: .admin)
        #expect(await Self.code { _ = try await catalog.createArtist(listener, name: "Nope", bio: nil, country: nil) } == "artist_role_required")
        let profile = try await catalog.createArtist(artist, name: " Sigur Rós ", bio: nil, country: "is")
        #expect(profile.name == "Sigur Rós")
        #expect(profile.country == "IS")
        #expect(await Self.code { _ = try await catalog.updateArtist(other, id: profile.id, name: "Mine", bio: nil, country: nil) } == "forbidden")
        #expect(
            await Self.code { _ = try await catalog.createAlbum(other, artistId: profile.id, title: "X", genre: nil, releaseDate: nil) }
                == "forbidden")
        let album = try await catalog.createAlbum(artist, artistId: profile.id, title: "Ágætis byrjun", genre: "", releaseDate: "1999-06-12")
        #expect(album.genre == nil)
        let renamed = try await catalog.updateArtist(admin, id: profile.id, name: "Sigur Ros", bio: nil, country: "")
        #expect(renamed.country == nil)
        _ = try await catalog.updateAlbum(artist, id: album.id, title: nil, genre: "post-rock", releaseDate: nil)  // no title change: no cascade
        let id = { (uuid: UUID) in uuid.uuidString.lowercased() }
        #expect(fixture.store.indexLog == ["artist \(id(profile.id))", "album \(id(album.id))", "artist \(id(profile.id)) +"])
    }

    @Test("tracks: an upload is the caller's, is filed under the track, and the row, index entry and job commit together or not at all")
    func trackCreation() async throws {
        let fixture = ServiceFixture()
        let (_, artist) = try await fixture.account(.artist)
        let (_, mallory) = try await fixture.account(.artist)
        let profile = try await fixture.services.catalog.createArtist(artist, name: "A", bio: nil, country: nil)
        let album = try await fixture.services.catalog.createAlbum(artist, artistId: profile.id, title: "B", genre: nil, releaseDate: nil)
        let tracks = fixture.services.tracks

        let theirs = try await fixture.upload(mallory)
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "T", trackUrl: theirs, trackNumber: nil) }
                == "upload_not_yours")
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "T", trackUrl: "blob:nope", trackNumber: nil) }
                == "invalid_track_url")
        let never = try await tracks.uploadGrant(artist).trackUrl  // granted, never uploaded
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "T", trackUrl: never, trackNumber: nil) }
                == "upload_missing")
        let huge = try await fixture.upload(artist, size: 1001)
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "T", trackUrl: huge, trackNumber: nil) }
                == "upload_too_large")
        // A declared size binds the URL to it, and one over the limit is refused before any byte is sent.
        let declared = try await tracks.uploadGrant(artist, size: 700)
        #expect(declared.maxBytes == 700 && declared.uploadUrl.contains("/700/"))
        #expect(await Self.code { _ = try await tracks.uploadGrant(artist, size: 1001) } == "upload_too_large")
        #expect(await Self.code { _ = try await tracks.uploadGrant(artist, size: 0) } == "invalid_parameter")

        let upload = try await fixture.upload(artist)
        let track = try await tracks.createTrack(artist, albumId: album.id, title: "First", trackUrl: upload, trackNumber: 3)
        #expect(track.status == .processing)
        let source = try #require(track.sourceKey)
        #expect(try await fixture.blobs.info(source)?.size == 100)
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "Again", trackUrl: upload, trackNumber: nil) }
                == "upload_missing")
        let job = try #require(try await fixture.store.jobs.lease(owner: "w", duration: .seconds(60), now: Date()))
        #expect(try TrackProcessingJob(payload: job.payload) == TrackProcessingJob(trackId: track.id, sourceKey: source))
        #expect(fixture.store.indexLog.last == "track \(track.id.uuidString.lowercased())")

        // A clash on the track number: no row, no job, no index entry, and the upload is given back.
        let second = try await fixture.upload(artist)
        let reference = try UploadReference(parsing: second, for: artist)
        let logBefore = fixture.store.indexLog
        #expect(
            await Self.code { _ = try await tracks.createTrack(artist, albumId: album.id, title: "Clash", trackUrl: second, trackNumber: 3) }
                == "track_number_taken")
        #expect(try await fixture.blobs.info(reference.key) != nil)
        #expect(try await fixture.store.jobs.lease(owner: "w", duration: .seconds(60), now: Date()) == nil)
        #expect(fixture.store.indexLog == logBefore)
        #expect(try await tracks.tracks(albumId: album.id, page: try PageRequest()).items.map(\.id) == [track.id])
    }

    @Test("tracks: replacing audio keeps the track playable, a newer upload supersedes a waiting one, deleting removes every object")
    func replacementAndDeletion() async throws {
        let fixture = ServiceFixture()
        let (_, artist) = try await fixture.account(.artist)
        let tracks = fixture.services.tracks
        let (_, _, track) = try await fixture.publishedTrack(artist)
        let media = DataStoreContract.media(for: track)
        _ = try await fixture.store.tracks.updateTrack(id: track.id) { track in
            track.media = media
            track.status = .ready
            track.sourceKey = nil
        }
        _ = try fixture.blobs.store(Data([1]), at: media.original.key)

        #expect(
            await Self.code { _ = try await tracks.updateTrack(artist, id: track.id, albumId: nil, title: nil, trackNumber: nil, trackUrl: nil) }
                == "empty_patch")
        let first = try await tracks.updateTrack(
            artist, id: track.id, albumId: nil, title: nil, trackNumber: nil, trackUrl: try await fixture.upload(artist))
        #expect(first.status == .ready)  // the current audio keeps playing
        #expect(first.hasPendingReplacement)
        let waiting = try #require(first.sourceKey)
        let second = try await tracks.updateTrack(
            artist, id: track.id, albumId: nil, title: "T2", trackNumber: nil, trackUrl: try await fixture.upload(artist))
        #expect(second.sourceKey != waiting)
        #expect(try await fixture.blobs.info(waiting) == nil)  // superseded before it was processed

        try await tracks.deleteTrack(artist, id: track.id)
        #expect(try await fixture.blobs.list(under: TrackKeys.prefix(of: track.id)).isEmpty)
        #expect(fixture.store.indexLog.last == "removed \(track.id.uuidString.lowercased())")
        #expect(await Self.code { try await tracks.deleteTrack(artist, id: track.id) } == "track_not_found")
    }

    @Test("playback: only ready tracks stream, with URLs signed for the track's media prefix, and streaming records nothing")
    func playback() async throws {
        let fixture = ServiceFixture()
        let (_, artist) = try await fixture.account(.artist)
        let (_, listener) = try await fixture.account(.listener)
        let (_, _, track) = try await fixture.publishedTrack(artist)
        let playback = fixture.services.playback
        #expect(await Self.code { _ = try await playback.stream(listener, trackId: track.id) } == "track_not_ready")
        _ = try await fixture.store.tracks.updateTrack(id: track.id) {
            $0.status = .failed; $0.failure = TrackFailure(code: "invalid_audio", message: "Not audio.")
        }
        #expect(await Self.code { _ = try await playback.stream(listener, trackId: track.id) } == "track_failed")
        let media = DataStoreContract.media(for: track)
        _ = try await fixture.store.tracks.updateTrack(id: track.id) {
            $0.status = .ready; $0.media = media
        }
        let grant = try await playback.stream(listener, trackId: track.id)
        #expect(grant.hls.hasSuffix("/\(media.prefix.rawValue)/-/\(media.hlsMaster.rawValue)"))
        #expect(grant.progressive.map(\.file) == [media.original] + media.progressive)
        #expect(grant.expiresAt == ServiceFixture.now.addingTimeInterval(3600))
        #expect(try await fixture.services.plays.history(listener, page: try PageRequest()).items.isEmpty)
    }

    @Test("plays: idempotent per play id, counted from 30 s or a short track played through, popularity moves once")
    func plays() async throws {
        let fixture = ServiceFixture()
        let (_, artist) = try await fixture.account(.artist)
        let (_, listener) = try await fixture.account(.listener)
        let (_, _, track) = try await fixture.publishedTrack(artist)
        let plays = fixture.services.plays
        _ = try await fixture.store.tracks.updateTrack(id: track.id) { $0.durationMs = 200_000 }
        let id = UUID()
        let first = try await plays.report(listener, playId: id, trackId: track.id, msPlayed: 29_999, playedAt: nil)
        #expect(first.recorded)
        #expect(first.play.counts == false)  // a skip: under 30 s of a long track
        #expect(try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: 30_000, playedAt: nil).play.counts)
        _ = try await fixture.store.tracks.updateTrack(id: track.id) { $0.durationMs = 20_000 }
        #expect(try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: 20_000, playedAt: nil).play.counts)  // played through
        #expect(try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: 19_999, playedAt: nil).play.counts == false)
        let again = try await plays.report(listener, playId: id, trackId: track.id, msPlayed: 29_999, playedAt: nil)
        #expect(again.recorded == false)
        let played = fixture.store.indexLog.filter { $0.hasPrefix("played") }
        #expect(played.count == 2)  // the two counted plays, never a skip or a repeat
        // A play reported late (an offline player syncing) is history at its own time, popularity at the server's.
        let monthAgo = ServiceFixture.now.addingTimeInterval(-30 * 86_400)
        let late = try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: 40_000, playedAt: monthAgo)
        #expect(late.play.playedAt == monthAgo)
        #expect(fixture.store.indexLog.last == "played \(track.id.uuidString.lowercased()) at \(Int(ServiceFixture.now.timeIntervalSince1970))")
        #expect(try await plays.playCount(trackId: track.id) == 3)
        #expect(
            await Self.code { _ = try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: -1, playedAt: nil) } == "invalid_play"
        )
        let future = ServiceFixture.now.addingTimeInterval(3600)
        #expect(
            await Self.code { _ = try await plays.report(listener, playId: UUID(), trackId: track.id, msPlayed: 1, playedAt: future) }
                == "invalid_play")
        #expect(
            await Self.code { _ = try await plays.report(listener, playId: UUID(), trackId: UUID(), msPlayed: 40_000, playedAt: nil) }
                == "track_not_found")
        #expect(try await plays.history(listener, page: try PageRequest()).items.map(\.playedAt).last == monthAgo)  // oldest last
        #expect(try await plays.history(listener, page: try PageRequest()).items.count == 5)
    }

    @Test("deleting an account removes its unattached uploads too")
    func accountDeletion() async throws {
        let fixture = ServiceFixture()
        let (user, artist) = try await fixture.account(.artist)
        let (_, other) = try await fixture.account(.artist)
        _ = try await fixture.upload(artist)
        let kept = try await fixture.upload(other)
        let (_, _, track) = try await fixture.publishedTrack(artist)
        #expect(try await fixture.blobs.list(under: UploadReference.prefix(of: user.id)).count == 1)
        try await fixture.services.accounts.deleteUser(artist)
        #expect(try await fixture.blobs.list(under: UploadReference.prefix(of: user.id)).isEmpty)
        #expect(try await fixture.blobs.list(under: TrackKeys.prefix(of: track.id)).isEmpty)
        #expect(try await fixture.blobs.info(try UploadReference(parsing: kept, for: other).key) != nil)
        #expect(await Self.code { _ = try await fixture.services.accounts.user(artist) } == "user_not_found")
    }

    @Test("playlists: private ones do not exist for others, only the owner edits, positions are checked")
    func playlists() async throws {
        let fixture = ServiceFixture()
        let (_, owner) = try await fixture.account(.listener)
        let (_, other) = try await fixture.account(.listener)
        let service = fixture.services.playlists
        let playlist = try await service.createPlaylist(owner, title: "Mine", isPublic: false)
        #expect(await Self.code { _ = try await service.playlist(other, id: playlist.id) } == "playlist_not_found")
        _ = try await service.updatePlaylist(owner, id: playlist.id, title: nil, isPublic: true)
        #expect(try await service.playlist(other, id: playlist.id).id == playlist.id)
        #expect(await Self.code { _ = try await service.updatePlaylist(other, id: playlist.id, title: "Theirs", isPublic: nil) } == "forbidden")
        #expect(await Self.code { _ = try await service.addToPlaylist(owner, id: playlist.id, trackId: UUID(), position: nil) } == "track_not_found")
        #expect(await Self.code { _ = try await service.removeFromPlaylist(owner, id: playlist.id, position: -1) } == "invalid_position")
        #expect(await Self.code { _ = try await service.removeFromPlaylist(owner, id: playlist.id, position: 0) } == "playlist_entry_not_found")
    }
}

@Suite("App passwords", .timeLimit(.minutes(1)))
struct AppPasswordTests {
    @Test("created with a secret shown once, checked by the caller's rule, revoked one by one, per account")
    func lifecycle() async throws {
        let fixture = ServiceFixture()
        let service = fixture.services.appPasswords
        let (user, principal) = try await fixture.account(.listener)
        let (_, other) = try await fixture.account(.listener)
        let (phone, secret) = try await service.create(principal, name: " Symfonium ")
        #expect(phone.name == "Symfonium")
        #expect(secret.count == 32)
        #expect(secret.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        let (_, desktop) = try await service.create(principal, name: "Feishin")
        #expect(desktop != secret)
        // Both made at the fixture's one instant: listed oldest first, ties in any order.
        #expect(Set(try await service.list(principal).map(\.name)) == ["Symfonium", "Feishin"])
        #expect(try await service.list(other).isEmpty)

        // The caller decides how a request proves the secret (clear, or hashed with a salt).
        let found = try await service.authenticate(email: user.email.uppercased(), matches: { $0 == secret })
        #expect(found?.user == user)
        #expect(found?.password.id == phone.id)
        #expect(try await service.list(principal).first { $0.id == phone.id }?.lastUsedAt == ServiceFixture.now)
        #expect(try await service.list(principal).first { $0.id != phone.id }?.lastUsedAt == nil)
        #expect(try await service.authenticate(email: user.email, matches: { $0 == "wrong" }) == nil)
        #expect(try await service.authenticate(email: "nobody@example.com", matches: { _ in true }) == nil)
        #expect(try await service.authenticate(apiKey: desktop)?.user == user)
        #expect(try await service.authenticate(apiKey: secret + "x") == nil)

        #expect(await errorCode { try await service.revoke(other, id: phone.id) } == "app_password_not_found")
        try await service.revoke(principal, id: phone.id)
        #expect(try await service.authenticate(email: user.email, matches: { $0 == secret }) == nil)
        #expect(try await service.authenticate(apiKey: secret) == nil)
        #expect(await errorCode { _ = try await service.create(principal, name: "  ") } == "invalid_name")
    }

    @Test("an account holds at most 50")
    func limit() async throws {
        let fixture = ServiceFixture()
        let (_, principal) = try await fixture.account(.listener)
        for index in 0..<AppPasswordService.maxPerUser { _ = try await fixture.services.appPasswords.create(principal, name: "App \(index)") }
        #expect(await errorCode { _ = try await fixture.services.appPasswords.create(principal, name: "One more") } == "app_password_limit")
    }

    @Test("the test-only sealer keeps the sealer contract")
    func testSealer() throws {
        try SecretSealerContract.check { TestOnlySealer() }
    }
}

@Suite("Never-attached uploads are swept")
struct UploadSweeperTests {
    @Test("uploads older than the limit go; newer uploads and everything outside uploads/ stay")
    func sweep() async throws {
        let blobs = InMemoryBlobStore()
        let old = BlobKey("uploads/u1/a")!
        let other = BlobKey("uploads/u2/b")!
        let track = BlobKey("tracks/t/source-x")!
        for key in [old, other, track] { _ = try blobs.store(Data("x".utf8), at: key) }
        let sweeper = UploadSweeper(blobs: blobs, maxAge: .seconds(3600))
        #expect(try await sweeper.sweep(now: Date()) == 0)  // all are new
        #expect(try await sweeper.sweep(now: Date().addingTimeInterval(3601)) == 2)
        #expect(blobs.keys == [track])
        #expect(try await sweeper.sweep(now: Date().addingTimeInterval(7200)) == 0)
    }
}
