import EncoreCore
import Foundation
import PostgresNIO

/// Named, append-only migrations, in the spirit of the SQLite store's (the same tables and columns, in
/// PostgreSQL's types and snake_case). Never edit a migration that has shipped: add a new one.
///
/// Dates are seconds since 1970 in `double precision`, as on SQLite, so that they round-trip exactly;
/// ids are `uuid`; JSON values (a track's media, an album's cover) are text, decoded by the store.
enum PostgresSchema {
    static let migrations: [(name: String, sql: String)] = [
        (
            "2026-12-02 catalog",
            """
            CREATE TABLE app_user (
                id uuid PRIMARY KEY,
                email text NOT NULL CONSTRAINT app_user_email_key UNIQUE,
                password_hash text NOT NULL,
                display_name text NOT NULL,
                role text NOT NULL,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL);
            CREATE TABLE artist (
                id uuid PRIMARY KEY,
                owner_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                name text NOT NULL,
                -- What alphabetical listings sort by (String.libraryOrderKey): case and accents folded.
                sort_name text NOT NULL,
                bio text NOT NULL,
                country text,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL);
            CREATE INDEX artist_on_owner ON artist (owner_id);
            CREATE INDEX artist_on_sort_name ON artist (sort_name COLLATE "C", name COLLATE "C", id);
            CREATE TABLE album (
                id uuid PRIMARY KEY,
                artist_id uuid NOT NULL REFERENCES artist ON DELETE CASCADE,
                title text NOT NULL,
                sort_title text NOT NULL,
                genre text,
                release_date text,
                cover text,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL);
            CREATE INDEX album_on_artist ON album (artist_id);
            CREATE TABLE track (
                id uuid PRIMARY KEY,
                album_id uuid NOT NULL REFERENCES album ON DELETE CASCADE,
                artist_id uuid NOT NULL REFERENCES artist ON DELETE CASCADE,
                title text NOT NULL,
                track_number bigint NOT NULL,
                duration_ms bigint NOT NULL,
                status text NOT NULL,
                audio text,
                media text,
                source_key text CONSTRAINT track_source_key_key UNIQUE,
                failure_code text,
                failure_message text,
                linked_track_id uuid,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL,
                CONSTRAINT track_album_number_key UNIQUE (album_id, track_number));
            CREATE INDEX track_on_artist ON track (artist_id);
            CREATE INDEX track_ready ON track (id) WHERE status = 'ready';
            CREATE TABLE fingerprint (
                track_id uuid PRIMARY KEY REFERENCES track ON DELETE CASCADE,
                artist_id uuid NOT NULL,
                duration_seconds double precision NOT NULL,
                raw bytea NOT NULL);
            CREATE INDEX fingerprint_on_duration ON fingerprint (duration_seconds);
            CREATE TABLE playlist (
                id uuid PRIMARY KEY,
                owner_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                title text NOT NULL,
                is_public boolean NOT NULL,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL);
            CREATE INDEX playlist_on_owner ON playlist (owner_id, created_at, id);
            CREATE TABLE playlist_entry (
                playlist_id uuid NOT NULL REFERENCES playlist ON DELETE CASCADE,
                ordinal bigint NOT NULL,
                track_id uuid NOT NULL REFERENCES track ON DELETE CASCADE,
                added_at double precision NOT NULL,
                PRIMARY KEY (playlist_id, ordinal));
            CREATE INDEX playlist_entry_on_track ON playlist_entry (track_id);
            CREATE TABLE play (
                id uuid PRIMARY KEY,
                user_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                track_id uuid NOT NULL REFERENCES track ON DELETE CASCADE,
                played_at double precision NOT NULL,
                ms_played bigint NOT NULL,
                counts boolean NOT NULL);
            CREATE INDEX play_on_user_played_at ON play (user_id, played_at);
            CREATE INDEX play_on_track ON play (track_id) WHERE counts;
            CREATE TABLE app_password (
                id uuid PRIMARY KEY,
                user_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                name text NOT NULL,
                -- Encrypted (AES-GCM) with a key derived from the master secret; never stored in clear.
                sealed_secret bytea NOT NULL,
                -- A keyed hash of the secret, to find the row from the secret alone.
                lookup_key bytea NOT NULL UNIQUE,
                created_at double precision NOT NULL,
                last_used_at double precision);
            CREATE INDEX app_password_on_user ON app_password (user_id);
            """
        ),
        (
            "2026-12-02 listener library",
            """
            CREATE TABLE star (
                id bigserial PRIMARY KEY,
                user_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                artist_id uuid REFERENCES artist ON DELETE CASCADE,
                album_id uuid REFERENCES album ON DELETE CASCADE,
                track_id uuid REFERENCES track ON DELETE CASCADE,
                starred_at double precision NOT NULL,
                CHECK (num_nonnulls(artist_id, album_id, track_id) = 1));
            CREATE TABLE rating (
                id bigserial PRIMARY KEY,
                user_id uuid NOT NULL REFERENCES app_user ON DELETE CASCADE,
                artist_id uuid REFERENCES artist ON DELETE CASCADE,
                album_id uuid REFERENCES album ON DELETE CASCADE,
                track_id uuid REFERENCES track ON DELETE CASCADE,
                rating bigint NOT NULL,
                CHECK (num_nonnulls(artist_id, album_id, track_id) = 1));
            CREATE UNIQUE INDEX star_on_user_artist ON star (user_id, artist_id);
            CREATE UNIQUE INDEX star_on_user_album ON star (user_id, album_id);
            CREATE UNIQUE INDEX star_on_user_track ON star (user_id, track_id);
            CREATE INDEX star_on_artist ON star (artist_id);
            CREATE INDEX star_on_album ON star (album_id);
            CREATE INDEX star_on_track ON star (track_id);
            CREATE UNIQUE INDEX rating_on_user_artist ON rating (user_id, artist_id);
            CREATE UNIQUE INDEX rating_on_user_album ON rating (user_id, album_id);
            CREATE UNIQUE INDEX rating_on_user_track ON rating (user_id, track_id);
            CREATE INDEX rating_on_artist ON rating (artist_id);
            CREATE INDEX rating_on_album ON rating (album_id);
            CREATE INDEX rating_on_track ON rating (track_id);
            CREATE TABLE play_queue (
                user_id uuid PRIMARY KEY REFERENCES app_user ON DELETE CASCADE,
                -- JSON array of track ids: the queue is read and written whole.
                track_ids text NOT NULL,
                current_track_id uuid,
                position_ms bigint NOT NULL,
                changed_at double precision NOT NULL,
                changed_by text NOT NULL);
            """
        ),
        (
            "2026-12-02 jobs",
            """
            CREATE TABLE job (
                id bigserial PRIMARY KEY,
                kind text NOT NULL,
                payload text NOT NULL,
                state text NOT NULL,
                attempts bigint NOT NULL,
                max_attempts bigint NOT NULL,
                run_at double precision NOT NULL,
                lease_owner text,
                lease_expires_at double precision,
                last_error text,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL);
            -- Only live jobs are ever looked for: done ones stay out of the index.
            CREATE INDEX job_queued ON job (run_at, id) WHERE state = 'queued';
            CREATE INDEX job_running ON job (lease_expires_at, id) WHERE state = 'running';
            CREATE INDEX job_dead ON job (id) WHERE state = 'dead';
            """
        ),
        (
            "2026-12-02 search",
            """
            CREATE TABLE search_doc (
                doc_id bigserial PRIMARY KEY,
                kind smallint NOT NULL,
                entity_id uuid NOT NULL UNIQUE,
                name text NOT NULL,
                primary_terms text NOT NULL,
                secondary_terms text NOT NULL,
                popularity double precision NOT NULL,
                popularity_at double precision NOT NULL,
                posting_rank bigint NOT NULL,
                created_at double precision NOT NULL);
            -- Whole names and names as typed so far are looked up directly, whatever their popularity.
            CREATE INDEX search_doc_on_name ON search_doc (kind, name COLLATE "C");
            CREATE TABLE search_term (
                term_id bigserial PRIMARY KEY,
                term text NOT NULL UNIQUE,
                doc_count bigint NOT NULL);
            CREATE INDEX search_term_on_term ON search_term (term COLLATE "C");
            CREATE TABLE search_posting (
                term_id bigint NOT NULL,
                kind smallint NOT NULL,
                rank bigint NOT NULL,
                doc_id bigint NOT NULL,
                PRIMARY KEY (term_id, kind, rank, doc_id));
            CREATE TABLE search_variant (
                variant text NOT NULL,
                term_id bigint NOT NULL,
                PRIMARY KEY (variant, term_id));
            """
        ),
        (
            "2026-12-02 notifications",
            // Every committed change to a cached entity is announced with its id, so that every instance's
            // read cache forgets it (PostgreSQL delivers notifications at commit, and only if it commits);
            // every queued job wakes the idle workers. Channel names carry the schema, so that deployments
            // (or tests) sharing a database in different schemas do not hear each other.
            """
            CREATE FUNCTION encore_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- A bulk import announces itself once ('*') instead (encore.bulk is set for its transaction).
                IF current_setting('encore.bulk', true) = 'on' THEN RETURN NULL; END IF;
                PERFORM pg_notify('encore_changes_' || current_schema(), (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
                RETURN NULL;
            END $$;
            CREATE TRIGGER app_user_changes AFTER INSERT OR UPDATE OR DELETE ON app_user FOR EACH ROW EXECUTE FUNCTION encore_announce_change();
            CREATE TRIGGER artist_changes AFTER INSERT OR UPDATE OR DELETE ON artist FOR EACH ROW EXECUTE FUNCTION encore_announce_change();
            CREATE TRIGGER album_changes AFTER INSERT OR UPDATE OR DELETE ON album FOR EACH ROW EXECUTE FUNCTION encore_announce_change();
            CREATE TRIGGER track_changes AFTER INSERT OR UPDATE OR DELETE ON track FOR EACH ROW EXECUTE FUNCTION encore_announce_change();
            CREATE FUNCTION encore_announce_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('encore_jobs_' || current_schema(), '');
                RETURN NULL;
            END $$;
            CREATE TRIGGER job_queued AFTER INSERT ON job FOR EACH STATEMENT EXECUTE FUNCTION encore_announce_job();
            """
        ),
        (
            "2026-12-02 search in memory",
            // Queries are answered by each instance's in-memory index (MemorySearchIndex), built from the
            // documents; the term, variant and posting tables are not needed any more. Every write and removal
            // of a document takes the next revision, and the transactions that write documents take turns (a
            // transaction-scoped advisory lock, per schema, held to commit), so revisions become visible in
            // order: an instance catches up by reading what came after the last revision it applied.
            """
            DROP TABLE search_posting;
            DROP TABLE search_variant;
            DROP TABLE search_term;
            CREATE SEQUENCE search_revision;
            ALTER TABLE search_doc ADD COLUMN revision bigint NOT NULL DEFAULT 0;
            UPDATE search_doc SET revision = doc_id;
            SELECT setval('search_revision', coalesce((SELECT max(doc_id) FROM search_doc), 0) + 1, false);
            CREATE INDEX search_doc_on_revision ON search_doc (revision);
            CREATE TABLE search_removal (entity_id uuid PRIMARY KEY, revision bigint NOT NULL);
            CREATE INDEX search_removal_on_revision ON search_removal (revision);
            CREATE FUNCTION encore_search_doc_written() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(8151978, hashtext(current_schema()));
                NEW.revision := nextval('search_revision');
                IF TG_OP = 'INSERT' THEN DELETE FROM search_removal WHERE entity_id = NEW.entity_id; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER search_doc_written BEFORE INSERT OR UPDATE ON search_doc
            FOR EACH ROW EXECUTE FUNCTION encore_search_doc_written();
            CREATE FUNCTION encore_search_doc_removed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(8151978, hashtext(current_schema()));
                INSERT INTO search_removal (entity_id, revision) VALUES (OLD.entity_id, nextval('search_revision'))
                ON CONFLICT (entity_id) DO UPDATE SET revision = EXCLUDED.revision;
                RETURN NULL;
            END $$;
            CREATE TRIGGER search_doc_removed AFTER DELETE ON search_doc
            FOR EACH ROW EXECUTE FUNCTION encore_search_doc_removed();
            """
        ),
    ]

