import Foundation

/// The published catalog: artist profiles and albums, with who may change them.
public struct CatalogService: Sendable {
    let environment: ServiceEnvironment
    var store: any DataStore { environment.store }

    // MARK: Artists

    public func createArtist(_ principal: Principal, name: String, bio: String?, country: String?) async throws -> Artist {
        try principal.requirePublisher()
        let time = environment.now()
        let artist = Artist(
            id: UUID(), ownerId: principal.userId, name: try Validate.text(name, field: .name),
            bio: try Validate.longText(bio ?? "", field: .bio), country: try country.flatMap(Self.optionalCountry),
            createdAt: time, updatedAt: time)
        try await store.transaction { tx in
            try await tx.catalog.insertArtist(artist)
            try await tx.searchIndex.artistChanged(artist.id, cascade: false)
        }
        return artist
    }

    public func artist(_ id: UUID) async throws -> Artist { try await environment.artist(id) }

    public func artists(ownerId: UUID?, page: PageRequest) async throws -> Page<Artist> {
        try await store.catalog.artists(ownerId: ownerId, page: page)
    }

    /// Changes an artist profile; an empty `country` clears it.
    public func updateArtist(_ principal: Principal, id: UUID, name: String?, bio: String?, country: String?) async throws -> Artist {
        let existing = try await artist(id)
        try principal.requireOwnership(of: existing.ownerId)
        let name = try name.map { try Validate.text($0, field: .name) }
        let bio = try bio.map { try Validate.longText($0, field: .bio) }
        let country = try country.map(Self.optionalCountry)
        let time = environment.now()
        return try await store.transaction { tx in
            let (before, after) = try await tx.catalog.updateArtist(id: id) { artist in
                if let name { artist.name = name }
                if let bio { artist.bio = bio }
                if let country { artist.country = country }
                artist.updatedAt = time
            }
            // Album and track documents carry the artist's name.
            if after.name != before.name { try await tx.searchIndex.artistChanged(id, cascade: true) }
            return after
        }
    }

    public func deleteArtist(_ principal: Principal, id: UUID) async throws {
        let existing = try await artist(id)
        try principal.requireOwnership(of: existing.ownerId)
        let removed = try await store.transaction { tx in
            let removed = try await tx.catalog.deleteArtist(id: id)
            try await tx.searchIndex.removed(removed.all)
            return removed
        }
        try await environment.removeObjects(of: removed)
    }

    private static func optionalCountry(_ value: String) throws -> String? {
        value.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try Validate.country(value)
    }

    // MARK: Albums

    public func createAlbum(
        _ principal: Principal, artistId: UUID, title: String, genre: String?, releaseDate: String?
    ) async throws -> Album {
        try principal.requirePublisher()
        let artist = try await artist(artistId)
        try principal.requireOwnership(of: artist.ownerId)
        let time = environment.now()
        let album = Album(
            id: UUID(), artistId: artistId, title: try Validate.text(title, field: .title),
            genre: try genre.flatMap(Self.optionalGenre), releaseDate: try releaseDate.flatMap(Self.optionalDate),
            createdAt: time, updatedAt: time)
        try await store.transaction { tx in
            try await tx.catalog.insertAlbum(album)
            try await tx.searchIndex.albumChanged(album.id, cascade: false)
        }
        return album
    }

    public func album(_ id: UUID) async throws -> Album { try await environment.album(id) }

    public func albums(artistId: UUID, page: PageRequest) async throws -> Page<Album> {
        _ = try await artist(artistId)
        return try await store.catalog.albums(artistId: artistId, page: page)
    }

    /// Changes an album; an empty `genre` or `releaseDate` clears it.
    public func updateAlbum(_ principal: Principal, id: UUID, title: String?, genre: String?, releaseDate: String?) async throws -> Album {
        _ = try await environment.ownedAlbum(principal, id: id)
        let title = try title.map { try Validate.text($0, field: .title) }
        let genre = try genre.map(Self.optionalGenre)
        let releaseDate = try releaseDate.map(Self.optionalDate)
        let time = environment.now()
        return try await store.transaction { tx in
            let (before, after) = try await tx.catalog.updateAlbum(id: id) { album in
                if let title { album.title = title }
                if let genre { album.genre = genre }
                if let releaseDate { album.releaseDate = releaseDate }
                album.updatedAt = time
            }
            // Track documents carry the album's title.
            if after.title != before.title { try await tx.searchIndex.albumChanged(id, cascade: true) }
            return after
        }
    }

