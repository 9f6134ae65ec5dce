import EncoreCore
import Foundation
import GRDB

/// Named, append-only migrations. Never edit a migration that has shipped: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-29 catalog") { db in
            try db.create(table: "user") { t in
                t.primaryKey("id", .blob)
                t.column("email", .text).notNull().unique()
                t.column("passwordHash", .text).notNull()
                t.column("displayName", .text).notNull()
                t.column("role", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(table: "artist") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("owner", inTable: "user", onDelete: .cascade).notNull()
                t.column("name", .text).notNull()
                t.column("bio", .text).notNull()
                t.column("country", .text)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(index: "artist_on_name", on: "artist", columns: ["name"])
            try db.create(table: "album") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("artist", onDelete: .cascade).notNull()
                t.column("title", .text).notNull()
                t.column("genre", .text)
                t.column("releaseDate", .text)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(table: "track") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("album", onDelete: .cascade).notNull()
                t.belongsTo("artist", onDelete: .cascade).notNull()
                t.column("title", .text).notNull()
                t.column("trackNumber", .integer).notNull()
                t.column("durationMs", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("blobKey", .text).notNull().unique()
                t.column("container", .text).notNull()
                t.column("codec", .text).notNull()
                t.column("sampleRate", .integer).notNull()
                t.column("channels", .integer).notNull()
                t.column("bitRate", .integer)
                t.column("sizeBytes", .integer).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.uniqueKey(["albumId", "trackNumber"])
            }
            try db.create(table: "playlist") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("owner", inTable: "user", onDelete: .cascade).notNull()
                t.column("title", .text).notNull()
                t.column("isPublic", .boolean).notNull()
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(table: "playlistEntry") { t in
                t.belongsTo("playlist", onDelete: .cascade).notNull()
                t.column("ordinal", .integer).notNull()
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.column("addedAt", .double).notNull()
                t.primaryKey(["playlistId", "ordinal"])
            }
            try db.create(table: "playEvent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("user", onDelete: .cascade).notNull()
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.column("playedAt", .double).notNull()
            }
        }
        migrator.registerMigration("2026-11-29 jobs") { db in
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull()
                t.column("payload", .text).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("maxAttempts", .integer).notNull()
                t.column("runAt", .double).notNull()
                t.column("leaseOwner", .text)
                t.column("leaseExpiresAt", .double)
                t.column("lastError", .text)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(index: "job_due", on: "job", columns: ["state", "runAt"])
        }
        migrator.registerMigration("2026-11-29 track pipeline") { db in
            // SQLite cannot relax NOT NULL columns: rebuild the table (foreign keys are off while a
            // migration runs, and checked when it ends). Existing tracks go back through the pipeline.
            try db.create(table: "newTrack") { t in
                t.primaryKey("id", .blob)
                t.column("albumId", .blob).notNull().references("album", onDelete: .cascade)
                t.column("artistId", .blob).notNull().references("artist", onDelete: .cascade)
                t.column("title", .text).notNull()
                t.column("trackNumber", .integer).notNull()
                t.column("durationMs", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("audio", .text)
                t.column("media", .text)
                t.column("sourceKey", .text).unique()
                t.column("failureCode", .text)
                t.column("failureMessage", .text)
                t.column("linkedTrackId", .blob)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.uniqueKey(["albumId", "trackNumber"])
            }
            try db.execute(
                sql: """
                    INSERT INTO newTrack (id, albumId, artistId, title, trackNumber, durationMs, status, sourceKey, createdAt, updatedAt)
                    SELECT id, albumId, artistId, title, trackNumber, durationMs, 'processing', blobKey, createdAt, updatedAt FROM track
                    """)
            let pending = try Row.fetchAll(db, sql: "SELECT id, sourceKey FROM newTrack")
            for row in pending {
                guard let id = row["id"] as UUID?, let key = BlobKey(row["sourceKey"] as String) else { continue }
                _ = try JobRecord.insert(TrackProcessingJob(trackId: id, sourceKey: key).request, now: Date(), into: db)
            }
            try db.drop(table: "track")
            try db.rename(table: "newTrack", to: "track")
            try db.create(index: "track_on_albumId", on: "track", columns: ["albumId"])
            try db.create(index: "track_on_artistId", on: "track", columns: ["artistId"])
            try db.create(table: "fingerprint") { t in
                t.primaryKey("trackId", .blob).references("track", onDelete: .cascade)
                t.column("artistId", .blob).notNull()
                t.column("durationSeconds", .double).notNull()
                t.column("raw", .blob).notNull()
            }
            try db.create(index: "fingerprint_on_duration", on: "fingerprint", columns: ["durationSeconds"])
        }
        migrator.registerMigration("2026-11-29 search") { db in
            try db.create(table: "searchDoc") { t in
                t.autoIncrementedPrimaryKey("docId")
                t.column("kind", .integer).notNull()
                t.column("entityId", .blob).notNull().unique()
                t.column("name", .text).notNull()
                t.column("primaryTerms", .text).notNull()
                t.column("secondaryTerms", .text).notNull()
                t.column("popularity", .double).notNull()
                t.column("popularityAt", .double).notNull()
                t.column("postingRank", .integer).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(table: "searchTerm") { t in
                t.autoIncrementedPrimaryKey("termId")
                t.column("term", .text).notNull().unique()
                t.column("docCount", .integer).notNull()
            }
            try db.execute(
                sql: """
                    CREATE TABLE searchPosting (
                        termId INTEGER NOT NULL, kind INTEGER NOT NULL, rank INTEGER NOT NULL, docId INTEGER NOT NULL,
                        PRIMARY KEY (termId, kind, rank, docId)) WITHOUT ROWID;
                    CREATE TABLE searchVariant (
                        variant TEXT NOT NULL, termId INTEGER NOT NULL, PRIMARY KEY (variant, termId)) WITHOUT ROWID;
                    """)
            // Whole names and names as typed so far are looked up directly, whatever their popularity.
            try db.create(index: "searchDoc_on_name", on: "searchDoc", columns: ["kind", "name"])
            // Tracks imported without audio wait for it with status 'pending'; the catalog is indexed below.
            try SearchIndexer.rebuild(db)
        }
        migrator.registerMigration("2026-11-29 drop redundant track index") { db in
            // The unique (albumId, trackNumber) index already serves look-ups by album: the single-column
            // one only cost an extra B-tree insert per track.
            try db.execute(sql: "DROP INDEX IF EXISTS track_on_albumId")
        }
        migrator.registerMigration("2026-12-01 plays reported by players") { db in
            // Streams used to be recorded as plays; players now report them (client-chosen ids make the
            // reports idempotent). What was recorded counts, as it did when it was recorded.
            try db.create(table: "play") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("user", onDelete: .cascade).notNull()
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.column("playedAt", .double).notNull()
                t.column("msPlayed", .integer).notNull()
                t.column("counts", .boolean).notNull()
            }
            try db.execute(
                sql:
                    "INSERT INTO play (id, userId, trackId, playedAt, msPlayed, counts) SELECT randomblob(16), userId, trackId, playedAt, 0, 1 FROM playEvent"
            )
            try db.drop(table: "playEvent")
            try db.create(index: "play_on_user_playedAt", on: "play", columns: ["userId", "playedAt"])
        }
        migrator.registerMigration("2026-12-01 app passwords") { db in
            try db.create(table: "appPassword") { t in
                t.primaryKey("id", .blob)
                t.belongsTo("user", onDelete: .cascade).notNull()
                t.column("name", .text).notNull()
                // Encrypted (AES-GCM) with a key derived from the master secret; never stored in clear.
                t.column("sealedSecret", .blob).notNull()
                // A keyed hash of the secret, to find the row from the secret alone.
                t.column("lookupKey", .blob).notNull().unique()
                t.column("createdAt", .double).notNull()
                t.column("lastUsedAt", .double)
            }
        }
        migrator.registerMigration("2026-12-01 listener library") { db in
            // A star or a rating names exactly one artist, album or track; real foreign keys (one column per
            // kind) make them go with the item, the way playlist entries go with their track.
            for (table, value) in [("star", "starredAt"), ("rating", "rating")] {
                try db.create(table: table) { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.belongsTo("user", onDelete: .cascade).notNull()
                    t.belongsTo("artist", onDelete: .cascade)
                    t.belongsTo("album", onDelete: .cascade)
                    t.belongsTo("track", onDelete: .cascade)
                    t.column(value, value == "rating" ? .integer : .double).notNull()
                    t.check(sql: "(artistId IS NOT NULL) + (albumId IS NOT NULL) + (trackId IS NOT NULL) = 1")
                }
                for kind in ["artistId", "albumId", "trackId"] {
                    try db.create(index: "\(table)_on_user_\(kind)", on: table, columns: ["userId", kind], options: .unique)
                }
            }
            try db.create(table: "playQueue") { t in
                t.primaryKey("userId", .blob).references("user", onDelete: .cascade)
                // JSON array of track ids: the queue is read and written whole.
                t.column("trackIds", .text).notNull()
                t.column("currentTrackId", .blob)
                t.column("positionMs", .integer).notNull()
                t.column("changedAt", .double).notNull()
                t.column("changedBy", .text).notNull()
            }
        }
        migrator.registerMigration("2026-12-01 album covers") { db in
            try db.alter(table: "album") { t in t.add(column: "cover", .text) }
        }
        migrator.registerMigration("2026-12-02 search in memory") { db in
            // Queries are answered by each process's in-memory index (MemorySearchIndex), built from the
            // documents; the term, variant and posting tables are not needed any more. Every write and removal
            // of a document gets the next revision, so an index catches up by reading what came after its own.
            try db.execute(
                sql: """
                    DROP TABLE searchPosting;
                    DROP TABLE searchVariant;
                    DROP TABLE searchTerm;
                    ALTER TABLE searchDoc ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                    UPDATE searchDoc SET revision = docId;
                    CREATE INDEX searchDoc_on_revision ON searchDoc (revision);
                    CREATE TABLE searchRevision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO searchRevision (id, value) SELECT 1, coalesce(max(docId), 0) FROM searchDoc;
                    CREATE TABLE searchRemoval (entityId BLOB PRIMARY KEY, revision INTEGER NOT NULL);
                    CREATE INDEX searchRemoval_on_revision ON searchRemoval (revision);
                    CREATE TRIGGER searchDoc_inserted AFTER INSERT ON searchDoc BEGIN
                        UPDATE searchRevision SET value = value + 1 WHERE id = 1;
                        UPDATE searchDoc SET revision = (SELECT value FROM searchRevision WHERE id = 1) WHERE docId = NEW.docId;
                        DELETE FROM searchRemoval WHERE entityId = NEW.entityId;
                    END;
                    CREATE TRIGGER searchDoc_updated
                    AFTER UPDATE OF kind, name, primaryTerms, secondaryTerms, popularity, popularityAt, postingRank, createdAt ON searchDoc BEGIN
                        UPDATE searchRevision SET value = value + 1 WHERE id = 1;
                        UPDATE searchDoc SET revision = (SELECT value FROM searchRevision WHERE id = 1) WHERE docId = NEW.docId;
                    END;
                    CREATE TRIGGER searchDoc_deleted AFTER DELETE ON searchDoc BEGIN
                        UPDATE searchRevision SET value = value + 1 WHERE id = 1;
                        INSERT OR REPLACE INTO searchRemoval (entityId, revision)
                        VALUES (OLD.entityId, (SELECT value FROM searchRevision WHERE id = 1));
                    END;
                    """)
        }
        return migrator
    }
}
