import EncoreCore
import Foundation
import PostgresNIO
import Synchronization

/// Bulk import with COPY, one transaction per batch: the batch's artists, albums and tracks, and their
/// search documents, each go in with one COPY; the queued jobs and the artists' and albums' popularity
/// take one statement each. A batch costs the
/// same few round trips whatever its size. The search index is written in the same transaction.
///
/// What an import has learnt so far: the owner's artists and albums by folded name, and the track
/// numbers in use, so that later batches need no look-ups. Reset if a batch fails (its rows rolled back).
final class PostgresImportSession: CatalogImportSession {
    /// What earlier batches learnt.
    struct State: Sendable {
        var artists: [String: UUID]?
        var albums: [String: UUID] = [:]
        var albumsLoaded: Set<UUID> = []
        var numbers: [UUID: Set<Int>] = [:]
        var highest: [UUID: Int] = [:]
    }

    let executor: PostgresExecutor
    let owner: UUID
    /// Taken out for the duration of a batch and put back when it succeeds (the lock is never held across a
    /// suspension). Batches come one at a time (`CatalogImporter` awaits each before it starts the next),
    /// so no batch ever finds the state taken by another.
    private let state = Mutex(State())

    init(executor: PostgresExecutor, owner: UUID) {
        self.executor = executor
        self.owner = owner
    }

    func write(_ tracks: [ImportedTrack]) async throws -> [ImportRejection] {
        let owner = self.owner
        do {
            let channel = PostgresSchema.channels(schema: executor.database.location.schema).changes
            return try await executor.write { connection in
                // A batch adds tens of thousands of rows: rather than a notification per row (see the change
                // triggers), one that tells every instance to forget everything, sent at commit.
                try await connection.run("SET LOCAL encore.bulk = 'on'")
                try await connection.run("SELECT pg_notify(\(channel), '*')")
                var state = self.takeState()
                let rejected = try await Self.write(tracks, owner: owner, state: &state, connection)
                self.state.withLock { $0 = state }
                return rejected
            }
        } catch {
            state.withLock { $0 = State() }  // the rolled-back rows must not be remembered
            throw error
        }
    }

    func finish() async throws {
        state.withLock { $0 = State() }  // give the memory back to a long-running process
    }

    /// The state, leaving an empty one in its place (so that the taker's copy is unique, and mutating it
    /// copies nothing).
    private func takeState() -> State {
        state.withLock { current in
            defer { current = State() }
            return current
        }
    }

