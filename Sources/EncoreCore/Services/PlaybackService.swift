import Foundation

/// Playback: signed, expiring URLs for a ready track. Issuing them records nothing; listening is reported
/// through ``PlayService``.
public struct PlaybackService: Sendable {
    let environment: ServiceEnvironment

    /// Signed URLs to play a ready track. One token covers the track's media prefix, so the relative URIs
    /// inside playlists and manifests work as they are.
    public func stream(_ principal: Principal, trackId: UUID) async throws -> StreamGrant {
        let track = try await environment.track(trackId)
        guard track.isPlayable, let media = track.media else {
            if track.status == .pending {
                throw EncoreError(.trackNotReady, "The track has no audio yet.")
            }
            if track.status == .failed, let failure = track.failure {
                throw EncoreError(.trackFailed, "The track could not be processed: \(failure.message) (\(failure.code))")
            }
            throw EncoreError(.trackNotReady, "The track is still being processed.")
        }
        // URLs to a store that is down would fail in the player: say so now, retryably.
        try await environment.blobs.checkWritable()
        let expiresAt = environment.now().addingTimeInterval(environment.settings.streamURLLifetime.timeInterval)
        let scope = media.prefix
        let blobs = environment.blobs
        func url(_ key: BlobKey) throws -> String { try blobs.signedReadURL(for: key, scope: scope, expiresAt: expiresAt) }
        return StreamGrant(
            track: track, hls: try url(media.hlsMaster), dash: try url(media.dashManifest),
            progressive: try ([media.original] + media.progressive).map { file in (file, try url(file.key)) }, loudness: media.loudness,
            expiresAt: expiresAt)
    }
}

/// What a client needs to play a track. The URLs' signatures cover the track's media (on S3, the
/// progressive files' URLs are one pre-signed URL each).
public struct StreamGrant: Sendable {
    public var track: Track
    /// The HLS multivariant playlist (what most players want).
    public var hls: String
    public var dash: String
    /// Whole files for clients without adaptive streaming, each with its URL; the original comes first.
    public var progressive: [(file: MediaFile, url: String)]
    public var loudness: Loudness
    public var expiresAt: Date
}
