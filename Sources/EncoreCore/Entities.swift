import Foundation

/// What a user may do. Roles are ordered by privilege only where the rules say so (`admin` may act as any owner).
public enum Role: String, Codable, Sendable, CaseIterable {
    case listener
    case artist
    case admin
}

/// A person with an account.
public struct User: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var email: String
    public var displayName: String
    public var role: Role
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, email: String, displayName: String, role: Role, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.role = role
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An artist profile. One artist user may own several (a solo name and a band, say).
public struct Artist: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var ownerId: UUID
    public var name: String
    public var bio: String
    /// ISO 3166-1 alpha-2 country code, upper case, or nil when unknown.
    public var country: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerId: UUID, name: String, bio: String, country: String?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.ownerId = ownerId
        self.name = name
        self.bio = bio
        self.country = country
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An album; a single is an album of one track.
public struct Album: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var artistId: UUID
    public var title: String
    public var genre: String?
    /// Calendar date `YYYY-MM-DD`, or nil when unknown.
    public var releaseDate: String?
    /// The cover's thumbnails, once an image was uploaded or found embedded in a track.
    public var cover: CoverArt?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, artistId: UUID, title: String, genre: String?, releaseDate: String?, cover: CoverArt? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.artistId = artistId
        self.title = title
        self.genre = genre
        self.releaseDate = releaseDate
        self.cover = cover
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where a track is in its life.
public enum TrackStatus: String, Codable, Sendable {
    /// Known to the catalog (imported metadata) but no audio has been uploaded yet.
    case pending
    /// Accepted, the media pipeline is still working on it.
    case processing
    /// Validated and streamable.
    case ready
    /// The pipeline gave up; see the failure reason.
    case failed
}

/// What ffprobe found in an audio file.
public struct AudioInfo: Codable, Sendable, Equatable {
    /// Container format as ffprobe names it (`flac`, `mp3`, `wav`, `ogg`, `mov,mp4,m4a,3gp,3g2,mj2`, …).
    public var container: String
    /// Codec of the first audio stream (`flac`, `mp3`, `aac`, `vorbis`, `opus`, `pcm_s16le`, …).
    public var codec: String
    public var durationMs: Int
    public var sampleRate: Int
    public var channels: Int
    /// Average bit rate in bits per second, when known.
    public var bitRate: Int?
    public var sizeBytes: Int

    public init(container: String, codec: String, durationMs: Int, sampleRate: Int, channels: Int, bitRate: Int?, sizeBytes: Int) {
        self.container = container
        self.codec = codec
        self.durationMs = durationMs
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
        self.sizeBytes = sizeBytes
    }
}

/// A track: metadata, and once the pipeline has run, its audio in every served form.
///
/// `status` is `processing` until the first upload has been processed, then `ready` (media is set) or
/// `failed` (failure says why). A replacement upload leaves a ready track ready, with its old media,
/// until the new media is committed; `sourceKey` is set while an upload waits for the pipeline.
public struct Track: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var albumId: UUID
    /// Denormalised from the album so ownership checks and listings need no join.
    public var artistId: UUID
    public var title: String
    public var trackNumber: Int
    /// 0 until the audio has been probed.
    public var durationMs: Int
    public var status: TrackStatus
    /// What the current original holds; nil until processed.
    public var audio: AudioInfo?
    /// The committed renditions; nil until processed.
    public var media: TrackMedia?
    /// An upload waiting for (or in) the pipeline.
    public var sourceKey: BlobKey?
    /// Why the last processing failed.
    public var failure: TrackFailure?
    /// Another track of the same artist with the same recording (a re-upload).
    public var linkedTrackId: UUID?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, albumId: UUID, artistId: UUID, title: String, trackNumber: Int, durationMs: Int = 0, status: TrackStatus = .processing,
        audio: AudioInfo? = nil, media: TrackMedia? = nil, sourceKey: BlobKey? = nil, failure: TrackFailure? = nil,
        linkedTrackId: UUID? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.albumId = albumId
        self.artistId = artistId
        self.title = title
        self.trackNumber = trackNumber
        self.durationMs = durationMs
        self.status = status
        self.audio = audio
        self.media = media
        self.sourceKey = sourceKey
        self.failure = failure
        self.linkedTrackId = linkedTrackId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension Track {
    /// Ready and with media: a stream can be issued for it.
    public var isPlayable: Bool { status == .ready && media != nil }

    /// A replacement upload is being processed while the current audio keeps playing.
    public var hasPendingReplacement: Bool { media != nil && sourceKey != nil }
}

/// A user's ordered list of tracks.
public struct Playlist: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var ownerId: UUID
    public var title: String
    public var isPublic: Bool
    public var trackCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerId: UUID, title: String, isPublic: Bool, trackCount: Int, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.ownerId = ownerId
        self.title = title
        self.isPublic = isPublic
        self.trackCount = trackCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One slot of a playlist. `position` is zero-based and dense; the same track may appear twice.
public struct PlaylistEntry: Codable, Sendable, Equatable {
    public var position: Int
    public var track: Track
    public var addedAt: Date

    public init(position: Int, track: Track, addedAt: Date) {
        self.position = position
        self.track = track
        self.addedAt = addedAt
    }
}

/// A listening report: a user played a track for `msPlayed` milliseconds.
///
/// `id` is chosen by the client, so a report sent twice (a retry after a lost response) is recorded once.
/// A stream URL is not a play: only reports are.
public struct Play: Codable, Sendable, Equatable {
    /// Listening shorter than this is a skip, as streaming services count it.
    public static let countingThresholdMs = 30_000

    public var id: UUID
    public var userId: UUID
    public var trackId: UUID
    /// When playback started.
    public var playedAt: Date
    public var msPlayed: Int
    /// Whether this play counts toward popularity, play counts and charts.
    public var counts: Bool

    public init(id: UUID, userId: UUID, trackId: UUID, playedAt: Date, msPlayed: Int, counts: Bool) {
        self.id = id
        self.userId = userId
        self.trackId = trackId
        self.playedAt = playedAt
        self.msPlayed = msPlayed
        self.counts = counts
    }

    /// A play counts at 30 s, or once a track shorter than that has played through.
    public static func counts(msPlayed: Int, trackDurationMs: Int) -> Bool {
        msPlayed >= countingThresholdMs || (trackDurationMs > 0 && msPlayed >= trackDurationMs)
    }
}

extension UUID {
    /// A version 7 UUID: the first 48 bits are the Unix time in milliseconds, the rest random. Keys made
    /// one after another sort together, so bulk inserts append to B-trees instead of scattering.
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        // A random UUID supplies the random bits in one call.
        let random = UUID().uuid
        var bytes = [
            random.0, random.1, random.2, random.3, random.4, random.5, random.6, random.7, random.8, random.9, random.10, random.11,
            random.12, random.13, random.14, random.15,
        ]
        let milliseconds = UInt64(max(date.timeIntervalSince1970, 0) * 1000)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

/// This build's version, as APIs report it.
public enum EncoreVersion {
    public static let current = "0.4.0"
}
