import Foundation

/// One line of a catalog import file (JSON Lines).
public struct CatalogImportLine: Decodable, Sendable {
    public var artist: String
    public var album: String
    public var title: String
    public var trackNumber: Int?
    public var durationMs: Int?
    public var genre: String?
    public var year: Int?
    public var plays: Int?
    /// Path of an audio file; the track then goes through the media pipeline.
    public var audio: String?
}

/// A validated line, ready for the store.
public struct ImportedTrack: Sendable {
    public var line: Int
    public var artist: String
    public var album: String
    public var title: String
    public var trackNumber: Int?
    public var durationMs: Int
    public var genre: String?
    public var releaseDate: String?
    public var plays: Int
    /// Set when the line brings audio: where the store finds it, and the job to queue.
    public var sourceKey: BlobKey?
    public var trackId: UUID
    /// Worked out while parsing, so the database writer does not have to: folded names for
    /// deduplication, and each name's search terms.
    public var artistKey: String
    public var albumKey: String
    public var artistName: IndexedName
    public var albumName: IndexedName
    public var titleName: IndexedName

    /// - Parameter names: how a name is analysed for the index; the importer memoises it, since artist
    ///   and album names repeat from line to line.
    public init(
        line: Int, artist: String, album: String, title: String, trackNumber: Int?, durationMs: Int, genre: String?, releaseDate: String?,
        plays: Int, sourceKey: BlobKey?, trackId: UUID, names: (String) -> IndexedName = IndexedName.init
    ) {
        self.line = line
        self.artist = artist
        self.album = album
        self.title = title
        self.trackNumber = trackNumber
        self.durationMs = durationMs
        self.genre = genre
        self.releaseDate = releaseDate
        self.plays = plays
        self.sourceKey = sourceKey
        self.trackId = trackId
        artistKey = SearchText.fold(artist)
        albumKey = SearchText.fold(album)
        artistName = names(artist)
        albumName = names(album)
        titleName = IndexedName(title)
    }
}

/// A line the store refused (a track number taken, say).
public struct ImportRejection: Sendable, Equatable {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
}

/// Bulk writes for imports: artists and albums deduplicated by name (case- and accent-blind) among the
/// owner's, everything indexed for search, one transaction per batch.
public protocol CatalogImportStore: Sendable {
    /// Starts an import for `owner`; the session remembers what earlier batches created.
    func beginImport(owner: UUID) -> any CatalogImportSession
}

/// One import's batches, written one at a time, in order.
public protocol CatalogImportSession: Sendable {
    /// Stores a batch atomically; returns the lines it refused (nothing of those is stored).
    func write(_ tracks: [ImportedTrack]) async throws -> [ImportRejection]
    /// Called once after the last batch.
    func finish() async throws
}

/// Reads JSON Lines, validates each line, copies audio into the blob store, and hands batches to the
/// store. Bad lines are reported with their number and skipped.
public struct CatalogImporter: Sendable {
    public struct Progress: Sendable {
        public var linesRead: Int
        public var imported: Int
        public var rejected: [ImportRejection]
    }

    let store: any CatalogImportStore
    let blobs: any BlobStore
    let batchSize: Int

    public init(store: any CatalogImportStore, blobs: any BlobStore, batchSize: Int = 50000) {
        self.store = store
        self.blobs = blobs
        self.batchSize = batchSize
    }

    /// Imports `data` (the whole file) for `owner`; `report` is called after every batch.
    public func importLines(_ data: Data, owner: UUID, report: @Sendable (Progress) -> Void = { _ in }) async throws -> Progress {
        var progress = Progress(linesRead: 0, imported: 0, rejected: [])
        var batch: [ImportedTrack] = []
        let decoder = JSONDecoder()
        let session = store.beginImport(owner: owner)
        // One batch is written while the next is parsed: the database and the parsing each get a core.
        var writing: (batch: [ImportedTrack], task: Task<[ImportRejection], any Error>)?
        func finishWriting() async throws {
            guard let (written, task) = writing else { return }
            writing = nil
            let rejected = try await task.value
            let refused = Set(rejected.map(\.line))
            for track in written where refused.contains(track.line) {
                if let key = track.sourceKey { try? await blobs.delete(key) }
            }
            progress.rejected += rejected
            progress.imported += written.count - rejected.count
            report(progress)
        }
        func flush() async throws {
            try await finishWriting()
            guard !batch.isEmpty else { return }
            let pending = batch
            writing = (pending, Task { try await session.write(pending) })
            batch = []
        }
        // Artist and album names repeat line after line: analyse each once (bounded, as the file may be huge).
        var names: [String: IndexedName] = [:]
        func analysed(_ text: String) -> IndexedName {
            if let known = names[text] { return known }
            let made = IndexedName(text)
            if names.count >= 200_000 { names.removeAll(keepingCapacity: true) }
            names[text] = made
            return made
        }
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            lineNumber += 1
            let bytes = data[start..<end]
            start = end < data.endIndex ? data.index(after: end) : end
            progress.linesRead = lineNumber
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }  // blank lines are not errors
            do {
                let parsed = try decoder.decode(CatalogImportLine.self, from: bytes)
                batch.append(try await validate(parsed, line: lineNumber, names: analysed))
            } catch let error as EncoreError {
                progress.rejected.append(ImportRejection(line: lineNumber, reason: error.message))
            } catch let error as DecodingError {
                progress.rejected.append(ImportRejection(line: lineNumber, reason: Self.describe(error)))
            }
            if batch.count >= batchSize { try await flush() }
        }
        try await flush()
        try await finishWriting()
        try await session.finish()
        return progress
    }

    func validate(_ line: CatalogImportLine, line number: Int, names: (String) -> IndexedName) async throws -> ImportedTrack {
        let artist = try Validate.text(line.artist, field: .artist)
        let album = try Validate.text(line.album, field: .album)
        let title = try Validate.text(line.title, field: .title)
        let trackNumber = try line.trackNumber.map(Validate.trackNumber)
        guard (line.durationMs ?? 0) >= 0, (line.durationMs ?? 0) <= 86_400_000 else {
            throw EncoreError(.invalidDuration, "durationMs must be between 0 and 86400000.")
        }
        guard (line.plays ?? 0) >= 0 else { throw EncoreError(.invalidPlays, "plays must be 0 or more.") }
        var releaseDate: String?
        if let year = line.year {
            guard (1000...2100).contains(year) else { throw EncoreError(.invalidYear, "year must be between 1000 and 2100.") }
            releaseDate = String(format: "%04d-01-01", year)
        }
        let genre = try line.genre.flatMap { $0.isEmpty ? nil : try Validate.text($0, field: .genre, maxLength: 50) }
        let trackId = UUID.timeOrdered()
        var sourceKey: BlobKey?
        if let path = line.audio {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isReadableFile(atPath: path)
            else { throw EncoreError(.invalidAudioPath, "audio file \(path) does not exist or cannot be read.") }
            let key = TrackKeys.source(trackId: trackId, uploadId: UUID())
            _ = try await blobs.putFile(key, from: path)
            sourceKey = key
        }
        return ImportedTrack(
            line: number, artist: artist, album: album, title: title, trackNumber: trackNumber, durationMs: line.durationMs ?? 0, genre: genre,
            releaseDate: releaseDate, plays: line.plays ?? 0, sourceKey: sourceKey, trackId: trackId, names: names)
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted: "not a JSON object"
        @unknown default: "not a valid line"
        }
    }
}