    private static func write(
        _ tracks: [ImportedTrack], owner: UUID, state: inout State, _ connection: PostgresConnection
    ) async throws -> [ImportRejection] {
        let now = Date()
        let time = now.stored
        if state.artists == nil {
            var known: [String: UUID] = [:]
            for row in try await connection.rows("SELECT id, name FROM artist WHERE owner_id = \(owner) ORDER BY created_at, id") {
                let name = try row.value("name", as: String.self)
                known[SearchText.fold(name)] = try row.value("id", as: UUID.self)
            }
            state.artists = known
        }
        var artists = state.artists ?? [:]
        state.artists = nil  // so that `artists` is the only reference, and adding to it copies nothing; put back below

        // The albums of the artists that existed before this import, and the track numbers of the albums
        // that did, are looked up once, for all of the batch's tracks together (each look-up is a round trip).
        let unloaded = Set(tracks.compactMap { artists[$0.artistKey] }).subtracting(state.albumsLoaded)
        if !unloaded.isEmpty {
            let rows = try await connection.rows(
                "SELECT id, artist_id, title FROM album WHERE artist_id = ANY(\(Array(unloaded))) ORDER BY created_at, id")
            for row in rows {
                let artistId = try row.value("artist_id", as: UUID.self)
                let title = try row.value("title", as: String.self)
                state.albums[artistId.uuidString + "|" + SearchText.fold(title)] = try row.value("id", as: UUID.self)
            }
            state.albumsLoaded.formUnion(unloaded)
        }
        var unnumbered = Set<UUID>()
        for track in tracks {
            guard let artistId = artists[track.artistKey], let albumId = state.albums[artistId.uuidString + "|" + track.albumKey],
                state.numbers[albumId] == nil
            else { continue }
            unnumbered.insert(albumId)
        }
        if !unnumbered.isEmpty {
            for id in unnumbered {
                state.numbers[id] = []
                state.highest[id] = 0
            }
            let rows = try await connection.rows("SELECT album_id, track_number FROM track WHERE album_id = ANY(\(Array(unnumbered)))")
            for row in rows {
                let albumId = try row.value("album_id", as: UUID.self)
                let number = try row.value("track_number", as: Int.self)
                state.numbers[albumId, default: []].insert(number)
                state.highest[albumId] = max(state.highest[albumId] ?? 0, number)
            }
        }

        var artistRows = CopyRows()
        var albumRows = CopyRows()
        var trackRows = CopyRows()
        var jobs: [JobRequest] = []
        var documents: [PostgresSearchIndexer.FreshDocument] = []
        var popularity: [UUID: Double] = [:]
        var rejected: [ImportRejection] = []
        for track in tracks {
            let artistKey = track.artistKey
            let artistId: UUID
            var newArtist = false
            if let existing = artists[artistKey] {
                artistId = existing
            } else {
                artistId = UUID.timeOrdered()
                artistRows.add(artistId)
                artistRows.add(owner)
                artistRows.add(track.artist)
                artistRows.add(track.artist.libraryOrderKey)
                artistRows.add("")
                artistRows.add(nil)
                artistRows.add(time)
                artistRows.add(time)
                artistRows.endRow()
                artists[artistKey] = artistId
                newArtist = true
            }
            state.albumsLoaded.insert(artistId)
            let albumKey = artistId.uuidString + "|" + track.albumKey
            let albumId: UUID
            var newAlbum = false
            if let existing = state.albums[albumKey] {
                albumId = existing
            } else {
                albumId = UUID.timeOrdered()
                newAlbum = true
            }
            let number = track.trackNumber ?? (state.highest[albumId] ?? 0) + 1
            if state.numbers[albumId, default: []].contains(number) {
                // Only an album that exists already can have a taken number, so nothing new was written.
                rejected.append(ImportRejection(line: track.line, reason: "track number \(number) is taken in album \"\(track.album)\""))
                continue
            }
            if newArtist {
                documents.append(
                    .init(kind: .artist, entityId: artistId, main: track.artistName, secondary: [], popularity: 0, createdAt: now))
            }
            if newAlbum {
                albumRows.add(albumId)
                albumRows.add(artistId)
                albumRows.add(track.album)
                albumRows.add(track.album.libraryOrderKey)
                albumRows.add(track.genre)
                albumRows.add(track.releaseDate)
                albumRows.add(time)
                albumRows.add(time)
                albumRows.endRow()
                state.albums[albumKey] = albumId
                state.numbers[albumId] = []
                documents.append(
                    .init(
                        kind: .album, entityId: albumId, main: track.albumName, secondary: [track.artistName], popularity: 0, createdAt: now))
            }
            state.numbers[albumId, default: []].insert(number)
            state.highest[albumId] = max(state.highest[albumId] ?? 0, number)
            let status = track.sourceKey == nil ? TrackStatus.pending : .processing
            trackRows.add(track.trackId)
            trackRows.add(albumId)
            trackRows.add(artistId)
            trackRows.add(track.title)
            trackRows.add(number)
            trackRows.add(track.durationMs)
            trackRows.add(status.rawValue)
            trackRows.add(track.sourceKey?.rawValue)
            trackRows.add(time)
            trackRows.add(time)
            trackRows.endRow()
            if let source = track.sourceKey {
                jobs.append(TrackProcessingJob(trackId: track.trackId, sourceKey: source).request)
            }
            documents.append(
                .init(
                    kind: .track, entityId: track.trackId, main: track.titleName, secondary: [track.artistName, track.albumName],
                    popularity: Double(track.plays), createdAt: now))
            if track.plays > 0 {
                popularity[artistId, default: 0] += Double(track.plays)
                popularity[albumId, default: 0] += Double(track.plays)
            }
        }
        state.artists = artists

        // Parents first: a row's foreign keys are checked as its COPY ends.
        try await connection.copyRows(
            into: "artist", columns: ["id", "owner_id", "name", "sort_name", "bio", "country", "created_at", "updated_at"], artistRows)
        try await connection.copyRows(
            into: "album", columns: ["id", "artist_id", "title", "sort_title", "genre", "release_date", "created_at", "updated_at"], albumRows)
        try await connection.copyRows(
            into: "track",
            columns: ["id", "album_id", "artist_id", "title", "track_number", "duration_ms", "status", "source_key", "created_at", "updated_at"],
            trackRows)
        try await queue(jobs, now: now, connection)
        try await PostgresSearchIndexer.copyDocuments(documents, connection)
        if !popularity.isEmpty {
            // In id order, as every writer of these rows would take them.
            let bumps = popularity.sorted { $0.key.uuidString < $1.key.uuidString }
            let ids = bumps.map { $0.key }
            let plays = bumps.map { $0.value }
            try await connection.run(
                """
                UPDATE search_doc SET popularity = search_doc.popularity + v.plays
                FROM unnest(\(ids)::uuid[], \(plays)::float8[]) AS v(id, plays)
                WHERE search_doc.entity_id = v.id
                """)
        }
        return rejected
    }

