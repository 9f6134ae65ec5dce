import Foundation

/// Catalog search: the engine ranks ids, this service hydrates them into catalog entities with the names
/// a result list shows.
public struct SearchService: Sendable {
    let store: any DataStore
    /// The ranking engine (the catalog store's own index on the embedded default).
    public let engine: any CatalogSearch

    public func search(_ request: SearchRequest) async throws -> HydratedSearchResults {
        let results = try await engine.search(request)
        let tracks = try await store.tracks.tracks(ids: results.tracks.map(\.id))
        let albumIds = Set(results.albums.map(\.id)).union(tracks.values.map(\.albumId))
        let albums = try await store.catalog.albums(ids: Array(albumIds))
        let artistIds = Set(results.artists.map(\.id)).union(albums.values.map(\.artistId)).union(tracks.values.map(\.artistId))
        let artists = try await store.catalog.artists(ids: Array(artistIds))
        return HydratedSearchResults(
            tracks: results.tracks.compactMap { hit in
                tracks[hit.id].map { track in
                    .init(
                        track: track, score: hit.score, artistName: artists[track.artistId]?.name ?? "",
                        albumTitle: albums[track.albumId]?.title ?? "")
                }
            },
            albums: results.albums.compactMap { hit in
                albums[hit.id].map { .init(album: $0, score: hit.score, artistName: artists[$0.artistId]?.name ?? "") }
            },
            artists: results.artists.compactMap { hit in artists[hit.id].map { .init(artist: $0, score: hit.score) } },
            top: results.top)
    }
}

/// Ranked results as entities; hits whose entity vanished meanwhile are left out.
public struct HydratedSearchResults: Sendable {
    public struct TrackHit: Sendable {
        public var track: Track
        public var score: Double
        public var artistName: String
        public var albumTitle: String
    }

    public struct AlbumHit: Sendable {
        public var album: Album
        public var score: Double
        public var artistName: String
    }

    public struct ArtistHit: Sendable {
        public var artist: Artist
        public var score: Double
    }

    public var tracks: [TrackHit]
    public var albums: [AlbumHit]
    public var artists: [ArtistHit]
    /// The best hit of any kind: what a search box would put first.
    public var top: SearchHit?
}
