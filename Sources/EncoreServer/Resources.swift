import EncoreCore
import Foundation

// The JSON shapes of the API. Domain types that are already what a client should see are sent as they
// are (User, Artist, Album, Playlist); tracks hide their storage key.

/// A track as clients see it.
struct TrackResource: Codable, Sendable {
    var id: UUID
    var albumId: UUID
    var artistId: UUID
    var title: String
    var trackNumber: Int
    var durationMs: Int
    var status: TrackStatus
    var audio: AudioResource
    var createdAt: Date
    var updatedAt: Date

    struct AudioResource: Codable, Sendable {
        var container: String
        var codec: String
        var contentType: String
        var sampleRate: Int
        var channels: Int
        var bitRate: Int?
        var sizeBytes: Int
    }

    init(_ track: Track) {
        id = track.id
        albumId = track.albumId
        artistId = track.artistId
        title = track.title
        trackNumber = track.trackNumber
        durationMs = track.durationMs
        status = track.status
        audio = AudioResource(
            container: track.audio.container, codec: track.audio.codec,
            contentType: AudioFormats.contentType(forExtension: track.blobKey.pathExtension), sampleRate: track.audio.sampleRate,
            channels: track.audio.channels, bitRate: track.audio.bitRate, sizeBytes: track.audio.sizeBytes)
        createdAt = track.createdAt
        updatedAt = track.updatedAt
    }
}

struct PlaylistEntryResource: Codable, Sendable {
    var position: Int
    var addedAt: Date
    var track: TrackResource

    init(_ entry: PlaylistEntry) {
        position = entry.position
        addedAt = entry.addedAt
        track = TrackResource(entry.track)
    }
}

struct SessionResource: Codable, Sendable {
    var user: User
    var token: String
    var expiresAt: Date
}

struct DeletedResource: Codable, Sendable {
    var id: UUID
}

// MARK: Request bodies

struct RegisterBody: Decodable {
    var email: String
    var password: String
    var displayName: String
    var role: Role
}

struct LoginBody: Decodable {
    var email: String
    var password: String
}

struct UserPatchBody: Decodable {
    var displayName: String?
    var email: String?
    var password: String?
    var currentPassword: String?
}

struct ArtistBody: Decodable {
    var name: String
    var bio: String?
    var country: String?
}

struct ArtistPatchBody: Decodable {
    var name: String?
    var bio: String?
    var country: String?
}

struct AlbumBody: Decodable {
    var artistId: UUID
    var title: String
    var genre: String?
    var releaseDate: String?
}

struct AlbumPatchBody: Decodable {
    var title: String?
    var genre: String?
    var releaseDate: String?
}

struct TrackBody: Decodable {
    var albumId: UUID
    var title: String
    var trackUrl: String
    var trackNumber: Int?
}

struct TrackPatchBody: Decodable {
    var albumId: UUID?
    var title: String?
    var trackNumber: Int?
    var trackUrl: String?
}

struct PlaylistBody: Decodable {
    var title: String
    var isPublic: Bool?
}

struct PlaylistPatchBody: Decodable {
    var title: String?
    var isPublic: Bool?
}

struct PlaylistAddBody: Decodable {
    var trackId: UUID
    var position: Int?
}

struct PlaylistMoveBody: Decodable {
    var from: Int
    var to: Int
}
