import EncoreCore
import Foundation
import GRDB

// Row types: the SQL shape of the domain entities. Dates are stored as seconds since 1970 (a double),
// so that they round-trip exactly.

struct UserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "user"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

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
        guard let role = Role(rawValue: role) else { throw SQLiteCatalogStore.corrupt("user.role \(role)") }
        return User(id: id, email: email, displayName: displayName, role: role, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct ArtistRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "artist"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

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

struct AlbumRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "album"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

    var id: UUID
    var artistId: UUID
    var title: String
    var genre: String?
    var releaseDate: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ a: Album) {
        id = a.id
        artistId = a.artistId
        title = a.title
        genre = a.genre
        releaseDate = a.releaseDate
        createdAt = a.createdAt
        updatedAt = a.updatedAt
    }

    var domain: Album {
        Album(id: id, artistId: artistId, title: title, genre: genre, releaseDate: releaseDate, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct TrackRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "track"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

    var id: UUID
    var albumId: UUID
    var artistId: UUID
    var title: String
    var trackNumber: Int
    var durationMs: Int
    var status: String
    var blobKey: String
    var container: String
    var codec: String
    var sampleRate: Int
    var channels: Int
    var bitRate: Int?
    var sizeBytes: Int
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
        blobKey = t.blobKey.rawValue
        container = t.audio.container
        codec = t.audio.codec
        sampleRate = t.audio.sampleRate
        channels = t.audio.channels
        bitRate = t.audio.bitRate
        sizeBytes = t.audio.sizeBytes
        createdAt = t.createdAt
        updatedAt = t.updatedAt
    }

    func domain() throws -> Track {
        guard let status = TrackStatus(rawValue: status) else { throw SQLiteCatalogStore.corrupt("track.status \(status)") }
        guard let key = BlobKey(blobKey) else { throw SQLiteCatalogStore.corrupt("track.blobKey \(blobKey)") }
        let audio = AudioInfo(
            container: container, codec: codec, durationMs: durationMs, sampleRate: sampleRate, channels: channels,
            bitRate: bitRate, sizeBytes: sizeBytes)
        return Track(
            id: id, albumId: albumId, artistId: artistId, title: title, trackNumber: trackNumber, durationMs: durationMs,
            status: status, audio: audio, blobKey: key, createdAt: createdAt, updatedAt: updatedAt)
    }
}

struct PlaylistRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "playlist"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

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

struct PlaylistEntryRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "playlistEntry"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970
    static let databaseDateDecodingStrategy = DatabaseDateDecodingStrategy.timeIntervalSince1970

    var playlistId: UUID
    var ordinal: Int
    var trackId: UUID
    var addedAt: Date
}

struct PlayEventRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "playEvent"
    static let databaseDateEncodingStrategy = DatabaseDateEncodingStrategy.timeIntervalSince1970

    var userId: UUID
    var trackId: UUID
    var playedAt: Date
}
