import EncoreCore
import Foundation
import Hummingbird

typealias EncoreRouter = RouterGroup<EncoreRequestContext>

/// `/api/v1/auth`: the only API routes that need no token.
struct AuthController {
    let accounts: AccountService
    let tokens: AccessTokens

    func addRoutes(to group: EncoreRouter) {
        group.post("auth/register") { request, context in
            let body = try await APIJSON.body(RegisterBody.self, from: request, context: context)
            let user = try await accounts.register(email: body.email, password: body.password, displayName: body.displayName, role: body.role)
            return try await session(for: user, status: .created)
        }
        group.post("auth/login") { request, context in
            let body = try await APIJSON.body(LoginBody.self, from: request, context: context)
            return try await session(
                for: try await accounts.login(email: body.email, password: body.password, client: context.clientAddress), status: .ok)
        }
    }

    private func session(for user: User, status: HTTPResponse.Status) async throws -> Response {
        let (token, expiresAt) = try await tokens.issue(for: user)
        return try APIJSON.response(SessionResource(user: UserResource(user), token: token, expiresAt: expiresAt), status: status)
    }
}

/// `/api/v1/users/me`, the caller's listening history and app passwords.
struct UserController {
    let accounts: AccountService
    let plays: PlayService
    let appPasswords: AppPasswordService

    func addRoutes(to group: EncoreRouter) {
        group.get("users/me") { _, context in
            try APIJSON.response(UserResource(try await accounts.user(try context.requirePrincipal())))
        }
        group.patch("users/me") { request, context in
            let body = try await APIJSON.body(UserPatchBody.self, from: request, context: context)
            let user = try await accounts.updateUser(
                try context.requirePrincipal(), displayName: body.displayName, email: body.email, newPassword: body.password,
                currentPassword: body.currentPassword)
            return try APIJSON.response(UserResource(user))
        }
        group.delete("users/me") { _, context in
            let principal = try context.requirePrincipal()
            try await accounts.deleteUser(principal)
            return try APIJSON.response(DeletedResource(id: principal.userId.api))
        }
        group.post("users/me/app-passwords") { request, context in
            let body = try await APIJSON.body(AppPasswordBody.self, from: request, context: context)
            let (password, secret) = try await appPasswords.create(try context.requirePrincipal(), name: body.name)
            // The secret is shown this once: no cache may keep it.
            return try APIJSON.response(AppPasswordResource(password, secret: secret), status: .created, headers: [.cacheControl: "no-store"])
        }
        group.get("users/me/app-passwords") { _, context in
            try APIJSON.response(ItemsResource(items: try await appPasswords.list(try context.requirePrincipal()).map { AppPasswordResource($0) }))
        }
        group.delete("users/me/app-passwords/:id") { _, context in
            let id = try context.uuid()
            try await appPasswords.revoke(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id.api))
        }
        group.get("users/me/history") { request, context in
            try APIJSON.response(try await plays.history(try context.requirePrincipal(), page: try request.pageRequest()).map(PlayResource.init))
        }
    }
}

/// `/api/v1/artists`.
struct ArtistController {
    let catalog: CatalogService

    func addRoutes(to group: EncoreRouter) {
        group.post("artists") { request, context in
            let body = try await APIJSON.body(ArtistBody.self, from: request, context: context)
            let artist = try await catalog.createArtist(try context.requirePrincipal(), name: body.name, bio: body.bio, country: body.country)
            return try APIJSON.response(ArtistResource(artist), status: .created)
        }
        group.get("artists") { request, _ in
            var ownerId: UUID?
            if let raw = try request.query().get("ownerId") {
                guard let id = UUID(uuidString: raw) else { throw EncoreError(.invalidOwnerId, "ownerId must be a UUID.") }
                ownerId = id
            }
            return try APIJSON.response(try await catalog.artists(ownerId: ownerId, page: try request.pageRequest()).map(ArtistResource.init))
        }
        group.get("artists/:id") { _, context in
            try APIJSON.response(ArtistResource(try await catalog.artist(try context.uuid())))
        }
        group.patch("artists/:id") { request, context in
            let body = try await APIJSON.body(ArtistPatchBody.self, from: request, context: context)
            let artist = try await catalog.updateArtist(
                try context.requirePrincipal(), id: try context.uuid(), name: body.name, bio: body.bio, country: body.country)
            return try APIJSON.response(ArtistResource(artist))
        }
        group.delete("artists/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deleteArtist(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id.api))
        }
        group.get("artists/:id/albums") { request, context in
            try APIJSON.response(
                try await catalog.albums(artistId: try context.uuid(), page: try request.pageRequest()).map {
                    AlbumResource($0, coverUrls: catalog.coverURLs($0))
                })
        }
    }
}

