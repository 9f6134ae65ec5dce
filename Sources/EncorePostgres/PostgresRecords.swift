import EncoreCore
import Foundation
import PostgresNIO

// Rows to domain values. Each entity's columns are listed once (`…Columns`), so that every query that
// reads an entity selects the same columns and decodes them the same way.

enum PostgresRecords {
    static let userColumns = "id, email, password_hash, display_name, role, created_at, updated_at"

    static func user(_ row: PostgresRandomAccessRow) throws -> User {
        let role: String = try row.value("role")
        guard let parsed = Role(rawValue: role) else { throw corrupt("app_user.role \(role)") }
        return User(
            id: try row.value("id"), email: try row.value("email"), displayName: try row.value("display_name"), role: parsed,
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static let artistColumns = "artist.id, artist.owner_id, artist.name, artist.bio, artist.country, artist.created_at, artist.updated_at"

    static func artist(_ row: PostgresRandomAccessRow) throws -> Artist {
        Artist(
            id: try row.value("id"), ownerId: try row.value("owner_id"), name: try row.value("name"), bio: try row.value("bio"),
            country: try row.value("country"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static let albumColumns =
        "album.id, album.artist_id, album.title, album.genre, album.release_date, album.cover, album.created_at, album.updated_at"

    static func album(_ row: PostgresRandomAccessRow) throws -> Album {
        Album(
            id: try row.value("id"), artistId: try row.value("artist_id"), title: try row.value("title"), genre: try row.value("genre"),
            releaseDate: try row.value("release_date"), cover: try row.json("cover", as: CoverArt.self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }

    static let trackColumns = """
        track.id, track.album_id, track.artist_id, track.title, track.track_number, track.duration_ms, track.status, track.audio, \
        track.media, track.source_key, track.failure_code, track.failure_message, track.linked_track_id, track.created_at, track.updated_at
        """

    static func track(_ row: PostgresRandomAccessRow) throws -> Track {
        let status: String = try row.value("status")
        guard let parsedStatus = TrackStatus(rawValue: status) else { throw corrupt("track.status \(status)") }
        var key: BlobKey?
        if let sourceKey = try row.value("source_key", as: String?.self) {
            guard let parsed = BlobKey(sourceKey) else { throw corrupt("track.source_key \(sourceKey)") }
            key = parsed
        }
        let failureMessage: String? = try row.value("failure_message")
        let failure = try row.value("failure_code", as: String?.self).map { TrackFailure(code: $0, message: failureMessage ?? "") }
        return Track(
            id: try row.value("id"), albumId: try row.value("album_id"), artistId: try row.value("artist_id"), title: try row.value("title"),
            trackNumber: try row.value("track_number"), durationMs: try row.value("duration_ms"), status: parsedStatus,
            audio: try row.json("audio", as: AudioInfo.self), media: try row.json("media", as: TrackMedia.self), sourceKey: key, failure: failure,
            linkedTrackId: try row.value("linked_track_id"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static let playColumns = "id, user_id, track_id, played_at, ms_played, counts"

    static func play(_ row: PostgresRandomAccessRow) throws -> Play {
        Play(
            id: try row.value("id"), userId: try row.value("user_id"), trackId: try row.value("track_id"), playedAt: try row.date("played_at"),
            msPlayed: try row.value("ms_played"), counts: try row.value("counts"))
    }

    static let jobColumns =
        "id, kind, payload, state, attempts, max_attempts, run_at, lease_owner, lease_expires_at, last_error, created_at, updated_at"

    static func job(_ row: PostgresRandomAccessRow) throws -> Job {
        let state: String = try row.value("state")
        guard let parsed = Job.State(rawValue: state) else { throw corrupt("job.state \(state)") }
        return Job(
            id: try row.value("id"), kind: try row.value("kind"), payload: try row.value("payload"), state: parsed,
            attempts: try row.value("attempts"), maxAttempts: try row.value("max_attempts"), runAt: try row.date("run_at"),
            leaseOwner: try row.value("lease_owner"), leaseExpiresAt: try row.optionalDate("lease_expires_at"),
            lastError: try row.value("last_error"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func corrupt(_ what: String) -> EncoreError {
        EncoreError(.corruptRow, "Unexpected stored value: \(what)")
    }

    /// Sub-fingerprints as little-endian 32-bit words, as the SQLite store keeps them.
    static func fingerprintBytes(_ fingerprint: AudioFingerprint) -> Data {
        var data = Data(capacity: fingerprint.values.count * 4)
        for value in fingerprint.values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func fingerprint(raw: Data, durationSeconds: Double) -> AudioFingerprint {
        let bytes = [UInt8](raw)
        var values: [UInt32] = []
        values.reserveCapacity(bytes.count / 4)
        for index in stride(from: 0, to: bytes.count - bytes.count % 4, by: 4) {
            values.append(UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
        }
        return AudioFingerprint(durationSeconds: durationSeconds, values: values)
    }
}
