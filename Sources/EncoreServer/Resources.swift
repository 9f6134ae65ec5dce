import EncoreCore
import Foundation

// The JSON shapes of the API: the API's own types, so that a change in the domain cannot silently change
// what clients see. Ids are written in their canonical lower-case form (RFC 9562); any case is read.

extension UUID {
    /// The id as the API writes it.
    var api: String { uuidString.lowercased() }
}

/// Integrated loudness, true peak and the gain a player should apply, as the API names them.
struct LoudnessResource: Codable, Sendable {
    var integratedLufs: Double
    var truePeakDbtp: Double
    var trackGainDb: Double

    init(_ loudness: Loudness) {
        integratedLufs = loudness.integratedLufs
        truePeakDbtp = loudness.truePeakDbtp
        trackGainDb = loudness.trackGainDb
    }
}

/// Why processing failed, for the artist to read.
struct FailureResource: Codable, Sendable {
    var code: String
    var message: String

    init(_ failure: TrackFailure) {
        code = failure.code
        message = failure.message
    }
}

struct UserResource: Codable, Sendable {
    var id: String
    var email: String
    var displayName: String
    var role: Role
    var createdAt: Date
    var updatedAt: Date

    init(_ user: User) {
        id = user.id.api
        email = user.email
        displayName = user.displayName
        role = user.role
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }
}

struct ArtistResource: Codable, Sendable {
    var id: String
    var ownerId: String
    var name: String
    var bio: String
    var country: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ artist: Artist) {
        id = artist.id.api
        ownerId = artist.ownerId.api
        name = artist.name
        bio = artist.bio
        country = artist.country
        createdAt = artist.createdAt
        updatedAt = artist.updatedAt
    }
}

struct AlbumResource: Codable, Sendable {
    var id: String
    var artistId: String
    var title: String
    var genre: String?
    var releaseDate: String?
    /// Signed URLs of the cover's thumbnails by edge size in pixels ("64", "300", …); absent without a cover.
    var coverUrls: [String: String]?
    var createdAt: Date
    var updatedAt: Date

    init(_ album: Album, coverUrls: [Int: String] = [:]) {
        id = album.id.api
        artistId = album.artistId.api
        title = album.title
        genre = album.genre
        releaseDate = album.releaseDate
        self.coverUrls = coverUrls.isEmpty ? nil : Dictionary(uniqueKeysWithValues: coverUrls.map { (String($0.key), $0.value) })
        createdAt = album.createdAt
        updatedAt = album.updatedAt
    }
}

/// Where to upload a cover image, and the reference to attach it with.
struct CoverUploadGrantResource: Codable, Sendable {
    var uploadUrl: String
    var coverUrl: String
    var expiresAt: Date
    var maxBytes: Int

    init(_ grant: UploadGrant) {
        uploadUrl = grant.uploadUrl
        coverUrl = grant.trackUrl
        expiresAt = grant.expiresAt
        maxBytes = grant.maxBytes
    }
}

struct CoverBody: Decodable {
    var coverUrl: String
}

struct PlaylistResource: Codable, Sendable {
    var id: String
    var ownerId: String
    var title: String
    var isPublic: Bool
    var trackCount: Int
    var createdAt: Date
    var updatedAt: Date

    init(_ playlist: Playlist) {
        id = playlist.id.api
        ownerId = playlist.ownerId.api
        title = playlist.title
        isPublic = playlist.isPublic
        trackCount = playlist.trackCount
        createdAt = playlist.createdAt
        updatedAt = playlist.updatedAt
    }
}

/// An app password as listed; `secret` is present only in the answer that created it.
struct AppPasswordResource: Codable, Sendable {
    var id: String
    var name: String
    var createdAt: Date
    var lastUsedAt: Date?
    var secret: String?

    init(_ password: AppPassword, secret: String? = nil) {
        id = password.id.api
        name = password.name
        createdAt = password.createdAt
        lastUsedAt = password.lastUsedAt
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey { case id, name, createdAt, lastUsedAt, secret }

    /// `lastUsedAt` is written as `null` until first use; `secret` is left out when not shown.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encodeIfPresent(secret, forKey: .secret)
    }
}

struct AppPasswordBody: Decodable {
    var name: String
}

/// A list that is not paged.
struct ItemsResource<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
}

struct PlayResource: Codable, Sendable {
    var id: String
    var trackId: String
    var playedAt: Date
    var msPlayed: Int
    /// Whether the play counts toward popularity and play counts (30 s or more).
    var counted: Bool

    init(_ play: Play) {
        id = play.id.api
        trackId = play.trackId.api
        playedAt = play.playedAt
        msPlayed = play.msPlayed
        counted = play.counts
    }
}

struct UploadGrantResource: Codable, Sendable {
    var uploadUrl: String
    var trackUrl: String
    var expiresAt: Date
    var maxBytes: Int

    init(_ grant: UploadGrant) {
        uploadUrl = grant.uploadUrl
        trackUrl = grant.trackUrl
        expiresAt = grant.expiresAt
        maxBytes = grant.maxBytes
    }
}

/// What a client needs to play a track. Every URL carries the same token, scoped to the track's media.
struct StreamResource: Codable, Sendable {
    struct Progressive: Codable, Sendable {
        var format: String
        var codec: String
        /// Nil for the lossless original.
        var bitrateKbps: Int?
        var contentType: String
        var url: String
    }