    /// Queues the jobs, in one statement, in the order given (their ids follow it).
    private static func queue(_ jobs: [JobRequest], now: Date, _ connection: PostgresConnection) async throws {
        guard !jobs.isEmpty else { return }
        let kinds = jobs.map(\.kind)
        let payloads = jobs.map(\.payload)
        let maxAttempts = jobs.map { max(1, $0.maxAttempts) }
        let runAt = jobs.map { ($0.runAt ?? now).stored }
        let time = now.stored
        try await connection.run(
            """
            INSERT INTO job (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
            SELECT j.kind, j.payload, 'queued', 0, j.max_attempts, j.run_at, \(time), \(time)
            FROM unnest(\(kinds)::text[], \(payloads)::text[], \(maxAttempts)::bigint[], \(runAt)::float8[])
                WITH ORDINALITY AS j(kind, payload, max_attempts, run_at, n)
            ORDER BY j.n
            """)
    }
}

/// Rows in the text format of `COPY … FROM STDIN`: fields separated by tabs, rows ended by newlines, `\N`
/// for NULL, and backslash, tab, newline and carriage return escaped in values. Kept in chunks of about a
/// megabyte, each sent as one message.
struct CopyRows {
    static let chunkSize = 1 << 20

    private var chunks: [ByteBuffer] = []
    private var current = ByteBuffer()
    private var rowStarted = false
    /// Rows ended so far.
    private(set) var count = 0

    /// A text field, or NULL.
    mutating func add(_ text: String?) {
        separate()
        guard let text else {
            current.writeStaticString("\\N")
            return
        }
        let utf8 = text.utf8
        // Backslash, tab, newline, carriage return: UTF-8 never has these bytes inside a multi-byte character, so
        // they can be escaped byte by byte.
        guard utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
            current.writeString(text)
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\\"): current.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): current.writeStaticString("\\t")
            case UInt8(ascii: "\n"): current.writeStaticString("\\n")
            case UInt8(ascii: "\r"): current.writeStaticString("\\r")
            default: current.writeInteger(byte)
            }
        }
    }

    mutating func add(_ value: Int) {
        separate()
        current.writeString(String(value))
    }

    mutating func add(_ value: Int64) {
        separate()
        current.writeString(String(value))
    }

    /// The shortest text that reads back as exactly `value`.
    mutating func add(_ value: Double) {
        separate()
        current.writeString(value.description)
    }

    mutating func add(_ value: UUID) {
        separate()
        current.writeString(value.uuidString)
    }

    mutating func endRow() {
        current.writeInteger(UInt8(ascii: "\n"))
        rowStarted = false
        count += 1
        if current.readableBytes >= Self.chunkSize {
            chunks.append(current)
            current = ByteBuffer()
        }
    }

    /// Everything written, in order.
    var buffers: [ByteBuffer] { current.readableBytes > 0 ? chunks + [current] : chunks }

    private mutating func separate() {
        if rowStarted { current.writeInteger(UInt8(ascii: "\t")) }
        rowStarted = true
    }
}

extension PostgresConnection {
    /// Streams `rows` into `table` with `COPY … FROM STDIN` (text format); nothing when there are none.
    /// `table` and `columns` go into the statement as they are: only constants may be passed.
    func copyRows(into table: String, columns: [String], _ rows: CopyRows) async throws {
        let buffers = rows.buffers
        guard !buffers.isEmpty else { return }
        try await copyFrom(table: table, columns: columns, format: .text(.init()), logger: queryLogger) { writer in
            for buffer in buffers { try await writer.write(buffer) }
        }
    }
}
