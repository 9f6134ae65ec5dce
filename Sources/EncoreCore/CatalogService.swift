import Foundation

/// The catalog's rules in one place: who may do what, how values are validated, and how rows and stored
/// objects change together. It knows nothing of HTTP or SQL: it talks to a ``CatalogStore``, a
/// ``BlobStore``, an ``AudioProber`` and a ``PasswordHasher``.
public struct CatalogService: Sendable {
    /// Limits and lifetimes the service applies.
    public struct Settings: Sendable {
        /// Largest upload accepted, in bytes.
        public var maxUploadBytes: Int
        /// How long a pre-signed upload URL stays valid.
        public var uploadURLLifetime: Duration
        /// How long a signed stream URL stays valid.
        public var streamURLLifetime: Duration

        public init(maxUploadBytes: Int = 2 << 30, uploadURLLifetime: Duration = .seconds(900), streamURLLifetime: Duration = .seconds(3600)) {
            self.maxUploadBytes = maxUploadBytes
            self.uploadURLLifetime = uploadURLLifetime
            self.streamURLLifetime = streamURLLifetime
        }
    }

    public let store: any CatalogStore
    public let blobs: any BlobStore
    public let prober: any AudioProber
    public let hasher: any PasswordHasher
    public let settings: Settings
    let now: @Sendable () -> Date

    public init(
        store: any CatalogStore, blobs: any BlobStore, prober: any AudioProber, hasher: any PasswordHasher,
        settings: Settings = Settings(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.blobs = blobs
        self.prober = prober
        self.hasher = hasher
        self.settings = settings
        self.now = now
    }

    // MARK: - Users

    /// Creates an account. `admin` accounts are not created this way (see ``createAdmin(email:password:displayName:)``).
    public func register(email: String, password: String, displayName: String, role: Role) async throws -> User {
        guard role != .admin else {
            throw EncoreError(.forbidden, code: "invalid_role", message: "role must be listener or artist; admins are created from the command line.")
        }
        return try await createUser(email: email, password: password, displayName: displayName, role: role)
    }

    /// Creates an administrator account (for the command line, never reachable over HTTP).
    public func createAdmin(email: String, password: String, displayName: String) async throws -> User {
        try await createUser(email: email, password: password, displayName: displayName, role: .admin)
    }

    private func createUser(email: String, password: String, displayName: String, role: Role) async throws -> User {
        let email = try Validate.email(email)
        let password = try Validate.password(password)
        let displayName = try Validate.text(displayName, field: "displayName", maxLength: 100)
        let hash = try await hasher.hash(password)
        let time = now()
        let user = User(id: UUID(), email: email, displayName: displayName, role: role, createdAt: time, updatedAt: time)
        try await store.insertUser(user, passwordHash: hash)
        return user
    }

    /// Checks credentials. Unknown emails cost as much time as wrong passwords, so responses do not reveal
    /// which accounts exist.
    public func login(email: String, password: String) async throws -> User {
        let invalid = EncoreError(.unauthenticated, code: "invalid_credentials", message: "Email or password is wrong.")
        guard let email = try? Validate.email(email), let found = try await store.credentials(email: email) else {
            await hasher.spendVerificationTime(password)
            throw invalid
        }
        guard try await hasher.verify(password, against: found.passwordHash) else { throw invalid }
        return found.user
    }

    public func user(_ principal: Principal) async throws -> User {
        guard let user = try await store.user(id: principal.userId) else { throw EncoreError.notFound("user") }
        return user
    }

    /// Changes the caller's own account. A new password or email requires the current password.
    public func updateUser(
        _ principal: Principal, displayName: String?, email: String?, newPassword: String?, currentPassword: String?
    ) async throws -> User {
        let displayName = try displayName.map { try Validate.text($0, field: "displayName", maxLength: 100) }
        let email = try email.map(Validate.email)
        let newPassword = try newPassword.map(Validate.password)
        var newHash: String?
        if email != nil || newPassword != nil {
            let current = try await user(principal)
            guard let currentPassword, let found = try await store.credentials(email: current.email),
                try await hasher.verify(currentPassword, against: found.passwordHash)
            else {
                throw EncoreError(
                    .forbidden, code: "current_password_required", message: "Changing email or password needs the correct currentPassword.")
            }
            if let newPassword { newHash = try await hasher.hash(newPassword) }
        }
        let time = now()
        return try await store.updateUser(id: principal.userId, newPasswordHash: newHash) { user in
            if let displayName { user.displayName = displayName }
            if let email { user.email = email }
            user.updatedAt = time
        }
    }

    /// Deletes the caller's account with everything it owns, stored audio included.
    public func deleteUser(_ principal: Principal) async throws {
        try await removeTrackObjects(try await store.deleteUser(id: principal.userId))
    }

    // MARK: - Artists

    public func createArtist(_ principal: Principal, name: String, bio: String?, country: String?) async throws -> Artist {
        try principal.requirePublisher()
        let time = now()
        let artist = Artist(
            id: UUID(), ownerId: principal.userId, name: try Validate.text(name, field: "name"),
            bio: try Validate.longText(bio ?? "", field: "bio"), country: try country.flatMap(Self.optionalCountry),
            createdAt: time, updatedAt: time)
        try await store.insertArtist(artist)
        return artist
    }

    public func artist(_ id: UUID) async throws -> Artist {
        guard let artist = try await store.artist(id: id) else { throw EncoreError.notFound("artist") }
        return artist
    }

    public func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await store.artists(ownerId: ownerId, page: page)
    }

