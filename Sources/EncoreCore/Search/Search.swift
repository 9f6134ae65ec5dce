import Foundation

/// What the catalog search looks for.
public struct SearchRequest: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case artist, album, track
    }

    public static let maxLimit = 50
    public static let maxQueryLength = 200

    public var query: String
    public var kinds: Set<Kind>
    public var limit: Int
    public var offset: Int

    /// Validates the request: `empty_query`, `query_too_long`, `invalid_limit`, `invalid_offset`.
    public init(query: String, kinds: Set<Kind> = Set(Kind.allCases), limit: Int = 10, offset: Int = 0) throws {
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw EncoreError(.emptyQuery, "q must contain something to search for.")
        }
        guard query.count <= Self.maxQueryLength else {
            throw EncoreError(.queryTooLong, "q must be at most \(Self.maxQueryLength) characters.")
        }
        guard (1...Self.maxLimit).contains(limit) else {
            throw EncoreError(.invalidLimit, "limit must be between 1 and \(Self.maxLimit).")
        }
        guard (0...1000).contains(offset) else { throw EncoreError(.invalidOffset, "offset must be between 0 and 1000.") }
        guard !kinds.isEmpty else { throw EncoreError(.invalidTypes, "types must name at least one of track, album, artist.") }
        self.query = query
        self.kinds = kinds
        self.limit = limit
        self.offset = offset
    }
}

/// One ranked result.
public struct SearchHit: Sendable, Equatable {
    public var kind: SearchRequest.Kind
    public var id: UUID
    /// Comparable across kinds: higher is better.
    public var score: Double

    public init(kind: SearchRequest.Kind, id: UUID, score: Double) {
        self.kind = kind
        self.id = id
        self.score = score
    }
}

/// Ranked results per kind.
public struct SearchResults: Sendable, Equatable {
    public var artists: [SearchHit] = []
    public var albums: [SearchHit] = []
    public var tracks: [SearchHit] = []

    public init(artists: [SearchHit] = [], albums: [SearchHit] = [], tracks: [SearchHit] = []) {
        self.artists = artists
        self.albums = albums
        self.tracks = tracks
    }

    /// The best hit of any kind.
    public var top: SearchHit? { (artists + albums + tracks).max { $0.score < $1.score } }
}

/// Full-text search over the catalog. The index follows every catalog change in the same transaction.
public protocol CatalogSearch: Sendable {
    func search(_ request: SearchRequest) async throws -> SearchResults
    /// Rebuilds the whole index from the catalog (and recomputes popularity).
    func reindex() async throws -> Int
}

/// How well one query word matched a document.
public enum MatchQuality: Int, Sendable, Comparable {
    case none = 0, fuzzy, prefix, exact

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A document as the ranker sees it, with its terms as whatever the index stores them as (strings, ids).
public struct RankedFields<Term: Hashable> {
    /// The main field (the track or album title, the artist name) as query words, glued words joined.
    public var name: ArraySlice<Term>
    /// Index terms of the main field, in order.
    public var primary: ArraySlice<Term>
    /// Terms of the other fields (artist name and album title of a track, artist name of an album).
    public var secondary: ArraySlice<Term>
    /// Decayed play count.
    public var popularity: Double
    /// Seconds since 1970.
    public var createdAt: Double

    public init(name: ArraySlice<Term>, primary: ArraySlice<Term>, secondary: ArraySlice<Term>, popularity: Double, createdAt: Double) {
        self.name = name
        self.primary = primary
        self.secondary = secondary
        self.popularity = popularity
        self.createdAt = createdAt
    }
}

/// Ranks documents for a query: exact phrase > all words exact > prefix > fuzzy, then how much of the
/// main field the query covers, then popularity, then recency. Every query word must match somewhere.
public enum SearchRanker {
    /// The score of `document`, or nil when some query word matches none of its terms. `words` holds,
    /// per query word, the terms it may match and how well.
    public static func score<Term: Hashable>(_ document: RankedFields<Term>, words: [[Term: MatchQuality]]) -> Double? {
        guard !words.isEmpty else { return nil }
        var worst = MatchQuality.exact
        var inPrimary = 0
        for word in words {
            var best = MatchQuality.none
            var bestInPrimary = false
            for term in document.primary {
                if let quality = word[term], quality > best || (quality == best && !bestInPrimary) {
                    best = quality
                    bestInPrimary = true
                }
            }
            for term in document.secondary {
                if let quality = word[term], quality > best {
                    best = quality
                    bestInPrimary = false
                }
            }
            guard best != .none else { return nil }
            worst = min(worst, best)
            if bestInPrimary { inPrimary += 1 }
        }
        // Phrase: the query, word for word (exact or, for the last word, prefix), is a run of the main field.
        var phrase = phraseMatch(words, in: document.name)
        if phrase == .none, phraseMatch(words, in: document.primary) != .none { phrase = .part }
        let tier: Double =
            switch (phrase, worst) {
            case (.whole, _): 6
            case (.part, _): 5
            case (.none, .exact): 4
            case (.none, .prefix): 3
            default: 2
            }
        let coverage = Double(inPrimary) / Double(words.count)
        // A main field with fewer extra words is a closer match ("Queen" over "Queen of the Night").
        let tightness = document.name.isEmpty ? 0 : min(1, Double(words.count) / Double(document.name.count))
        let popularity = min(log1p(max(document.popularity, 0)), 20) / 20
        let recency = min(max(document.createdAt / 4e9, 0), 1)
        return tier * 1000 + coverage * 100 + tightness * 10 + popularity * 5 + recency
    }

    enum Phrase { case none, part, whole }

    static func phraseMatch<Term: Hashable>(_ words: [[Term: MatchQuality]], in terms: ArraySlice<Term>) -> Phrase {
        guard !terms.isEmpty, words.count <= terms.count else { return .none }
        let last = words.count - 1
        let first = terms.startIndex
        for start in first...(terms.endIndex - words.count) {
            let matches = words.indices.allSatisfy { index in
                let quality = words[index][terms[start + index]] ?? .none
                return quality == .exact || (index == last && quality == .prefix)
            }
            if matches { return words.count == terms.count ? .whole : .part }
        }
        return .none
    }
}
