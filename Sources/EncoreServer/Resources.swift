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
    /// Why the last processing failed (the track is `failed`, or a replacement failed).
    var failureReason: TrackFailure?
    /// A replacement upload being processed while the current audio keeps playing.
    var replacement: Replacement?
    var audio: AudioResource?
    var loudness: Loudness?
    var renditions: [Rendition]?
    var progressive: [Progressive]?
    var linkedTrackId: UUID?
    var createdAt: Date
    var updatedAt: Date

    struct Replacement: Codable, Sendable {
        var status: TrackStatus
    }

    struct AudioResource: Codable, Sendable {
        var container: String
        var codec: String
        var contentType: String
        var sampleRate: Int
        var channels: Int
        var bitRate: Int?
        var sizeBytes: Int
    }

    struct Rendition: Codable, Sendable {
        var protocols: [String]
        var codec: String
        var codecs: String
        var bitrateKbps: Int
        var averageBandwidth: Int
        var peakBandwidth: Int
    }

    struct Progressive: Codable, Sendable {
        var format: String
        var codec: String
        var bitrateKbps: Int?
        var contentType: String
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
        failureReason = track.failure
        replacement = track.media != nil && track.sourceKey != nil ? Replacement(status: .processing) : nil
        if let audio = track.audio {
            self.audio = AudioResource(
                container: audio.container, codec: audio.codec,
                contentType: AudioFormats.contentType(forExtension: track.media?.original.key.pathExtension), sampleRate: audio.sampleRate,
                channels: audio.channels, bitRate: audio.bitRate, sizeBytes: audio.sizeBytes)
        }
        if let media = track.media {
            loudness = media.loudness
            renditions = media.renditions.map {
                Rendition(
                    protocols: ["hls", "dash"], codec: $0.codec, codecs: $0.codecs, bitrateKbps: $0.bitrateKbps,
                    averageBandwidth: $0.averageBandwidth, peakBandwidth: $0.peakBandwidth)
            }
            progressive = ([media.original] + media.progressive).map {
                Progressive(
                    format: $0.format, codec: $0.codec, bitrateKbps: $0.bitrateKbps,
                    contentType: AudioFormats.contentType(forExtension: $0.key.pathExtension), sizeBytes: $0.sizeBytes)
            }
        }
        linkedTrackId = track.linkedTrackId
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
