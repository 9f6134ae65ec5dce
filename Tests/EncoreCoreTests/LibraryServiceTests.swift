import EncoreCore
import EncoreTestSupport
import Foundation
import Testing

@Suite("Library service rules, over the in-memory store")
struct LibraryServiceTests {
    @Test("ratings are 0…5, stars and ratings need an existing item")
    func marks() async throws {
        let fixture = ServiceFixture()
        let (_, principal) = try await fixture.account(.listener)
        let library = fixture.services.library
        #expect(await errorCode { try await library.rate(principal, LibraryItem(.album, UUID()), rating: 6) } == "invalid_rating")
        #expect(await errorCode { try await library.rate(principal, LibraryItem(.album, UUID()), rating: -1) } == "invalid_rating")
        #expect(await errorCode { try await library.rate(principal, LibraryItem(.album, UUID()), rating: 3) } == "album_not_found")
        #expect(await errorCode { try await library.setStarred(principal, [LibraryItem(.track, UUID())], starred: true) } == "track_not_found")
        // Clearing what was never set is not an error.
        try await library.rate(principal, LibraryItem(.album, UUID()), rating: 0)
        try await library.setStarred(principal, [LibraryItem(.artist, UUID())], starred: false)
    }

    @Test("a saved queue is bounded, its current track is one of its own, and its tracks exist")
    func queues() async throws {
        let fixture = ServiceFixture()
        let (_, artist) = try await fixture.account(.artist)
        let (_, listener) = try await fixture.account(.listener)
        let track = try await fixture.publishedTrack(artist).track
        let library = fixture.services.library
        #expect(
            await errorCode { try await library.savePlayQueue(listener, trackIds: [track.id], current: UUID(), positionMs: 0, client: "x") }
                == "invalid_play_queue")
        #expect(
            await errorCode { try await library.savePlayQueue(listener, trackIds: [track.id], current: nil, positionMs: -1, client: "x") }
                == "invalid_play_queue")
        #expect(
            await errorCode {
                try await library.savePlayQueue(
                    listener, trackIds: Array(repeating: track.id, count: PlayQueue.maxTracks + 1), current: nil, positionMs: 0, client: "x")
            } == "invalid_play_queue")
        #expect(
            await errorCode { try await library.savePlayQueue(listener, trackIds: [UUID()], current: nil, positionMs: 0, client: "x") }
                == "track_not_found")
        try await library.savePlayQueue(listener, trackIds: [track.id, track.id], current: track.id, positionMs: 1500, client: "")
        let saved = try #require(try await library.playQueue(listener))
        #expect(saved.trackIds == [track.id, track.id])
        #expect(saved.changedBy == "unknown")
        #expect(saved.changedAt == ServiceFixture.now)
    }

    @Test("now playing lapses when the track would have ended, one entry per player")
    func nowPlaying() {
        let board = NowPlayingBoard()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let user = User(id: UUID(), email: "a@example.com", displayName: "A", role: .listener, createdAt: start, updatedAt: start)
        var track = DataStoreContract.track(album: DataStoreContract.album(artist: UUID()))
        track.durationMs = 120_000
        board.started(track, by: user, player: "DSub", at: start)
        board.started(track, by: user, player: "DSub", at: start.addingTimeInterval(10))  // the same player again: one entry
        board.started(track, by: user, player: "Feishin", at: start.addingTimeInterval(20))
        #expect(board.current(at: start.addingTimeInterval(30)).map(\.player) == ["Feishin", "DSub"])
        // 120 s of track and a minute's grace from each start.
        #expect(board.current(at: start.addingTimeInterval(191)).map(\.player) == ["Feishin"])
        #expect(board.current(at: start.addingTimeInterval(201)).isEmpty)
    }
}

@Suite("Cover art rules")
struct CoverArtTests {
    @Test("covers are recognised by their first bytes: JPEG, PNG and WebP, nothing else")
    func magic() {
        #expect(CoverImageFormat(magic: [0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(CoverImageFormat(magic: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(CoverImageFormat(magic: Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == .webp)
        #expect(CoverImageFormat(magic: Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)) == nil)  // a WAV is RIFF too
        #expect(CoverImageFormat(magic: Array("GIF89a".utf8)) == nil)
        #expect(CoverImageFormat(magic: []) == nil)
    }

    @Test("a size request gets the smallest thumbnail at least that large, else the largest")
    func sizes() {
        let cover = CoverArt(prefix: CoverKeys.version(albumId: UUID(), id: UUID()), sizes: [600, 64, 300], updatedAt: Date())
        #expect(cover.sizes == [64, 300, 600])
        #expect(cover.size(atLeast: 1) == 64)
        #expect(cover.size(atLeast: 64) == 64)
        #expect(cover.size(atLeast: 65) == 300)
        #expect(cover.size(atLeast: 2000) == 600)
        #expect(cover.size(atLeast: nil) == 600)
        #expect(cover.key(size: 300).rawValue.hasSuffix("/300.jpg"))
    }
}
