import EncoreCore
import Foundation
import GRDB

// Row types: the SQL shape of the domain entities.

/// A record whose dates are stored as seconds since 1970 (a double), so that they round-trip exactly
/// (GRDB's default text format keeps milliseconds only).
protocol EpochDatedRecord: FetchableRecord, PersistableRecord {}

extension EpochDatedRecord {
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

struct UserRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "user"

    var id: UUID
    var email: String
    var passwordHash: String
    var displayName: String
    var role: String
    var createdAt: Date
    var updatedAt: Date

    init(_ user: User, passwordHash: String) {
        id = user.id
        email = user.email
        self.passwordHash = passwordHash
        displayName = user.displayName
        role = user.role.rawValue
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }

    func domain() throws -> User {
        guard let role = Role(rawValue: role) else { throw SQLiteExecutor.corrupt("user.role \(role)") }
        return User(id: id, email: email, displayName: displayName, role: role, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct ArtistRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "artist"

    var id: UUID
    var ownerId: UUID
    var name: String
    var bio: String
    var country: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ a: Artist) {
        id = a.id
        ownerId = a.ownerId
        name = a.name
        bio = a.bio
        country = a.country
        createdAt = a.createdAt
        updatedAt = a.updatedAt
    }

    var domain: Artist {
        Artist(id: id, ownerId: ownerId, name: name, bio: bio, country: country, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct AlbumRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "album"

    var id: UUID
    var artistId: UUID
    var title: String
    var genre: String?
    var releaseDate: String?
    /// JSON, like a track's media.
    var cover: CoverArt?
    var createdAt: Date
    var updatedAt: Date

    init(_ a: Album) {
        id = a.id
        artistId = a.artistId
        title = a.title
        genre = a.genre
        releaseDate = a.releaseDate
        cover = a.cover
        createdAt = a.createdAt
        updatedAt = a.updatedAt
    }

    var domain: Album {
        Album(
            id: id, artistId: artistId, title: title, genre: genre, releaseDate: releaseDate, cover: cover, createdAt: createdAt, updatedAt: updatedAt
        )
    }
}

struct TrackRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "track"

    var id: UUID
    var albumId: UUID
    var artistId: UUID
    var title: String
    var trackNumber: Int
    var durationMs: Int
    var status: String
    /// JSON: GRDB stores nested Codable values as JSON text.
    var audio: AudioInfo?
    var media: TrackMedia?
    var sourceKey: String?
    var failureCode: String?
    var failureMessage: String?
    var linkedTrackId: UUID?
    var createdAt: Date
    var updatedAt: Date

    init(_ t: Track) {
        id = t.id
        albumId = t.albumId
        artistId = t.artistId
        title = t.title
        trackNumber = t.trackNumber
        durationMs = t.durationMs
        status = t.status.rawValue
        audio = t.audio
        media = t.media
        sourceKey = t.sourceKey?.rawValue
        failureCode = t.failure?.code
        failureMessage = t.failure?.message
        linkedTrackId = t.linkedTrackId
        createdAt = t.createdAt
        updatedAt = t.updatedAt
    }

    func domain() throws -> Track {
        guard let status = TrackStatus(rawValue: status) else { throw SQLiteExecutor.corrupt("track.status \(status)") }
        var key: BlobKey?
        if let sourceKey {
            guard let parsed = BlobKey(sourceKey) else { throw SQLiteExecutor.corrupt("track.sourceKey \(sourceKey)") }
            key = parsed
        }
        let failure = failureCode.map { TrackFailure(code: $0, message: failureMessage ?? "") }
        return Track(
            id: id, albumId: albumId, artistId: artistId, title: title, trackNumber: trackNumber, durationMs: durationMs, status: status,
            audio: audio, media: media, sourceKey: key, failure: failure, linkedTrackId: linkedTrackId, createdAt: createdAt,
            updatedAt: updatedAt)
    }
}

struct FingerprintRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "fingerprint"

    var trackId: UUID
    var artistId: UUID
    var durationSeconds: Double
    /// Sub-fingerprints as little-endian 32-bit words.
    var raw: Data

    init(trackId: UUID, artistId: UUID, fingerprint: AudioFingerprint) {
        self.trackId = trackId
        self.artistId = artistId
        durationSeconds = fingerprint.durationSeconds
        var data = Data(capacity: fingerprint.values.count * 4)
        for value in fingerprint.values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        raw = data
    }

    var fingerprint: AudioFingerprint {
        let bytes = [UInt8](raw)
        var values: [UInt32] = []
        values.reserveCapacity(bytes.count / 4)
        for index in stride(from: 0, to: bytes.count - bytes.count % 4, by: 4) {
            var value = UInt32(bytes[index])
            value |= UInt32(bytes[index + 1]) << 8
            value |= UInt32(bytes[index + 2]) << 16
            value |= UInt32(bytes[index + 3]) << 24
            values.append(value)
        }
        return AudioFingerprint(durationSeconds: durationSeconds, values: values)
    }
}

struct PlaylistRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "playlist"

    var id: UUID
    var ownerId: UUID
    var title: String
    var isPublic: Bool
    var createdAt: Date
    var updatedAt: Date

    init(_ p: Playlist) {
        id = p.id
        ownerId = p.ownerId
        title = p.title
        isPublic = p.isPublic
        createdAt = p.createdAt
        updatedAt = p.updatedAt
    }

    func domain(trackCount: Int) -> Playlist {
        Playlist(id: id, ownerId: ownerId, title: title, isPublic: isPublic, trackCount: trackCount, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct PlaylistEntryRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "playlistEntry"

    var playlistId: UUID
    var ordinal: Int
    var trackId: UUID
    var addedAt: Date
}

struct AppPasswordRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "appPassword"

    var id: UUID
    var userId: UUID
    var name: String
    var sealedSecret: Data
    var lookupKey: Data
    var createdAt: Date
    var lastUsedAt: Date?

    var domain: AppPassword { AppPassword(id: id, userId: userId, name: name, createdAt: createdAt, lastUsedAt: lastUsedAt) }
}

struct PlayRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "play"

    var id: UUID
    var userId: UUID
    var trackId: UUID
    var playedAt: Date
    var msPlayed: Int
    var counts: Bool

    init(_ play: Play) {
        id = play.id
        userId = play.userId
        trackId = play.trackId
        playedAt = play.playedAt
        msPlayed = play.msPlayed
        counts = play.counts
    }

    var domain: Play { Play(id: id, userId: userId, trackId: trackId, playedAt: playedAt, msPlayed: msPlayed, counts: counts) }
}
