import EncoreCore
import Foundation
import Hummingbird

/// `GET /api/v1/search?q=&types=&limit=&offset=`.
struct SearchController {
    let search: SearchService
    let catalog: CatalogService

    func addRoutes(to group: EncoreRouter) {
        group.get("search") { request, context in
            _ = try context.requirePrincipal()
            let query = try request.query()
            var kinds = Set(SearchRequest.Kind.allCases)
            if let types = query.get("types") {
                kinds = []
                for name in types.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    guard let kind = SearchRequest.Kind(rawValue: name) else {
                        throw EncoreError(.invalidTypes, "types is a comma-separated list of track, album and artist.")
                    }
                    kinds.insert(kind)
                }
            }
            let searchRequest = try SearchRequest(
                query: query.get("q") ?? "", kinds: kinds, limit: try query.integer("limit", code: .invalidLimit) ?? 10,
                offset: try query.integer("offset", code: .invalidOffset) ?? 0)
            return try APIJSON.response(
                SearchResponse(query: searchRequest.query, try await search.search(searchRequest), coverURLs: catalog.coverURLs))
        }
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
        var album: AlbumResource
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
        var artist: ArtistResource
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
        var id: String
    }

    var query: String
    var tracks: [TrackHit]
    var albums: [AlbumHit]
    var artists: [ArtistHit]
    var top: Top?

    init(query: String, _ results: HydratedSearchResults, coverURLs: (Album) -> [Int: String]) {
        self.query = query
        tracks = results.tracks.map {
            TrackHit(
                track: TrackResource($0.track), score: $0.score, playable: $0.track.isPlayable, artistName: $0.artistName, albumTitle: $0.albumTitle)
        }
        albums = results.albums.map {
            AlbumHit(album: AlbumResource($0.album, coverUrls: coverURLs($0.album)), score: $0.score, artistName: $0.artistName)
        }
        artists = results.artists.map { ArtistHit(artist: ArtistResource($0.artist), score: $0.score) }
        top = results.top.map { Top(type: $0.kind.rawValue, id: $0.id.api) }
    }
}