    public func deleteAlbum(_ principal: Principal, id: UUID) async throws {
        _ = try await environment.ownedAlbum(principal, id: id)
        let removed = try await store.transaction { tx in
            let removed = try await tx.catalog.deleteAlbum(id: id)
            try await tx.searchIndex.removed(removed.all)
            return removed
        }
        try await environment.removeObjects(of: removed)
    }

    // MARK: Covers

    /// A pre-signed URL to upload an album's cover image to (JPEG, PNG or WebP, at most
    /// ``CoverArt/maxUploadBytes``), and the reference to hand to ``attachCover(_:albumId:coverUrl:)``.
    public func coverUploadGrant(_ principal: Principal, albumId: UUID) async throws -> UploadGrant {
        _ = try await environment.ownedAlbum(principal, id: albumId)
        try await environment.blobs.checkWritable()
        let reference = UploadReference(userId: principal.userId, uploadId: UUID())
        let expiresAt = environment.now().addingTimeInterval(environment.settings.uploadURLLifetime.timeInterval)
        let url = try environment.blobs.signedUploadURL(for: reference.key, maxBytes: CoverArt.maxUploadBytes, exactBytes: nil, expiresAt: expiresAt)
        return UploadGrant(uploadUrl: url, trackUrl: reference.uri, expiresAt: expiresAt, maxBytes: CoverArt.maxUploadBytes)
    }

    /// Takes an uploaded image as the album's new cover: checks it is the caller's, within the limit and
    /// looks like JPEG, PNG or WebP, then queues the job that decodes it and renders the thumbnails. The
    /// album keeps its current cover until they are ready.
    public func attachCover(_ principal: Principal, albumId: UUID, coverUrl: String) async throws {
        let upload: UploadReference
        do {
            upload = try UploadReference(parsing: coverUrl, for: principal)
        } catch let error as EncoreError where error.code == .invalidTrackUrl {
            throw EncoreError(.invalidCoverUrl, "coverUrl must be the coverUrl returned by GET /api/v1/albums/{id}/cover-upload-url.")
        }
        let album = try await environment.ownedAlbum(principal, id: albumId)
        let blobs = environment.blobs
        guard let info = try await blobs.info(upload.key) else {
            throw EncoreError(.uploadMissing, "Nothing was uploaded to that coverUrl, or it is already used.")
        }
        guard info.size <= CoverArt.maxUploadBytes else {
            try? await blobs.delete(upload.key)  // S3 cannot cap a pre-signed PUT: an oversized upload ends here
            throw EncoreError(.uploadTooLarge, "A cover image may be at most \(CoverArt.maxUploadBytes) bytes.")
        }
        let head = [UInt8](try await blobs.read(upload.key, range: 0..<16))
        guard CoverImageFormat(magic: head) != nil else {
            try? await blobs.delete(upload.key)
            throw EncoreError(.invalidImage, "A cover must be a JPEG, PNG or WebP image.")
        }
        let source = CoverKeys.source(albumId: album.id, uploadId: upload.uploadId)
        do {
            try await blobs.move(upload.key, to: source)
        } catch let error as EncoreError where error.kind == .notFound {
            throw EncoreError(.uploadMissing, "That upload was just used by another request.")
        }
        do {
            _ = try await store.jobs.enqueue(CoverProcessingJob(albumId: album.id, sourceKey: source, attachedAt: environment.now()).request)
        } catch {
            try? await blobs.move(source, to: upload.key)  // give the upload back so the client can retry
            throw error
        }
    }

    /// Signed URLs of the album's cover thumbnails by size. They stay the same for a whole UTC day (and
    /// valid a week after), so browsers and the edge can cache the images.
    public func coverURLs(_ album: Album) -> [Int: String] {
        guard let cover = album.cover else { return [:] }
        let day = 86_400.0
        let expiresAt = Date(timeIntervalSince1970: (environment.now().timeIntervalSince1970 / day).rounded(.down) * day + 8 * day)
        var urls: [Int: String] = [:]
        for size in cover.sizes {
            urls[size] = try? environment.blobs.signedReadURL(for: cover.key(size: size), scope: cover.prefix, expiresAt: expiresAt)
        }
        return urls
    }

    private static func optionalGenre(_ value: String) throws -> String? {
        value.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try Validate.text(value, field: .genre, maxLength: 50)
    }

    private static func optionalDate(_ value: String) throws -> String? {
        value.isEmpty ? nil : try Validate.calendarDate(value, field: .releaseDate)
    }
}
