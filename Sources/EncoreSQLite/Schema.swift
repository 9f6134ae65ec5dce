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
        return migrator
    }
}
