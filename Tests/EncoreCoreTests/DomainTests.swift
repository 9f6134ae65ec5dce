import EncoreCore
import Foundation
import Testing

@Suite("Blob keys", .timeLimit(.minutes(5)))
struct BlobKeyTests {
    @Test("valid keys", arguments: ["a", "tracks/abc/original.flac", "uploads/u-1/x_y.z", ".hidden/file", "a/...", "...", "a/.b"])
    func valid(raw: String) {
        #expect(BlobKey(raw)?.rawValue == raw)
    }

    @Test(
        "keys that could escape or confuse are refused",
        arguments: [
            "", "/abs", "trailing/", "a//b", "../up", "a/../b", "a/./b", ".", "..", "a/..", "a/.", "./a", "sp ace", "per%2fcent", "back\\slash",
            "ünïcode",
            "new\nline", String(repeating: "a", count: 513),
        ])
    func invalid(raw: String) {
        #expect(BlobKey(raw) == nil)
    }

    @Test func prefixes() throws {
        let prefix = try #require(BlobKey("tracks/1"))
        #expect(try #require(BlobKey("tracks/1/a.flac")).isWithin(prefix))
        #expect(prefix.isWithin(prefix))
        #expect(try #require(BlobKey("tracks/10/a.flac")).isWithin(prefix) == false)
        #expect(try #require(BlobKey("tracks/1/a.FLAC")).pathExtension == "flac")
        #expect(try #require(BlobKey("tracks/1/noext")).pathExtension == nil)
        #expect(try #require(BlobKey("tracks/1/.hidden")).pathExtension == nil)
        #expect(try #require(BlobKey(".hidden")).pathExtension == nil)
        #expect(try #require(BlobKey("dir.d/noext")).pathExtension == nil)
        #expect(try #require(BlobKey("a/master.m3u8.gz")).pathExtension == "gz")
        #expect(try #require(BlobKey("a/trailing.")).pathExtension == nil)
        #expect(try #require(BlobKey("x.Mp4")).pathExtension == "mp4")
    }
}

@Suite("Validation", .timeLimit(.minutes(5)))
struct ValidationTests {
    @Test func text() throws {
        #expect(try Validate.text("  Sigur Ro\u{301}s \n", field: .name) == "Sigur Rós")  // trimmed and NFC
        #expect(throws: EncoreError.self) { try Validate.text("   ", field: .name) }
        #expect(throws: EncoreError.self) { try Validate.text("bell\u{7}", field: .name) }
        #expect(throws: EncoreError.self) { try Validate.text(String(repeating: "x", count: 201), field: .name) }
        #expect(try Validate.longText("line one\nline two", field: .bio) == "line one\nline two")
    }

    @Test func emails() throws {
        #expect(try Validate.email(" Ana@Example.COM ") == "ana@example.com")
        for bad in ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "ana@.com", "a@b@c.com"] {
            #expect(throws: EncoreError.self, "\(bad)") { try Validate.email(bad) }
        }
    }

    @Test func passwordsCountBytesForBcrypt() throws {
        #expect(try Validate.password("12345678") == "12345678")
        #expect(throws: EncoreError.self) { try Validate.password("1234567") }
        #expect(try Validate.password(String(repeating: "a", count: 72)).count == 72)
        #expect(throws: EncoreError.self) { try Validate.password(String(repeating: "é", count: 37)) }  // 74 bytes
    }

    @Test func datesAndCountries() throws {
        #expect(try Validate.calendarDate("2024-02-29", field: .releaseDate) == "2024-02-29")
        for bad in ["2023-02-29", "2024-13-01", "2024-1-01", "24-01-01", "2024-01-00", "2024/01/01", "0000-01-01"] {
            #expect(throws: EncoreError.self, "\(bad)") { try Validate.calendarDate(bad, field: .releaseDate) }
        }
        #expect(try Validate.country(" se ") == "SE")
        for bad in ["SWE", "S", "1A", "ÅÄ"] { #expect(throws: EncoreError.self, "\(bad)") { try Validate.country(bad) } }
    }
}

@Suite("Rules", .timeLimit(.minutes(5)))
struct RuleTests {
    @Test func ownership() throws {
        let owner = UUID()
        let artist = Principal(userId: owner, role: .artist)
        let stranger = Principal(userId: UUID(), role: .artist)
        let admin = Principal(userId: UUID(), role: .admin)
        let listener = Principal(userId: UUID(), role: .listener)
        #expect(artist.mayModify(ownedBy: owner))
        #expect(!stranger.mayModify(ownedBy: owner))
        #expect(admin.mayModify(ownedBy: owner))
        #expect(throws: EncoreError.forbidden) { try stranger.requireOwnership(of: owner) }
        #expect(throws: EncoreError.self) { try listener.requirePublisher() }
        try artist.requirePublisher()
    }

    @Test func uploadReferences() throws {
        let user = UUID()
        let principal = Principal(userId: user, role: .artist)
        let reference = UploadReference(userId: user, uploadId: UUID())
        #expect(try UploadReference(parsing: reference.uri, for: principal) == reference)
        #expect(reference.key.rawValue.hasPrefix("uploads/\(user.uuidString.lowercased())/"))
        let other = Principal(userId: UUID(), role: .artist)
        #expect(throws: EncoreError.self) { try UploadReference(parsing: reference.uri, for: other) }
        for bad in ["", "blob:", "blob:uploads/x/y", "http://x/uploads/\(user)/\(UUID())", "blob:tracks/\(user)/\(UUID())", reference.uri + "/more"] {
            #expect(throws: EncoreError.self, "\(bad)") { try UploadReference(parsing: bad, for: principal) }
        }
    }

    @Test func pages() throws {
        let request = try PageRequest(limit: 2, offset: 4)
        let page = Page(fetched: [1, 2, 3], request: request)
        #expect(page.items == [1, 2])
        #expect(page.nextOffset == 6)
        #expect(Page(fetched: [1, 2], request: request).nextOffset == nil)
        #expect(throws: EncoreError.self) { try PageRequest(limit: 101) }
        #expect(throws: EncoreError.self) { try PageRequest(limit: 0) }
        #expect(throws: EncoreError.self) { try PageRequest(offset: -1) }
    }

    @Test func formats() {
        #expect(AudioFormats.fileExtension(container: "flac", codec: "flac") == "flac")
        #expect(AudioFormats.fileExtension(container: "mov,mp4,m4a,3gp,3g2,mj2", codec: "aac") == "m4a")
        #expect(AudioFormats.fileExtension(container: "ogg", codec: "opus") == "opus")
        #expect(AudioFormats.contentType(forExtension: "mp3") == "audio/mpeg")
        #expect(AudioFormats.contentType(forExtension: nil) == "application/octet-stream")
    }
}

@Suite("BoundedMemo", .timeLimit(.minutes(5)))
struct BoundedMemoTests {
    @Test("remembers values and never holds more than its capacity")
    func bounded() {
        let memo = BoundedMemo<Int, String>(capacity: 3)
        for key in 0..<3 { memo.remember("v\(key)", for: key) }
        #expect(memo[0] == "v0")
        #expect(memo[2] == "v2")
        memo.remember("v3", for: 3)  // full: starts over, keeping only the newest
        #expect(memo[0] == nil)
        #expect(memo[3] == "v3")
        memo.remember("w3", for: 3)
        #expect(memo[3] == "w3")
        #expect(memo[9] == nil)
    }
}
