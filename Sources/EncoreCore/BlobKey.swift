/// The name of an object in a blob store: slash-separated segments of `[A-Za-z0-9._-]`.
///
/// The alphabet is deliberately narrow: a key can be placed in a URL path or a file path without escaping,
/// and no key can climb out of its store (`.` and `..` segments are refused, so are empty segments).
public struct BlobKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Longest key accepted, in bytes.
    public static let maxLength = 512

    /// Creates a key, or returns nil when `rawValue` is not a valid key.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The key's segments, in order.
    public var segments: [Substring] { rawValue.split(separator: "/", omittingEmptySubsequences: false) }

    /// The last segment's extension (after the final dot), lower-cased, or nil.
    public var pathExtension: String? {
        guard let last = segments.last, let dot = last.lastIndex(of: "."), dot != last.startIndex else { return nil }
        let ext = last[last.index(after: dot)...]
        return ext.isEmpty ? nil : ext.lowercased()
    }

    /// True when this key equals `prefix` or lies below it (`prefix/…`).
    public func isWithin(_ prefix: BlobKey) -> Bool {
        rawValue == prefix.rawValue || rawValue.hasPrefix(prefix.rawValue + "/")
    }

    /// This key with `suffix` appended to its last segment (`a/b.m3u8` → `a/b.m3u8.gz`).
    public func appendingSuffix(_ suffix: String) -> BlobKey? { BlobKey(rawValue + suffix) }

    /// A key one level below this one.
    public func appending(_ segment: String) -> BlobKey? { BlobKey(rawValue + "/" + segment) }

    public var description: String { rawValue }

    public static func < (lhs: BlobKey, rhs: BlobKey) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let key = BlobKey(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid blob key"))
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    static func isValid(_ raw: String) -> Bool {
        guard !raw.isEmpty, raw.utf8.count <= maxLength else { return false }
        for segment in raw.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != ".." else { return false }
            for byte in segment.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    continue
                default:
                    return false
                }
            }
        }
        return true
    }
}
