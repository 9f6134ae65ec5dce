import EncoreCore
import Foundation
import Hummingbird

typealias EncoreRouter = RouterGroup<EncoreRequestContext>

/// `/api/v1/auth`: the only API routes that need no token.
struct AuthController {
    let catalog: CatalogService
    let tokens: AccessTokens

    func addRoutes(to group: EncoreRouter) {
        group.post("auth/register") { request, context in
            let body = try await APIJSON.body(RegisterBody.self, from: request, context: context)
            let user = try await catalog.register(email: body.email, password: body.password, displayName: body.displayName, role: body.role)
            return try await session(for: user, status: .created)
        }
        group.post("auth/login") { request, context in
            let body = try await APIJSON.body(LoginBody.self, from: request, context: context)
            return try await session(for: try await catalog.login(email: body.email, password: body.password), status: .ok)
        }
    }

    private func session(for user: User, status: HTTPResponse.Status) async throws -> Response {
        let (token, expiresAt) = try await tokens.issue(for: user)
        return try APIJSON.response(SessionResource(user: user, token: token, expiresAt: expiresAt), status: status)
    }
}

/// `/api/v1/users/me`.
struct UserController {
    let catalog: CatalogService

    func addRoutes(to group: EncoreRouter) {
        group.get("users/me") { _, context in
            try APIJSON.response(try await catalog.user(try context.requirePrincipal()))
        }
        group.patch("users/me") { request, context in
            let body = try await APIJSON.body(UserPatchBody.self, from: request, context: context)
            let user = try await catalog.updateUser(
                try context.requirePrincipal(), displayName: body.displayName, email: body.email, newPassword: body.password,
                currentPassword: body.currentPassword)
            return try APIJSON.response(user)
        }
        group.delete("users/me") { _, context in
            let principal = try context.requirePrincipal()
            try await catalog.deleteUser(principal)
            return try APIJSON.response(DeletedResource(id: principal.userId))
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
            return try APIJSON.response(artist, status: .created)
        }
        group.get("artists") { request, _ in
            var ownerId: UUID?
            if let raw = request.uri.queryParameters.get("ownerId") {
                guard let id = UUID(uuidString: raw) else { throw EncoreError.invalid("invalid_owner_id", "ownerId must be a UUID.") }
                ownerId = id
            }
            return try APIJSON.response(try await catalog.artists(ownerId: ownerId, page: try request.pageRequest()))
        }
        group.get("artists/:id") { _, context in
            try APIJSON.response(try await catalog.artist(try context.uuid()))
        }
        group.patch("artists/:id") { request, context in
            let body = try await APIJSON.body(ArtistPatchBody.self, from: request, context: context)
            let artist = try await catalog.updateArtist(
                try context.requirePrincipal(), id: try context.uuid(), name: body.name, bio: body.bio, country: body.country)
            return try APIJSON.response(artist)
        }
        group.delete("artists/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deleteArtist(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id))
        }
        group.get("artists/:id/albums") { request, context in
            try APIJSON.response(try await catalog.albums(artistId: try context.uuid(), page: try request.pageRequest()))
        }
    }
}

/// `/api/v1/albums`.
struct AlbumController {
    let catalog: CatalogService

    func addRoutes(to group: EncoreRouter) {
        group.post("albums") { request, context in
            let body = try await APIJSON.body(AlbumBody.self, from: request, context: context)
            let album = try await catalog.createAlbum(
                try context.requirePrincipal(), artistId: body.artistId, title: body.title, genre: body.genre, releaseDate: body.releaseDate)
            return try APIJSON.response(album, status: .created)
        }
        group.get("albums/:id") { _, context in
            try APIJSON.response(try await catalog.album(try context.uuid()))
        }
        group.patch("albums/:id") { request, context in
            let body = try await APIJSON.body(AlbumPatchBody.self, from: request, context: context)
            let album = try await catalog.updateAlbum(
                try context.requirePrincipal(), id: try context.uuid(), title: body.title, genre: body.genre, releaseDate: body.releaseDate)
            return try APIJSON.response(album)
        }
        group.delete("albums/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deleteAlbum(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id))
        }
        group.get("albums/:id/tracks") { request, context in
            let page = try await catalog.tracks(albumId: try context.uuid(), page: try request.pageRequest())
            return try APIJSON.response(page.map(TrackResource.init))
        }
    }
}

/// `/api/v1/tracks`: upload URLs, the track lifecycle and streaming.
struct TrackController {
    let catalog: CatalogService
    /// Track metadata is read far more often than it changes.
    let trackResponses = EncodedResponses<Track>()

