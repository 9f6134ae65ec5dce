/// Which slice of a list to return. `limit` is 1…``maxLimit``; `offset` ≥ 0.
public struct PageRequest: Sendable, Equatable {
    public static let maxLimit = 100
    public static let defaultLimit = 20
    public static let maxOffset = 1_000_000_000

    public var limit: Int
    public var offset: Int

    /// Validates the bounds; throws `invalid_limit` / `invalid_offset`.
    public init(limit: Int = PageRequest.defaultLimit, offset: Int = 0) throws {
        guard (1...Self.maxLimit).contains(limit) else {
            throw EncoreError(.invalidLimit, "limit must be between 1 and \(Self.maxLimit).")
        }
        guard offset >= 0, offset <= Self.maxOffset else {
            throw EncoreError(.invalidOffset, "offset must be between 0 and \(Self.maxOffset).")
        }
        self.limit = limit
        self.offset = offset
    }
}

/// One slice of a list. `nextOffset` is nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var limit: Int
    public var offset: Int
    public var nextOffset: Int?

    /// Builds a page from up to `limit + 1` fetched rows: the extra row only tells that more exist.
    public init(fetched: [Item], request: PageRequest) {
        self.items = Array(fetched.prefix(request.limit))
        self.limit = request.limit
        self.offset = request.offset
        self.nextOffset = fetched.count > request.limit ? request.offset + request.limit : nil
    }

    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), limit: limit, offset: offset, nextOffset: nextOffset)
    }

    init(items: [Item], limit: Int, offset: Int, nextOffset: Int?) {
        self.items = items
        self.limit = limit
        self.offset = offset
        self.nextOffset = nextOffset
    }
}

extension Page {
    /// Up to `limit` items from `offset`, read a page at a time through `fetch` (repositories serve at most
    /// ``PageRequest/maxLimit`` per page).
    public static func collect(
        limit: Int = .max, offset: Int = 0, _ fetch: (PageRequest) async throws -> Page<Item>
    ) async throws -> [Item] {
        var items: [Item] = []
        var next: Int? = offset
        while let start = next, items.count < limit {
            let page = try await fetch(try PageRequest(limit: Swift.min(PageRequest.maxLimit, limit - items.count), offset: start))
            items += page.items
            next = page.nextOffset
        }
        return items
    }
}

extension Page: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey { case items, limit, offset, nextOffset }

    /// `nextOffset` is written as `null` on the last page rather than left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(limit, forKey: .limit)
        try container.encode(offset, forKey: .offset)
        try container.encode(nextOffset, forKey: .nextOffset)
    }
}