    /// The HLS multivariant playlist (what most players want).
    var trackUrl: String
    var hls: String
    var dash: String
    /// Whole files for clients without adaptive streaming; the original comes first.
    var progressive: [Progressive]
    var trackId: String
    var albumId: String
    var artistId: String
    var title: String
    var durationMs: Int
    var loudness: LoudnessResource
    var expiresAt: Date

    init(_ grant: StreamGrant) {
        trackUrl = grant.hls
        hls = grant.hls
        dash = grant.dash
        progressive = grant.progressive.map { file, url in
            Progressive(
                format: file.format, codec: file.codec, bitrateKbps: file.bitrateKbps,
                contentType: AudioFormats.contentType(forExtension: file.key.pathExtension), url: url)
        }
        trackId = grant.track.id.api
        albumId = grant.track.albumId.api
        artistId = grant.track.artistId.api
        title = grant.track.title
        durationMs = grant.track.durationMs
        loudness = LoudnessResource(grant.loudness)
        expiresAt = grant.expiresAt
    }
}

/// A track as clients see it.
struct TrackResource: Codable, Sendable {
    var id: String
    var albumId: String
    var artistId: String
    var title: String
    var trackNumber: Int
    var durationMs: Int
    var status: TrackStatus
    /// Why the last processing failed (the track is `failed`, or a replacement failed).
    var failureReason: FailureResource?
    /// A replacement upload being processed while the current audio keeps playing.
    var replacement: Replacement?
    var audio: AudioResource?
    var loudness: LoudnessResource?
    var renditions: [Rendition]?
    var progressive: [Progressive]?
    var linkedTrackId: String?
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
        id = track.id.api
        albumId = track.albumId.api
        artistId = track.artistId.api
        title = track.title
        trackNumber = track.trackNumber
        durationMs = track.durationMs
        status = track.status
        failureReason = track.failure.map(FailureResource.init)
        replacement = track.hasPendingReplacement ? Replacement(status: .processing) : nil
        if let audio = track.audio {
            self.audio = AudioResource(
                container: audio.container, codec: audio.codec,
                contentType: AudioFormats.contentType(forExtension: track.media?.original.key.pathExtension), sampleRate: audio.sampleRate,
                channels: audio.channels, bitRate: audio.bitRate, sizeBytes: audio.sizeBytes)
        }
        if let media = track.media {
            loudness = LoudnessResource(media.loudness)
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
        linkedTrackId = track.linkedTrackId?.api
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
    var user: UserResource
    var token: String
    var expiresAt: Date
}

struct DeletedResource: Codable, Sendable {
    var id: String
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

    enum CodingKeys: String, CodingKey { case displayName, email, password, currentPassword }

    /// A field may be left out, never sent as null: `""` is how a clearable field is cleared.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        displayName = try container.patchValue(String.self, forKey: .displayName)
        email = try container.patchValue(String.self, forKey: .email)
        password = try container.patchValue(String.self, forKey: .password)
        currentPassword = try container.patchValue(String.self, forKey: .currentPassword)
    }
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

    enum CodingKeys: String, CodingKey { case name, bio, country }

    /// A field may be left out, never sent as null: `""` is how a clearable field is cleared.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.patchValue(String.self, forKey: .name)
        bio = try container.patchValue(String.self, forKey: .bio)
        country = try container.patchValue(String.self, forKey: .country)
    }
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

    enum CodingKeys: String, CodingKey { case title, genre, releaseDate }

    /// A field may be left out, never sent as null: `""` is how a clearable field is cleared.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.patchValue(String.self, forKey: .title)
        genre = try container.patchValue(String.self, forKey: .genre)
        releaseDate = try container.patchValue(String.self, forKey: .releaseDate)
    }
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

    enum CodingKeys: String, CodingKey { case albumId, title, trackNumber, trackUrl }

    /// A field may be left out, never sent as null: `""` is how a clearable field is cleared.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        albumId = try container.patchValue(UUID.self, forKey: .albumId)
        title = try container.patchValue(String.self, forKey: .title)
        trackNumber = try container.patchValue(Int.self, forKey: .trackNumber)
        trackUrl = try container.patchValue(String.self, forKey: .trackUrl)
    }
}

struct PlaylistBody: Decodable {
    var title: String
    var isPublic: Bool?
}

struct PlaylistPatchBody: Decodable {
    var title: String?
    var isPublic: Bool?

    enum CodingKeys: String, CodingKey { case title, isPublic }

    /// A field may be left out, never sent as null: `""` is how a clearable field is cleared.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.patchValue(String.self, forKey: .title)
        isPublic = try container.patchValue(Bool.self, forKey: .isPublic)
    }
}

struct PlaylistAddBody: Decodable {
    var trackId: UUID
    var position: Int?
}

struct PlayBody: Decodable {
    /// Chosen by the client, once per play: a report sent again with the same id is recorded once.
    var playId: UUID
    var trackId: UUID
    var msPlayed: Int
    var playedAt: Date?
}

struct PlaylistMoveBody: Decodable {
    var from: Int
    var to: Int
}

extension KeyedDecodingContainer {
    /// An optional PATCH field: nil when absent, an error when present as `null`.
    func patchValue<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [key], debugDescription: "\(key.stringValue) may be left out but not null"))
        }
        return try decode(type, forKey: key)
    }
}
