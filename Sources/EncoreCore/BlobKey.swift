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

    /// The folder holding the key (`a/b` for `a/b/c`); nil for a key at the top level.
    public var parent: BlobKey? {
        guard let slash = rawValue.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return BlobKey(String(rawValue[..<slash]))
    }

    /// HLS playlists and DASH manifests: objects that name others by relative references (so a URL
    /// for one must open its folder), and that have gzip twins.
    public var isPlaylist: Bool { ["m3u8", "mpd"].contains(pathExtension ?? "") }

    /// The last segment's extension (after the final dot), lower-cased, or nil. Byte-level: the media
    /// origin asks this on every request.
    public var pathExtension: String? {
        let bytes = rawValue.utf8
        var index = bytes.endIndex
        while index > bytes.startIndex {
            let previous = bytes.index(before: index)
            switch bytes[previous] {
            case UInt8(ascii: "/"):
                return nil
            case UInt8(ascii: "."):
                // A leading dot names a hidden file, not an extension.
                guard index != bytes.endIndex, previous != bytes.startIndex, bytes[bytes.index(before: previous)] != UInt8(ascii: "/") else {
                    return nil
                }
                return String(Substring(rawValue.utf8[index...])).lowercased()
            default:
                index = previous
            }
        }
        return nil
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

    /// One pass over the bytes: allowed alphabet, no empty, `.` or `..` segment.
    static func isValid(_ raw: String) -> Bool {
        guard !raw.isEmpty, raw.utf8.count <= maxLength else { return false }
        var segmentLength = 0
        var segmentIsDots = true
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "/"):
                guard segmentLength > 0, !(segmentIsDots && segmentLength <= 2) else { return false }
                segmentLength = 0
                segmentIsDots = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                segmentLength += 1
                segmentIsDots = false
            case UInt8(ascii: "."):
                segmentLength += 1
            default:
                return false
            }
        }
        return segmentLength > 0 && !(segmentIsDots && segmentLength <= 2)
    }
}