    /// Changes an artist profile; an empty `country` clears it.
    public func updateArtist(_ principal: Principal, id: UUID, name: String?, bio: String?, country: String?) async throws -> Artist {
        let existing = try await artist(id)
        try principal.requireOwnership(of: existing.ownerId)
        let name = try name.map { try Validate.text($0, field: "name") }
        let bio = try bio.map { try Validate.longText($0, field: "bio") }
        let country = try country.map(Self.optionalCountry)
        let time = now()
        return try await store.updateArtist(id: id) { artist in
            if let name { artist.name = name }
            if let bio { artist.bio = bio }
            if let country { artist.country = country }
            artist.updatedAt = time
        }
    }

    public func deleteArtist(_ principal: Principal, id: UUID) async throws {
        let existing = try await artist(id)
        try principal.requireOwnership(of: existing.ownerId)
        try await removeTrackObjects(try await store.deleteArtist(id: id))
    }

    private static func optionalCountry(_ value: String) throws -> String? {
        value.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try Validate.country(value)
    }

    // MARK: - Albums

    public func createAlbum(
        _ principal: Principal, artistId: UUID, title: String, genre: String?, releaseDate: String?
    ) async throws -> Album {
        try principal.requirePublisher()
        let artist = try await artist(artistId)
        try principal.requireOwnership(of: artist.ownerId)
        let time = now()
        let album = Album(
            id: UUID(), artistId: artistId, title: try Validate.text(title, field: "title"),
            genre: try genre.flatMap(Self.optionalGenre), releaseDate: try releaseDate.flatMap(Self.optionalDate),
            createdAt: time, updatedAt: time)
        try await store.insertAlbum(album)
        return album
    }

    public func album(_ id: UUID) async throws -> Album {
        guard let album = try await store.album(id: id) else { throw EncoreError.notFound("album") }
        return album
    }