/// `/api/v1/albums`.
struct AlbumController {
    let catalog: CatalogService
    let tracks: TrackService

    func addRoutes(to group: EncoreRouter) {
        group.post("albums") { request, context in
            let body = try await APIJSON.body(AlbumBody.self, from: request, context: context)
            let album = try await catalog.createAlbum(
                try context.requirePrincipal(), artistId: body.artistId, title: body.title, genre: body.genre, releaseDate: body.releaseDate)
            return try APIJSON.response(AlbumResource(album), status: .created)
        }
        group.get("albums/:id") { _, context in
            let album = try await catalog.album(try context.uuid())
            return try APIJSON.response(AlbumResource(album, coverUrls: catalog.coverURLs(album)))
        }
        group.get("albums/:id/cover-upload-url") { _, context in
            try APIJSON.response(
                CoverUploadGrantResource(try await catalog.coverUploadGrant(try context.requirePrincipal(), albumId: try context.uuid())))
        }
        group.put("albums/:id/cover") { request, context in
            let body = try await APIJSON.body(CoverBody.self, from: request, context: context)
            let id = try context.uuid()
            try await catalog.attachCover(try context.requirePrincipal(), albumId: id, coverUrl: body.coverUrl)
            // Accepted: the thumbnails are rendered in the background; until then the album shows its old cover.
            let album = try await catalog.album(id)
            return try APIJSON.response(AlbumResource(album, coverUrls: catalog.coverURLs(album)), status: .accepted)
        }
        group.patch("albums/:id") { request, context in
            let body = try await APIJSON.body(AlbumPatchBody.self, from: request, context: context)
            let album = try await catalog.updateAlbum(
                try context.requirePrincipal(), id: try context.uuid(), title: body.title, genre: body.genre, releaseDate: body.releaseDate)
            return try APIJSON.response(AlbumResource(album, coverUrls: catalog.coverURLs(album)))
        }
        group.delete("albums/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deleteAlbum(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id.api))
        }
        group.get("albums/:id/tracks") { request, context in
            let page = try await tracks.tracks(albumId: try context.uuid(), page: try request.pageRequest())
            return try APIJSON.response(page.map(TrackResource.init))
        }
    }
}

/// `/api/v1/tracks`: upload URLs, the track lifecycle and stream URLs.
struct TrackController {
    let tracks: TrackService
    let playback: PlaybackService
    /// Track metadata is read far more often than it changes.
    let trackResponses = EncodedResponses<Track>()

    func addRoutes(to group: EncoreRouter) {
        group.get("tracks/upload-url") { request, context in
            let size = try request.query().integer("size", code: .invalidParameter)
            return try APIJSON.response(UploadGrantResource(try await tracks.uploadGrant(try context.requirePrincipal(), size: size)))
        }
        group.get("tracks/update-url/:id") { request, context in
            let size = try request.query().integer("size", code: .invalidParameter)
            return try APIJSON.response(
                UploadGrantResource(try await tracks.replacementGrant(try context.requirePrincipal(), trackId: try context.uuid(), size: size)))
        }
        group.post("tracks") { request, context in
            let body = try await APIJSON.body(TrackBody.self, from: request, context: context)
            let track = try await tracks.createTrack(
                try context.requirePrincipal(), albumId: body.albumId, title: body.title, trackUrl: body.trackUrl, trackNumber: body.trackNumber)
            return try APIJSON.response(TrackResource(track), status: .created)
        }
        group.get("tracks/:id") { _, context in
            let id = try context.uuid()
            return try trackResponses.response(for: try await tracks.track(id), id: id, resource: TrackResource.init)
        }
        group.patch("tracks/:id") { request, context in
            let body = try await APIJSON.body(TrackPatchBody.self, from: request, context: context)
            let track = try await tracks.updateTrack(
                try context.requirePrincipal(), id: try context.uuid(), albumId: body.albumId, title: body.title,
                trackNumber: body.trackNumber, trackUrl: body.trackUrl)
            return try APIJSON.response(TrackResource(track))
        }
        group.delete("tracks/:id") { _, context in
            let id = try context.uuid()
            try await tracks.deleteTrack(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id.api))
        }
        group.get("tracks/:id/stream") { _, context in
            try APIJSON.response(StreamResource(try await playback.stream(try context.requirePrincipal(), trackId: try context.uuid())))
        }
    }
}

