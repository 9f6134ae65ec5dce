import Foundation

/// What every engine's copy of Encore's search index shares, so that an index built by one engine ranks
/// as one built by another: how popularity decays and orders postings, how many postings a query reads,
/// how kinds are coded, how many deletion variants a term is indexed with, and how a prefix becomes a
/// range.
public enum SearchIndexRules {
    /// Popularity halves in about three weeks: `exp(-age / tau)`, tau = 30 days.
    public static let decaySeconds = 30.0 * 86_400

    /// Postings read per exact query term, most popular first; other terms share twice as many. Whole
    /// names are looked up directly besides, so an exact title is never lost to this cap.
    public static let maxPostingsPerTerm = 300

    /// With several query words, postings are read past documents that lack the other words, up to this
    /// many per query: a bound on the work a query of common words can cause.
    public static let maxPostingsScanned = 40_000

    /// The kind codes stored in the index.
    public static func code(_ kind: SearchRequest.Kind) -> Int {
        switch kind {
        case .artist: 0
        case .album: 1
        case .track: 2
        }
    }

    /// The kind a stored code stands for.
    public static func kind(code: Int) -> SearchRequest.Kind? {
        switch code {
        case 0: .artist
        case 1: .album
        case 2: .track
        default: nil
        }
    }

    /// `popularity`, recorded at `then`, as of `now` (seconds since 1970).
    public static func decayed(_ popularity: Double, from then: Double, to now: Double) -> Double {
        popularity * exp(-max(now - then, 0) / decaySeconds)
    }

    /// Where a document with this popularity sorts in a term's postings: more popular first.
    public static func postingRank(_ popularity: Double) -> Int { -Int((log1p(max(popularity, 0)) * 100).rounded()) }

    /// How many deletions deep an indexed term's variants go (SymSpell): one from 3 letters, two from 8.
    public static func variantBudget(forTerm term: String) -> Int { term.count >= 8 ? 2 : term.count >= 3 ? 1 : 0 }

    /// The smallest string greater than every string starting with `prefix` (the end of its range).
    public static func successor(of prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        guard let last = scalars.popLast(), let next = Unicode.Scalar(last.value + 1) else { return nil }
        scalars.append(next)
        return String(String.UnicodeScalarView(scalars))
    }

    /// A stored field's terms (kept space-separated).
    public static func terms(_ text: String) -> [String] {
        text.split(separator: " ").map(String.init)
    }
}

extension SearchRequest {
    /// The kinds asked for, in a stable order.
    public var wantedKinds: [Kind] { Kind.allCases.filter(kinds.contains) }

    /// How many of each kind's best hits ranking must return: the page and what it skips.
    public var wanted: Int { offset + limit }
}

extension SearchResults {
    /// The page `request` asks for, from each kind's best ``SearchRequest/wanted`` hits.
    public init(page request: SearchRequest, of ranked: [(SearchRequest.Kind, [SearchHit])]) {
        self.init()
        for (kind, hits) in ranked {
            let page = Array(hits.dropFirst(request.offset))
            switch kind {
            case .artist: artists = page
            case .album: albums = page
            case .track: tracks = page
            }
        }
    }
}