    /// The notification channels of a deployment whose tables are in `schema` (`public` by default).
    static func channels(schema: String?) -> (changes: String, jobs: String, writes: String) {
        let name = schema ?? "public"
        return ("encore_changes_\(name)", "encore_jobs_\(name)", "encore_writes_\(name)")
    }

    /// Applies the migrations not applied yet, in order, each in its own transaction. An advisory lock
    /// makes concurrent starts (several instances at once) take turns; the later ones find nothing to do.
    static func migrate(_ database: PostgresDatabase) async throws -> [String] {
        try await database.withConnection(database.primary) { connection in
            // `IF NOT EXISTS` is not safe against a concurrent creator: the bookkeeping is made under the lock too.
            try await connection.run("BEGIN")
            do {
                try await connection.run("SELECT pg_advisory_xact_lock(8151977)")
                if let schema = database.location.schema { try await connection.run("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)") }
                try await connection.run(
                    "CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at double precision NOT NULL)")
                try await connection.run("COMMIT")
            } catch {
                try? await connection.run("ROLLBACK")
                throw error
            }
            var applied: [String] = []
            for migration in migrations {
                try await connection.run("BEGIN")
                do {
                    // Taken per transaction, released at its end: one migrator at a time per database.
                    try await connection.run("SELECT pg_advisory_xact_lock(8151977)")
                    let done = try await connection.rows("SELECT 1 FROM schema_migration WHERE name = \(migration.name)")
                    if done.isEmpty {
                        for statement in statements(of: migration.sql) { try await connection.run(PostgresQuery(unsafeSQL: statement)) }
                        try await connection.run(
                            "INSERT INTO schema_migration (name, applied_at) VALUES (\(migration.name), \(Date().timeIntervalSince1970))")
                        applied.append(migration.name)
                    }
                    try await connection.run("COMMIT")
                } catch {
                    try? await connection.run("ROLLBACK")
                    throw error
                }
            }
            return applied
        }
    }
}

extension PostgresSchema {
    /// The statements of a migration, split at semicolons outside `$$` bodies and `--` comments (the extended protocol
    /// takes one statement at a time).
    static func statements(of script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        var inComment = false
        var previous: Character = " "
        for character in script {
            if inComment {
                // A `--` comment runs to the end of its line; a semicolon in it ends nothing.
                if character == "\n" { inComment = false }
                current.append(character)
                previous = character
                continue
            }
            if character == "-" && previous == "-" && !inBody { inComment = true }
            if character == "$" && previous == "$" { inBody.toggle() }
            if character == ";" && !inBody {
                statements.append(current)
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