    func addRoutes(to group: EncoreRouter) {
        group.get("tracks/upload-url") { _, context in
            try APIJSON.response(try catalog.uploadGrant(try context.requirePrincipal()))
        }
        group.get("tracks/update-url/:id") { _, context in
            try APIJSON.response(try await catalog.replacementGrant(try context.requirePrincipal(), trackId: try context.uuid()))
        }
        group.post("tracks") { request, context in
            let body = try await APIJSON.body(TrackBody.self, from: request, context: context)
            let track = try await catalog.createTrack(
                try context.requirePrincipal(), albumId: body.albumId, title: body.title, trackUrl: body.trackUrl, trackNumber: body.trackNumber)
            return try APIJSON.response(TrackResource(track), status: .created)
        }
        group.get("tracks/:id") { _, context in
            let id = try context.uuid()
            return try trackResponses.response(for: try await catalog.track(id), id: id, resource: TrackResource.init)
        }
        group.patch("tracks/:id") { request, context in
            let body = try await APIJSON.body(TrackPatchBody.self, from: request, context: context)
            guard body.albumId != nil || body.title != nil || body.trackNumber != nil || body.trackUrl != nil else {
                throw EncoreError.invalid("empty_patch", "Send at least one of albumId, title, trackNumber or trackUrl.")
            }
            let track = try await catalog.updateTrack(
                try context.requirePrincipal(), id: try context.uuid(), albumId: body.albumId, title: body.title,
                trackNumber: body.trackNumber, trackUrl: body.trackUrl)
            return try APIJSON.response(TrackResource(track))
        }
        group.delete("tracks/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deleteTrack(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id))
        }
        group.get("tracks/:id/stream") { _, context in
            try APIJSON.response(try await catalog.stream(try context.requirePrincipal(), trackId: try context.uuid()))
        }
    }
}

/// `/api/v1/playlists`.
struct PlaylistController {
    let catalog: CatalogService

    func addRoutes(to group: EncoreRouter) {
        group.post("playlists") { request, context in
            let body = try await APIJSON.body(PlaylistBody.self, from: request, context: context)
            let playlist = try await catalog.createPlaylist(try context.requirePrincipal(), title: body.title, isPublic: body.isPublic ?? false)
            return try APIJSON.response(playlist, status: .created)
        }
        group.get("playlists") { request, context in
            try APIJSON.response(try await catalog.playlists(try context.requirePrincipal(), page: try request.pageRequest()))
        }
        group.get("playlists/:id") { _, context in
            try APIJSON.response(try await catalog.playlist(try context.requirePrincipal(), id: try context.uuid()))
        }
        group.patch("playlists/:id") { request, context in
            let body = try await APIJSON.body(PlaylistPatchBody.self, from: request, context: context)
            let playlist = try await catalog.updatePlaylist(
                try context.requirePrincipal(), id: try context.uuid(), title: body.title, isPublic: body.isPublic)
            return try APIJSON.response(playlist)
        }
        group.delete("playlists/:id") { _, context in
            let id = try context.uuid()
            try await catalog.deletePlaylist(try context.requirePrincipal(), id: id)
            return try APIJSON.response(DeletedResource(id: id))
        }
        group.get("playlists/:id/tracks") { request, context in
            let page = try await catalog.playlistEntries(try context.requirePrincipal(), id: try context.uuid(), page: try request.pageRequest())
            return try APIJSON.response(page.map(PlaylistEntryResource.init))
        }
        group.post("playlists/:id/tracks") { request, context in
            let body = try await APIJSON.body(PlaylistAddBody.self, from: request, context: context)
            let playlist = try await catalog.addToPlaylist(
                try context.requirePrincipal(), id: try context.uuid(), trackId: body.trackId, position: body.position)
            return try APIJSON.response(playlist)
        }
        group.post("playlists/:id/tracks/move") { request, context in
            let body = try await APIJSON.body(PlaylistMoveBody.self, from: request, context: context)
            let playlist = try await catalog.movePlaylistEntry(try context.requirePrincipal(), id: try context.uuid(), from: body.from, to: body.to)
            return try APIJSON.response(playlist)
        }
        group.delete("playlists/:id/tracks/:position") { _, context in
            guard let position = context.parameters.get("position", as: Int.self) else {
                throw EncoreError.invalid("invalid_position", "position must be a whole number.")
            }
            let playlist = try await catalog.removeFromPlaylist(try context.requirePrincipal(), id: try context.uuid(), position: position)
            return try APIJSON.response(playlist)
        }
    }
}
