import Foundation

/// Uploads and the track lifecycle: upload grants, creating a track from an upload, replacing its audio,
/// changing its metadata, deleting it. Processing itself is the ``TrackPipeline``'s.
public struct TrackService: Sendable {
    let environment: ServiceEnvironment
    var store: any DataStore { environment.store }
    var blobs: any BlobStore { environment.blobs }
    var settings: ServiceEnvironment.Settings { environment.settings }

    /// A pre-signed URL to upload one audio file to, and the reference to pass to ``createTrack``. With
    /// `size`, the client declares how many bytes it will send: a size over the limit is refused now, and
    /// the URL takes exactly that many bytes.
    public func uploadGrant(_ principal: Principal, size: Int? = nil) async throws -> UploadGrant {
        try principal.requirePublisher()
        if let size {
            guard size >= 1 else { throw EncoreError(.invalidParameter, "size must be a whole number of bytes, at least 1.") }
            guard size <= settings.maxUploadBytes else {
                throw EncoreError(.uploadTooLarge, "The upload exceeds the limit of \(settings.maxUploadBytes) bytes.")
            }
        }
        try await blobs.checkWritable()  // a store that is down: a retryable 503 now, not a failed PUT later
        let reference = UploadReference(userId: principal.userId, uploadId: UUID())
        let expiresAt = environment.now().addingTimeInterval(settings.uploadURLLifetime.timeInterval)
        let url = try blobs.signedUploadURL(for: reference.key, maxBytes: settings.maxUploadBytes, exactBytes: size, expiresAt: expiresAt)
        return UploadGrant(uploadUrl: url, trackUrl: reference.uri, expiresAt: expiresAt, maxBytes: size ?? settings.maxUploadBytes)
    }

    /// Like ``uploadGrant(_:)``, for replacing the audio of a track the caller owns.
    public func replacementGrant(_ principal: Principal, trackId: UUID, size: Int? = nil) async throws -> UploadGrant {
        try principal.requirePublisher()
        _ = try await environment.ownedTrack(principal, id: trackId)
        return try await uploadGrant(principal, size: size)
    }

    /// Creates a track from an uploaded file: checks the album and the upload are the caller's, files the
    /// upload under the track and records the row, its index entry and its processing job in one
    /// transaction. The track is `processing` until the pipeline has run.
    public func createTrack(_ principal: Principal, albumId: UUID, title: String, trackUrl: String, trackNumber: Int?) async throws -> Track {
        try principal.requirePublisher()
        let title = try Validate.text(title, field: .title)
        let trackNumber = try trackNumber.map(Validate.trackNumber)
        let upload = try UploadReference(parsing: trackUrl, for: principal)
        let album = try await environment.ownedAlbum(principal, id: albumId)
        let trackId = UUID()
        let source = try await adopt(upload, forTrack: trackId)
        let time = environment.now()
        let track = Track(
            id: trackId, albumId: album.id, artistId: album.artistId, title: title, trackNumber: trackNumber ?? 0, sourceKey: source,
            createdAt: time, updatedAt: time)
        do {
            return try await store.transaction { tx in
                let inserted = try await tx.tracks.insertTrack(track)
                try await tx.searchIndex.trackChanged(trackId)
                try await tx.jobs.enqueue(TrackProcessingJob(trackId: trackId, sourceKey: source).request)
                return inserted
            }
        } catch {
            try? await blobs.move(source, to: upload.key)  // give the upload back so the client can retry
            throw error
        }
    }

    public func track(_ id: UUID) async throws -> Track { try await environment.track(id) }

