import Foundation

/// Normalises and checks user-supplied values. Every function returns the cleaned value or throws an
/// ``EncoreError`` of kind `invalidInput` whose code names the field.
public enum Validate {
    /// The user-supplied text fields, each with its own error code.
    public enum Field: String, Sendable {
        case displayName, name, title, bio, genre, releaseDate, artist, album

        public var code: ErrorCode {
            switch self {
            case .displayName: .invalidDisplayName
            case .name: .invalidName
            case .title: .invalidTitle
            case .bio: .invalidBio
            case .genre: .invalidGenre
            case .releaseDate: .invalidReleaseDate
            case .artist: .invalidArtist
            case .album: .invalidAlbum
            }
        }
    }

    /// A human-facing name or title: trimmed, NFC, 1…`maxLength` characters, no control characters.
    public static func text(_ value: String, field: Field, maxLength: Int = 200) throws -> String {
        // Printable ASCII needs no normalising (imports are mostly that): check it byte by byte.
        if value.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw EncoreError(field.code, "\(field.rawValue) must not be empty.") }
            guard trimmed.utf8.count <= maxLength else {
                throw EncoreError(field.code, "\(field.rawValue) must be at most \(maxLength) characters.")
            }
            return trimmed
        }
        let cleaned = value.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        guard !cleaned.isEmpty else { throw EncoreError(field.code, "\(field.rawValue) must not be empty.") }
        guard cleaned.count <= maxLength else {
            throw EncoreError(field.code, "\(field.rawValue) must be at most \(maxLength) characters.")
        }
        guard !cleaned.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw EncoreError(field.code, "\(field.rawValue) must not contain control characters.")
        }
        return cleaned
    }

    /// Free text such as a biography: trimmed, NFC, may be empty, newlines allowed.
    public static func longText(_ value: String, field: Field, maxLength: Int = 5000) throws -> String {
        let cleaned = value.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        guard cleaned.count <= maxLength else {
            throw EncoreError(field.code, "\(field.rawValue) must be at most \(maxLength) characters.")
        }
        let allowed: Set<Unicode.Scalar> = ["\n", "\t"]
        guard !cleaned.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !allowed.contains($0) }) else {
            throw EncoreError(field.code, "\(field.rawValue) must not contain control characters.")
        }
        return cleaned
    }

    /// An email address, trimmed and lower-cased. Deliberately permissive: one `@`, a dot in the domain.
    public static func email(_ value: String) throws -> String {
        let cleaned = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = cleaned.split(separator: "@", omittingEmptySubsequences: false)
        guard cleaned.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !cleaned.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw EncoreError(.invalidEmail, "email must be a valid address such as name@example.com.") }
        return cleaned
    }

    /// A password: 8 to 72 UTF-8 bytes (bcrypt reads no further than 72 bytes, so longer would silently truncate).
    public static func password(_ value: String) throws -> String {
        guard value.count >= 8 else { throw EncoreError(.weakPassword, "password must be at least 8 characters.") }
        guard value.utf8.count <= 72 else { throw EncoreError(.invalidPassword, "password must be at most 72 bytes.") }
        return value
    }

    /// An ISO 3166-1 alpha-2 code, upper-cased.
    public static func country(_ value: String) throws -> String {
        // Checked before upper-casing, which would turn "ß" into "SS".
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let cleaned = trimmed.uppercased()
        guard trimmed.utf8.count == 2, trimmed.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("a"..."z").contains($0) }) else {
            throw EncoreError(.invalidCountry, "country must be an ISO 3166-1 alpha-2 code such as SE or BR.")
        }
        return cleaned
    }

    /// A calendar date `YYYY-MM-DD` that exists (no 2023-02-30).
    public static func calendarDate(_ value: String, field: Field) throws -> String {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }),
            parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...9999).contains(year), (1...12).contains(month), day >= 1
        else { throw EncoreError(field.code, "\(field.rawValue) must be a date in the form YYYY-MM-DD.") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month)
        guard let monthStart = calendar.date(from: components), let days = calendar.range(of: .day, in: .month, for: monthStart),
            days.contains(day)
        else { throw EncoreError(field.code, "\(field.rawValue) is not a real calendar date.") }
        return value
    }

    /// The highest track number an album can have.
    public static let maxTrackNumber = 999

    /// A track number within an album.
    public static func trackNumber(_ value: Int) throws -> Int {
        guard (1...maxTrackNumber).contains(value) else {
            throw EncoreError(.invalidTrackNumber, "trackNumber must be between 1 and \(maxTrackNumber).")
        }
        return value
    }
}