    public func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        _ = try await artist(artistId)
        return try await store.albums(artistId: artistId, page: page)
    }

    /// Changes an album; an empty `genre` or `releaseDate` clears it.
    public func updateAlbum(_ principal: Principal, id: UUID, title: String?, genre: String?, releaseDate: String?) async throws -> Album {
        let album = try await album(id)
        try principal.requireOwnership(of: try await artist(album.artistId).ownerId)
        let title = try title.map { try Validate.text($0, field: "title") }
        let genre = try genre.map(Self.optionalGenre)
        let releaseDate = try releaseDate.map(Self.optionalDate)
        let time = now()
        return try await store.updateAlbum(id: id) { album in
            if let title { album.title = title }
            if let genre { album.genre = genre }
            if let releaseDate { album.releaseDate = releaseDate }
            album.updatedAt = time
        }
    }

    public func deleteAlbum(_ principal: Principal, id: UUID) async throws {
        let album = try await album(id)
        try principal.requireOwnership(of: try await artist(album.artistId).ownerId)
        try await removeTrackObjects(try await store.deleteAlbum(id: id))
    }

    private static func optionalGenre(_ value: String) throws -> String? {
        value.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try Validate.text(value, field: "genre", maxLength: 50)
    }

    private static func optionalDate(_ value: String) throws -> String? {
        value.isEmpty ? nil : try Validate.calendarDate(value, field: "releaseDate")
    }

    /// The album and its owner, checked: the caller must own the album's artist.
    private func ownedAlbum(_ principal: Principal, id: UUID) async throws -> Album {
        let album = try await album(id)
        try principal.requireOwnership(of: try await artist(album.artistId).ownerId)
        return album
    }

    // MARK: - Tracks

    /// A pre-signed URL to upload one audio file to, and the reference to pass to ``createTrack``.
    public func uploadGrant(_ principal: Principal) throws -> UploadGrant {
        try principal.requirePublisher()
        let reference = UploadReference(userId: principal.userId, uploadId: UUID())
        let expiresAt = now().addingTimeInterval(settings.uploadURLLifetime.timeInterval)
        let url = try blobs.signedUploadURL(for: reference.key, maxBytes: settings.maxUploadBytes, expiresAt: expiresAt)
        return UploadGrant(uploadUrl: url, trackUrl: reference.uri, expiresAt: expiresAt, maxBytes: settings.maxUploadBytes)
    }

    /// Like ``uploadGrant(_:)``, for replacing the audio of a track the caller owns.
    public func replacementGrant(_ principal: Principal, trackId: UUID) async throws -> UploadGrant {
        try principal.requirePublisher()
        _ = try await ownedTrack(principal, id: trackId)
        return try uploadGrant(principal)
    }

    /// Creates a track from an uploaded file: checks the album and the upload are the caller's, files the
    /// upload under the track and records the row and its processing job in one transaction. The track is
    /// `processing` until the pipeline has run.
    public func createTrack(_ principal: Principal, albumId: UUID, title: String, trackUrl: String, trackNumber: Int?) async throws -> Track {
        try principal.requirePublisher()
        let title = try Validate.text(title, field: "title")
        let trackNumber = try trackNumber.map(Validate.trackNumber)
        let upload = try UploadReference(parsing: trackUrl, for: principal)
        let album = try await ownedAlbum(principal, id: albumId)
        let trackId = UUID()
        let source = try await adopt(upload, forTrack: trackId)
        let time = now()
        let track = Track(
            id: trackId, albumId: album.id, artistId: album.artistId, title: title, trackNumber: trackNumber ?? 0, sourceKey: source,
            createdAt: time, updatedAt: time)
        do {
            return try await store.insertTrack(track, job: TrackProcessingJob(trackId: trackId, sourceKey: source).request)
        } catch {
            try? await blobs.move(source, to: upload.key)  // give the upload back so the client can retry
            throw error
        }
    }

    public func track(_ id: UUID) async throws -> Track {
        guard let track = try await store.track(id: id) else { throw EncoreError.notFound("track") }
        return track
    }

    public func tracks(albumId: UUID, page: PageRequest) async throws -> Page<Track> {
        _ = try await album(albumId)
        return try await store.tracks(albumId: albumId, page: page)
    }

    /// Changes a track's metadata and/or queues replacement audio. The current media keeps playing until
    /// the pipeline commits the new one, which then removes the old.
    public func updateTrack(
        _ principal: Principal, id: UUID, albumId: UUID?, title: String?, trackNumber: Int?, trackUrl: String?
    ) async throws -> Track {
        try principal.requirePublisher()
        _ = try await ownedTrack(principal, id: id)
        let title = try title.map { try Validate.text($0, field: "title") }
        let trackNumber = try trackNumber.map(Validate.trackNumber)
        let upload = try trackUrl.map { try UploadReference(parsing: $0, for: principal) }
        let newAlbum = try await albumId.asyncMap { try await ownedAlbum(principal, id: $0) }
        let source = try await upload.asyncMap { try await adopt($0, forTrack: id) }
        let time = now()
        do {
            let job = source.map { TrackProcessingJob(trackId: id, sourceKey: $0).request }
            let (before, after) = try await store.updateTrack(id: id, job: job) { track in
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
            // An upload still waiting when a newer one arrived will never be processed.
            if let superseded = before.sourceKey, superseded != after.sourceKey { try? await blobs.delete(superseded) }
            return after
        } catch {
            if let source, let upload { try? await blobs.move(source, to: upload.key) }
            throw error
        }
    }

    /// Deletes a track's row, then every object stored for it.
    public func deleteTrack(_ principal: Principal, id: UUID) async throws {
        try principal.requirePublisher()
        _ = try await ownedTrack(principal, id: id)
        guard try await store.deleteTrack(id: id) != nil else { throw EncoreError.notFound("track") }
        try await removeTrackObjects([id])
    }

    /// Signed, expiring URLs to play a ready track, and a play event recorded for the caller. One token
    /// covers the track's media prefix, so the relative URIs inside playlists and manifests work as they are.
    public func stream(_ principal: Principal, trackId: UUID) async throws -> StreamGrant {
        let track = try await track(trackId)
        guard track.status == .ready, let media = track.media else {
            if track.status == .pending {
                throw EncoreError.conflict("track_not_ready", "The track has no audio yet.")
            }
            if track.status == .failed, let failure = track.failure {
                throw EncoreError.conflict("track_failed", "The track could not be processed: \(failure.message) (\(failure.code))")
            }
            throw EncoreError.conflict("track_not_ready", "The track is still being processed.")
        }
        let expiresAt = now().addingTimeInterval(settings.streamURLLifetime.timeInterval)
        let scope = media.prefix
        func url(_ key: BlobKey) throws -> String { try blobs.signedReadURL(for: key, scope: scope, expiresAt: expiresAt) }
        let files = [media.original] + media.progressive
        let grant = StreamGrant(
            trackUrl: try url(media.hlsMaster), hls: try url(media.hlsMaster), dash: try url(media.dashManifest),
            progressive: try files.map { file in
                StreamGrant.Progressive(
                    format: file.format, codec: file.codec, bitrateKbps: file.bitrateKbps,
                    contentType: AudioFormats.contentType(forExtension: file.key.pathExtension), url: try url(file.key))
            },
            trackId: track.id, albumId: track.albumId, artistId: track.artistId, title: track.title, durationMs: track.durationMs,
            loudness: media.loudness, expiresAt: expiresAt)
        try await store.recordPlay(PlayEvent(userId: principal.userId, trackId: track.id, playedAt: now()))
        return grant
    }

    private func ownedTrack(_ principal: Principal, id: UUID) async throws -> Track {
        let track = try await track(id)
        try principal.requireOwnership(of: try await artist(track.artistId).ownerId)
        return track
    }

    /// Moves an upload under the track's prefix, where the pipeline will find it. Only the cheap checks
    /// happen here; whether it really is audio is the pipeline's to find out.
    private func adopt(_ upload: UploadReference, forTrack trackId: UUID) async throws -> BlobKey {
        guard let info = try await blobs.info(upload.key) else {
            throw EncoreError.unprocessable("upload_missing", "Nothing was uploaded to that trackUrl, or it is already used by a track.")
        }
        guard info.size <= settings.maxUploadBytes else {
            throw EncoreError(.tooLarge, code: "upload_too_large", message: "The upload exceeds the limit of \(settings.maxUploadBytes) bytes.")
        }
        let key = TrackKeys.source(trackId: trackId, uploadId: upload.uploadId)
        do {
            try await blobs.move(upload.key, to: key)
        } catch let error as EncoreError where error.kind == .notFound {
            throw EncoreError.unprocessable("upload_missing", "That upload was just used by another request.")
        }
        return key
    }

    private func removeTrackObjects(_ trackIds: [UUID]) async throws {
        for id in trackIds {
            // The rows are gone already; objects left behind by a failure here are unreachable, not visible.
            try await blobs.deleteAll(under: TrackKeys.prefix(of: id))
        }
    }

    // MARK: - Playlists

    public func createPlaylist(_ principal: Principal, title: String, isPublic: Bool) async throws -> Playlist {
        let time = now()
        let playlist = Playlist(
            id: UUID(), ownerId: principal.userId, title: try Validate.text(title, field: "title"), isPublic: isPublic,
            trackCount: 0, createdAt: time, updatedAt: time)
        try await store.insertPlaylist(playlist)
        return playlist
    }

    /// A playlist the caller may see: their own, or a public one. Private playlists of others do not exist
    /// as far as the caller can tell.
    public func playlist(_ principal: Principal, id: UUID) async throws -> Playlist {
        guard let playlist = try await store.playlist(id: id), playlist.isPublic || principal.mayModify(ownedBy: playlist.ownerId) else {
            throw EncoreError.notFound("playlist")
        }
        return playlist
    }

    public func playlists(_ principal: Principal, page: PageRequest) async throws -> Page<Playlist> {
        try await store.playlists(ownerId: principal.userId, page: page)
    }

    public func updatePlaylist(_ principal: Principal, id: UUID, title: String?, isPublic: Bool?) async throws -> Playlist {
        let playlist = try await playlist(principal, id: id)
        try principal.requireOwnership(of: playlist.ownerId)
        let title = try title.map { try Validate.text($0, field: "title") }
        let time = now()
        return try await store.updatePlaylist(id: id) { playlist in
            if let title { playlist.title = title }
            if let isPublic { playlist.isPublic = isPublic }
            playlist.updatedAt = time
        }
    }

    public func deletePlaylist(_ principal: Principal, id: UUID) async throws {
        let playlist = try await playlist(principal, id: id)
        try principal.requireOwnership(of: playlist.ownerId)
        _ = try await store.deletePlaylist(id: id)
    }

    public func playlistEntries(_ principal: Principal, id: UUID, page: PageRequest) async throws -> Page<PlaylistEntry> {
        _ = try await playlist(principal, id: id)
        return try await store.playlistEntries(playlistId: id, page: page)
    }

    /// Longest playlist accepted.
    public static let maxPlaylistLength = 10_000

    /// Inserts a track at `position` (zero-based; default: at the end).
    public func addToPlaylist(_ principal: Principal, id: UUID, trackId: UUID, position: Int?) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        _ = try await track(trackId)
        let time = now()
        return try await store.updatePlaylistSlots(playlistId: id) { slots in
            guard slots.count < Self.maxPlaylistLength else {
                throw EncoreError.conflict("playlist_full", "A playlist holds at most \(Self.maxPlaylistLength) tracks.")
            }
            let index = position ?? slots.count
            guard (0...slots.count).contains(index) else {
                throw EncoreError.invalid("invalid_position", "position must be between 0 and \(slots.count).")
            }
            slots.insert(PlaylistSlot(trackId: trackId, addedAt: time), at: index)
        }
    }

    /// Removes the slot at `position` (zero-based).
    public func removeFromPlaylist(_ principal: Principal, id: UUID, position: Int) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        return try await store.updatePlaylistSlots(playlistId: id) { slots in
            guard slots.indices.contains(position) else {
                throw EncoreError.notFound("playlist_entry")
            }
            slots.remove(at: position)
        }
    }

    /// Moves the slot at `from` so that it ends up at `to` (both zero-based).
    public func movePlaylistEntry(_ principal: Principal, id: UUID, from: Int, to: Int) async throws -> Playlist {
        try await ownedPlaylist(principal, id: id)
        return try await store.updatePlaylistSlots(playlistId: id) { slots in
            guard slots.indices.contains(from), slots.indices.contains(to) else {
                throw EncoreError.invalid("invalid_position", "from and to must be between 0 and \(max(slots.count - 1, 0)).")
            }
            slots.insert(slots.remove(at: from), at: to)
        }
    }

    private func ownedPlaylist(_ principal: Principal, id: UUID) async throws {
        try principal.requireOwnership(of: try await playlist(principal, id: id).ownerId)
    }
}