    public func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        _ = try await environment.album(albumId)
        return try await store.tracks.tracks(albumId: albumId, page: page)
    }

    /// Changes a track's metadata and/or queues replacement audio. The current media keeps playing until
    /// the pipeline commits the new one, which then removes the old.
    public func updateTrack(
        _ principal: Principal, id: UUID, albumId: UUID?, title: String?, trackNumber: Int?, trackUrl: String?
    ) async throws -> Track {
        guard albumId != nil || title != nil || trackNumber != nil || trackUrl != nil else {
            throw EncoreError(.emptyPatch, "Send at least one of albumId, title, trackNumber or trackUrl.")
        }
        try principal.requirePublisher()
        _ = try await environment.ownedTrack(principal, id: id)
        let title = try title.map { try Validate.text($0, field: .title) }
        let trackNumber = try trackNumber.map(Validate.trackNumber)
        let upload = try trackUrl.map { try UploadReference(parsing: $0, for: principal) }
        let newAlbum = try await albumId.asyncMap { try await environment.ownedAlbum(principal, id: $0) }
        let source = try await upload.asyncMap { try await adopt($0, forTrack: id) }
        let time = environment.now()
        do {
            let (before, after) = try await store.transaction { tx in
                let (before, after) = try await tx.tracks.updateTrack(id: id) { track in
                    if let newAlbum {
                        track.albumId = newAlbum.id
                        track.artistId = newAlbum.artistId
                    }
                    if let title { track.title = title }
                    if let trackNumber { track.trackNumber = trackNumber }
                    if let source {
                        track.sourceKey = source
                        track.failure = nil
                        if track.media == nil { track.status = .processing }
                    }
                    track.updatedAt = time
                }
                if after.title != before.title || after.albumId != before.albumId { try await tx.searchIndex.trackChanged(id) }
                if let source { try await tx.jobs.enqueue(TrackProcessingJob(trackId: id, sourceKey: source).request) }
                return (before, after)
            }
            // An upload still waiting when a newer one arrived will never be processed.
            if let superseded = before.sourceKey, superseded != after.sourceKey { try? await blobs.delete(superseded) }
            return after
        } catch {
            if let source, let upload { try? await blobs.move(source, to: upload.key) }
            throw error
        }
    }

    /// Deletes a track's row and index entry, then every object stored for it.
    public func deleteTrack(_ principal: Principal, id: UUID) async throws {
        try principal.requirePublisher()
        _ = try await environment.ownedTrack(principal, id: id)
        let deleted = try await store.transaction { tx in
            let deleted = try await tx.tracks.deleteTrack(id: id)
            if deleted != nil { try await tx.searchIndex.removed([id]) }
            return deleted != nil
        }
        guard deleted else { throw EncoreError.notFound(.trackNotFound) }
        try await environment.removeObjects(of: Removed(trackIds: [id]))
    }

    /// Moves an upload under the track's prefix, where the pipeline will find it. Only the cheap checks
    /// happen here; whether it really is audio is the pipeline's to find out.
    private func adopt(_ upload: UploadReference, forTrack trackId: UUID) async throws -> BlobKey {
        guard let info = try await blobs.info(upload.key) else {
            throw EncoreError(.uploadMissing, "Nothing was uploaded to that trackUrl, or it is already used by a track.")
        }
        guard info.size <= settings.maxUploadBytes else {
            // A pre-signed S3 PUT cannot cap its size, so this is where an oversized upload ends.
            try? await blobs.delete(upload.key)
            throw EncoreError(.uploadTooLarge, "The upload exceeds the limit of \(settings.maxUploadBytes) bytes.")
        }
        let key = TrackKeys.source(trackId: trackId, uploadId: upload.uploadId)
        do {
            try await blobs.move(upload.key, to: key)
        } catch let error as EncoreError where error.kind == .notFound {
            throw EncoreError(.uploadMissing, "That upload was just used by another request.")
        }
        return key
    }
}

/// What a client needs to upload audio: where to `PUT` it, and what to call it afterwards.
public struct UploadGrant: Sendable, Equatable {
    public var uploadUrl: String
    public var trackUrl: String
    public var expiresAt: Date
    public var maxBytes: Int
}

/// The stable name of an uploaded object, `blob:uploads/{userId}/{uploadId}`, handed out with an upload
/// URL and handed back in `POST /tracks`.
public struct UploadReference: Sendable, Equatable {
    public static let scheme = "blob:"
    public var userId: UUID
    public var uploadId: UUID

    public init(userId: UUID, uploadId: UUID) {
        self.userId = userId
        self.uploadId = uploadId
    }

    public var key: BlobKey { Self.prefix(of: userId).appending(uploadId.uuidString.lowercased())! }

    /// Where every upload waits to be attached.
    public static let root = BlobKey("uploads")!

    /// Where a user's uploads wait to be attached: `uploads/{userId}`.
    public static func prefix(of userId: UUID) -> BlobKey { BlobKey("uploads/\(userId.uuidString.lowercased())")! }
    public var uri: String { Self.scheme + key.rawValue }

    /// Parses a reference and checks it belongs to `principal`: nobody may attach another user's upload.
    public init(parsing uri: String, for principal: Principal) throws {
        let invalid = EncoreError(.invalidTrackUrl, "trackUrl must be the trackUrl returned by GET /api/v1/tracks/upload-url.")
        guard uri.hasPrefix(Self.scheme) else { throw invalid }
        let parts = uri.dropFirst(Self.scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "uploads", let user = UUID(uuidString: String(parts[1])),
            let upload = UUID(uuidString: String(parts[2]))
        else { throw invalid }
        guard user == principal.userId else {
            throw EncoreError(.uploadNotYours, "That upload belongs to another user.")
        }
        self.init(userId: user, uploadId: upload)
    }
}

/// Where a track's objects live in the blob store: everything under `tracks/{trackId}/`.
public enum TrackKeys {
    public static func prefix(of trackId: UUID) -> BlobKey { BlobKey("tracks/\(trackId.uuidString.lowercased())")! }

    /// Where an upload waits for the pipeline.
    public static func source(trackId: UUID, uploadId: UUID) -> BlobKey {
        prefix(of: trackId).appending("source-\(uploadId.uuidString.lowercased())")!
    }

    /// The folder for the media made from one source: each upload gets its own, so a replacement never
    /// overwrites what is being served and a retried job finds its own leftovers.
    public static func mediaPrefix(forSource source: BlobKey) -> BlobKey? {
        guard let name = source.segments.last, name.hasPrefix("source-"), source.segments.count == 3 else { return nil }
        return source.parent?.appending("media-\(name.dropFirst("source-".count))")
    }
}