/// `POST /api/v1/plays`: the player reports listening.
struct PlayController {
    let plays: PlayService

    func addRoutes(to group: EncoreRouter) {
        group.post("plays") { request, context in
            let body = try await APIJSON.body(PlayBody.self, from: request, context: context)
            let (play, recorded) = try await plays.report(
                try context.requirePrincipal(), playId: body.playId, trackId: body.trackId, msPlayed: body.msPlayed, playedAt: body.playedAt)
            // 201 for a new play, 200 for a report of one already recorded.
            return try APIJSON.response(PlayResource(play), status: recorded ? .created : .ok)
        }
    }
}

/// `/api/v1/playlists`.
struct PlaylistController {
    let playlists: PlaylistService

    func addRoutes(to group: EncoreRouter) {
        group.post("playlists") { request, context in
            let body = try await APIJSON.body(PlaylistBody.self, from: request, context: context)
            let playlist = try await playlists.createPlaylist(try context.requirePrincipal(), title: body.title, isPublic: body.isPublic ?? false)
            return try APIJSON.response(PlaylistResource(playlist), status: .created)
        }
        group.get("playlists") { request, context in
            try APIJSON.response(
                try await playlists.playlists(try context.requirePrincipal(), page: try request.pageRequest()).map(PlaylistResource.init))
        }
        group.get("playlists/:id") { _, context in
            try APIJSON.response(PlaylistResource(try await playlists.playlist(try context.requirePrincipal(), id: try context.uuid())))
        }
        group.patch("playlists/:id") { request, context in
            let body = try await APIJSON.body(PlaylistPatchBody.self, from: request, context: context)
            let playlist = try await playlists.updatePlaylist(
                try context.requirePrincipal(), id: try context.uuid(), title: body.title, isPublic: body.isPublic)
            return try APIJSON.response(PlaylistResource(playlist))
        }
        group.delete("playlists/:id") { _, context in
            let id = try context.uuid()
            try await playlists.deletePlaylist(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id.api))
        }
        group.get("playlists/:id/tracks") { request, context in
            let page = try await playlists.playlistEntries(try context.requirePrincipal(), id: try context.uuid(), page: try request.pageRequest())
            return try APIJSON.response(page.map(PlaylistEntryResource.init))
        }
        group.post("playlists/:id/tracks") { request, context in
            let body = try await APIJSON.body(PlaylistAddBody.self, from: request, context: context)
            let playlist = try await playlists.addToPlaylist(
                try context.requirePrincipal(), id: try context.uuid(), trackId: body.trackId, position: body.position)
            return try APIJSON.response(PlaylistResource(playlist))
        }
        group.post("playlists/:id/tracks/move") { request, context in
            let body = try await APIJSON.body(PlaylistMoveBody.self, from: request, context: context)
            let playlist = try await playlists.movePlaylistEntry(try context.requirePrincipal(), id: try context.uuid(), from: body.from, to: body.to)
            return try APIJSON.response(PlaylistResource(playlist))
        }
        group.delete("playlists/:id/tracks/:position") { _, context in
            guard let position = context.parameters.get("position", as: Int.self), position >= 0 else {
                throw EncoreError(.invalidPosition, "position must be a whole number, 0 or more.")
            }
            let playlist = try await playlists.removeFromPlaylist(try context.requirePrincipal(), id: try context.uuid(), position: position)
            return try APIJSON.response(PlaylistResource(playlist))
        }
    }
}
