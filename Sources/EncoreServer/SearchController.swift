import EncoreCore
import Foundation
import Hummingbird

/// `GET /api/v1/search?q=&types=&limit=&offset=`.
struct SearchController {
    let search: any CatalogSearch
    let store: any CatalogStore

    func addRoutes(to group: EncoreRouter) {
        group.get("search") { request, context in
            _ = try context.requirePrincipal()
            let query = request.uri.queryParameters
            var kinds = Set(SearchRequest.Kind.allCases)
            if let types = query.get("types") {
                kinds = []
                for name in types.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    guard let kind = SearchRequest.Kind(rawValue: name) else {
                        throw EncoreError.invalid("invalid_types", "types is a comma-separated list of track, album and artist.")
                    }
                    kinds.insert(kind)
                }
            }
            func integer(_ name: String, _ fallback: Int) throws -> Int {
                guard let raw = query.get(name) else { return fallback }
                guard let value = Int(raw) else { throw EncoreError.invalid("invalid_\(name)", "\(name) must be a whole number.") }
                return value
            }
            let searchRequest = try SearchRequest(
                query: query.get("q") ?? "", kinds: kinds, limit: try integer("limit", 10), offset: try integer("offset", 0))
            return try APIJSON.response(try await results(for: searchRequest))
        }
    }

    func results(for request: SearchRequest) async throws -> SearchResponse {
        let results = try await search.search(request)
        let tracks = try await store.tracks(ids: results.tracks.map(\.id))
        let albumIds = Set(results.albums.map(\.id)).union(tracks.values.map(\.albumId))
        let albums = try await store.albums(ids: Array(albumIds))
        let artistIds = Set(results.artists.map(\.id)).union(albums.values.map(\.artistId)).union(tracks.values.map(\.artistId))
        let artists = try await store.artists(ids: Array(artistIds))
        return SearchResponse(
            query: request.query,
            tracks: results.tracks.compactMap { hit in
                tracks[hit.id].map { track in
                    SearchResponse.TrackHit(
                        track: TrackResource(track), score: hit.score, playable: track.status == .ready && track.media != nil,
                        artistName: artists[track.artistId]?.name ?? "", albumTitle: albums[track.albumId]?.title ?? "")
                }
            },
            albums: results.albums.compactMap { hit in
                albums[hit.id].map { SearchResponse.AlbumHit(album: $0, score: hit.score, artistName: artists[$0.artistId]?.name ?? "") }
            },
            artists: results.artists.compactMap { hit in artists[hit.id].map { SearchResponse.ArtistHit(artist: $0, score: hit.score) } },
            top: results.top.map { SearchResponse.Top(type: $0.kind.rawValue, id: $0.id) })
    }
}

/// Search results: ranked resources of each kind, each with its `score` (comparable across kinds).
struct SearchResponse: Encodable, Sendable {
    struct TrackHit: Encodable, Sendable {
        var track: TrackResource
        var score: Double
        /// Ready, and allowed for the caller.
        var playable: Bool
        var artistName: String
        var albumTitle: String

        enum Keys: String, CodingKey { case score, playable, artistName, albumTitle }

        func encode(to encoder: any Encoder) throws {
            try track.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(score, forKey: .score)
            try container.encode(playable, forKey: .playable)
            try container.encode(artistName, forKey: .artistName)
            try container.encode(albumTitle, forKey: .albumTitle)
        }
    }

    struct AlbumHit: Encodable, Sendable {
        var album: Album
        var score: Double
        var artistName: String

        enum Keys: String, CodingKey { case score, artistName }

        func encode(to encoder: any Encoder) throws {
            try album.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(score, forKey: .score)
            try container.encode(artistName, forKey: .artistName)
        }
    }

    struct ArtistHit: Encodable, Sendable {
        var artist: Artist
        var score: Double

        enum Keys: String, CodingKey { case score }

        func encode(to encoder: any Encoder) throws {
            try artist.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(score, forKey: .score)
        }
    }

    /// The best hit of any kind: what a search box would put first.
    struct Top: Encodable, Sendable {
        var type: String
        var id: UUID
    }

    var query: String
    var tracks: [TrackHit]
    var albums: [AlbumHit]
    var artists: [ArtistHit]
    var top: Top?
}