/// What a client needs to upload audio: where to `PUT` it, and what to call it afterwards.
public struct UploadGrant: Codable, Sendable, Equatable {
    public var uploadUrl: String
    public var trackUrl: String
    public var expiresAt: Date
    public var maxBytes: Int
}

/// What a client needs to play a track. Every URL carries the same token, scoped to the track's media.
public struct StreamGrant: Codable, Sendable, Equatable {
    public struct Progressive: Codable, Sendable, Equatable {
        public var format: String
        public var codec: String
        /// Nil for the lossless original.
        public var bitrateKbps: Int?
        public var contentType: String
        public var url: String
    }

    /// The HLS multivariant playlist (what most players want).
    public var trackUrl: String
    public var hls: String
    public var dash: String
    /// Whole files for clients without adaptive streaming; the original comes first.
    public var progressive: [Progressive]
    public var trackId: UUID
    public var albumId: UUID
    public var artistId: UUID
    public var title: String
    public var durationMs: Int
    public var loudness: Loudness
    public var expiresAt: Date
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

    public var key: BlobKey { BlobKey("uploads/\(userId.uuidString.lowercased())/\(uploadId.uuidString.lowercased())")! }
    public var uri: String { Self.scheme + key.rawValue }

    /// Parses a reference and checks it belongs to `principal`: nobody may attach another user's upload.
    public init(parsing uri: String, for principal: Principal) throws {
        let invalid = EncoreError.invalid("invalid_track_url", "trackUrl must be the trackUrl returned by GET /api/v1/tracks/upload-url.")
        guard uri.hasPrefix(Self.scheme) else { throw invalid }
        let parts = uri.dropFirst(Self.scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "uploads", let user = UUID(uuidString: String(parts[1])),
            let upload = UUID(uuidString: String(parts[2]))
        else { throw invalid }
        guard user == principal.userId else {
            throw EncoreError(.forbidden, code: "upload_not_yours", message: "That upload belongs to another user.")
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
        return BlobKey("\(source.segments.dropLast().joined(separator: "/"))/media-\(name.dropFirst("source-".count))")
    }
}

extension Duration {
    /// The duration in seconds, as Foundation measures intervals.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

extension Optional where Wrapped: Sendable {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
