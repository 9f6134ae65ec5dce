import EncoreCore
import Foundation
import PostgresNIO

/// The job queue as a table of the catalog's database, so that a job is queued in the same transaction
/// as the change that calls for it.
///
/// Workers of any number of processes lease with `FOR UPDATE SKIP LOCKED`: each takes the first due job
/// no other transaction is taking at that moment, so they never wait for each other and never share a job.
/// Inserting a job notifies the queue's channel (a trigger), and idle workers wait for that notification
/// (``waitForWork(upTo:)``) rather than polling the table.
struct PostgresJobQueue: JobQueue {
    let executor: PostgresExecutor

    func enqueue(_ request: JobRequest) async throws -> Int64 {
        try await executor.write { connection in try await Self.insert(request, now: Date(), connection) }
    }

    static func insert(_ request: JobRequest, now: Date, _ connection: PostgresConnection) async throws -> Int64 {
        let runAt = (request.runAt ?? now).stored
        let row = try await connection.row(
            """
            INSERT INTO job (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
            VALUES (\(request.kind), \(request.payload), 'queued', 0, \(max(1, request.maxAttempts)), \(runAt), \(now.stored), \(now.stored))
            RETURNING id
            """)
        guard let id = try row?.value("id", as: Int64.self) else { throw PostgresRecords.corrupt("job insert returned no id") }
        return id
    }

    func lease(owner: String, duration: Duration, now: Date) async throws -> Job? {
        let expires = now.addingTimeInterval(duration.timeInterval).stored
        return try await executor.write { connection in
            // The due job first by runAt, then id, as in the SQLite queue; a job another worker is leasing at this
            // moment is skipped, not waited for.
            try await connection.row(
                """
                UPDATE job SET state = 'running', attempts = attempts + 1, lease_owner = \(owner), lease_expires_at = \(expires),
                    updated_at = \(now.stored)
                WHERE id = (
                    SELECT id FROM job
                    WHERE (state = 'queued' AND run_at <= \(now.stored)) OR (state = 'running' AND lease_expires_at <= \(now.stored))
                    ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: PostgresRecords.jobColumns)
                """
            ).map(PostgresRecords.job)
        }
    }

    func heartbeat(jobId: Int64, owner: String, duration: Duration, now: Date) async throws -> Bool {
        let expires = now.addingTimeInterval(duration.timeInterval).stored
        return try await executor.write { connection in
            try await !connection.rows(
                """
                UPDATE job SET lease_expires_at = \(expires), updated_at = \(now.stored)
                WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
                """
            ).isEmpty
        }
    }

    func complete(jobId: Int64, owner: String, now: Date) async throws -> Bool {
        try await executor.write { connection in
            try await !connection.rows(
                """
                UPDATE job SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now.stored)
                WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
                """
            ).isEmpty
        }
    }

    func fail(jobId: Int64, owner: String, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        let message = String(error.prefix(2000))
        return try await executor.write { connection in
            // A retry is kept only while attempts remain; otherwise the job is dead.
            try await !connection.rows(
                """
                UPDATE job SET
                    state = CASE WHEN \(retryAt?.stored)::float8 IS NOT NULL AND attempts < max_attempts THEN 'queued' ELSE 'dead' END,
                    run_at = CASE WHEN \(retryAt?.stored)::float8 IS NOT NULL AND attempts < max_attempts THEN \(retryAt?.stored)::float8
                             ELSE run_at END,
                    last_error = \(message), lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now.stored)
                WHERE id = \(jobId) AND state = 'running' AND lease_owner = \(owner) RETURNING id
                """
            ).isEmpty
        }
    }

    func job(id: Int64) async throws -> Job? {
        try await executor.read { connection in
            try await connection.row("SELECT \(unescaped: PostgresRecords.jobColumns) FROM job WHERE id = \(id)").map(PostgresRecords.job)
        }
    }

    func stats(now: Date) async throws -> JobQueueStats {
        let time = now.stored
        return try await executor.read { connection in
            // Done jobs are never read: the partial indexes hold the live ones only.
            guard
                let row = try await connection.row(
                    """
                    SELECT
                      count(*) FILTER (WHERE (state = 'queued' AND run_at <= \(time)) OR (state = 'running' AND lease_expires_at <= \(time))) AS due,
                      count(*) FILTER (WHERE state = 'queued' AND run_at > \(time)) AS scheduled,
                      count(*) FILTER (WHERE state = 'running' AND lease_expires_at > \(time)) AS running,
                      count(*) FILTER (WHERE state = 'dead') AS dead,
                      min(CASE WHEN state = 'queued' AND run_at <= \(time) THEN run_at
                               WHEN state = 'running' AND lease_expires_at <= \(time) THEN lease_expires_at END) AS oldest
                    FROM job WHERE state IN ('queued', 'running', 'dead')
                    """)
            else { return JobQueueStats(due: 0, scheduled: 0, running: 0, dead: 0, oldestDueAt: nil) }
            return JobQueueStats(
                due: try row.value("due"), scheduled: try row.value("scheduled"), running: try row.value("running"), dead: try row.value("dead"),
                oldestDueAt: try row.optionalDate("oldest"))
        }
    }

    func waitForWork(upTo timeout: Duration) async {
        // The notification wakes at once; the timeout still matters for retries coming due and expired leases,
        // which nothing announces.
        await executor.database.jobWakeups.wait(timeout: timeout)
    }
}
