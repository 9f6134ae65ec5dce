import EncoreCore
import Foundation
import GRDB

struct JobRecord: Codable, EpochDatedRecord {
    static let databaseTableName = "job"

    var id: Int64?
    var kind: String
    var payload: String
    var state: String
    var attempts: Int
    var maxAttempts: Int
    var runAt: Date
    var leaseOwner: String?
    var leaseExpiresAt: Date?
    var lastError: String?
    var createdAt: Date
    var updatedAt: Date

    func domain() throws -> Job {
        guard let id, let state = Job.State(rawValue: state) else { throw SQLiteExecutor.corrupt("job \(String(describing: id))") }
        return Job(
            id: id, kind: kind, payload: payload, state: state, attempts: attempts, maxAttempts: maxAttempts, runAt: runAt,
            leaseOwner: leaseOwner, leaseExpiresAt: leaseExpiresAt, lastError: lastError, createdAt: createdAt, updatedAt: updatedAt)
    }

    static func new(_ request: JobRequest, now: Date) -> JobRecord {
        JobRecord(
            id: nil, kind: request.kind, payload: request.payload, state: Job.State.queued.rawValue, attempts: 0,
            maxAttempts: max(1, request.maxAttempts), runAt: request.runAt ?? now, leaseOwner: nil, leaseExpiresAt: nil, lastError: nil,
            createdAt: now, updatedAt: now)
    }

    static func insert(_ request: JobRequest, now: Date, into db: Database) throws -> Int64 {
        try JobRecord.new(request, now: now).insert(db)
        return db.lastInsertedRowID
    }
}

/// The job queue as a table in the catalog's file, so a job is queued in the same transaction as the
/// change that calls for it.
struct SQLiteJobQueue: JobQueue {
    let executor: SQLiteExecutor

    func enqueue(_ request: JobRequest) async throws -> Int64 {
        try await executor.write { db in try JobRecord.insert(request, now: Date(), into: db) }
    }

    func lease(owner: String, duration: Duration, now: Date) async throws -> Job? {
        try await executor.write { db in
            let due = try JobRecord.fetchOne(
                db,
                sql: """
                    SELECT * FROM job
                    WHERE (state = 'queued' AND runAt <= ?) OR (state = 'running' AND leaseExpiresAt <= ?)
                    ORDER BY runAt, id LIMIT 1
                    """,
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970])
            guard var job = due else { return nil }
            job.state = Job.State.running.rawValue
            job.attempts += 1
            job.leaseOwner = owner
            job.leaseExpiresAt = now.addingTimeInterval(duration.timeInterval)
            job.updatedAt = now
            try job.update(db)
            return try job.domain()
        }
    }

    func heartbeat(jobId: Int64, owner: String, duration: Duration, now: Date) async throws -> Bool {
        try await executor.write { db in
            try db.execute(
                sql: "UPDATE job SET leaseExpiresAt = ?, updatedAt = ? WHERE id = ? AND state = 'running' AND leaseOwner = ?",
                arguments: [now.addingTimeInterval(duration.timeInterval).timeIntervalSince1970, now.timeIntervalSince1970, jobId, owner])
            return db.changesCount == 1
        }
    }

    func complete(jobId: Int64, owner: String, now: Date) async throws -> Bool {
        try await executor.write { db in
            try db.execute(
                sql: """
                    UPDATE job SET state = 'done', leaseOwner = NULL, leaseExpiresAt = NULL, updatedAt = ?
                    WHERE id = ? AND state = 'running' AND leaseOwner = ?
                    """,
                arguments: [now.timeIntervalSince1970, jobId, owner])
            return db.changesCount == 1
        }
    }

    func fail(jobId: Int64, owner: String, error: String, retryAt: Date?, now: Date) async throws -> Bool {
        try await executor.write { db in
            guard var job = try JobRecord.fetchOne(db, key: jobId), job.state == Job.State.running.rawValue, job.leaseOwner == owner else {
                return false
            }
            let retry = retryAt.flatMap { job.attempts < job.maxAttempts ? $0 : nil }
            job.state = retry == nil ? Job.State.dead.rawValue : Job.State.queued.rawValue
            job.runAt = retry ?? job.runAt
            job.lastError = String(error.prefix(2000))
            job.leaseOwner = nil
            job.leaseExpiresAt = nil
            job.updatedAt = now
            try job.update(db)
            return true
        }
    }

    func job(id: Int64) async throws -> Job? {
        try await executor.read { db in try JobRecord.fetchOne(db, key: id)?.domain() }
    }

    func stats(now: Date) async throws -> JobQueueStats {
        // Done jobs are never read: the index on (state, runAt) keeps this to the live ones.
        try await executor.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT
                      count(*) FILTER (WHERE (state = 'queued' AND runAt <= :now) OR (state = 'running' AND leaseExpiresAt <= :now)) AS due,
                      count(*) FILTER (WHERE state = 'queued' AND runAt > :now) AS scheduled,
                      count(*) FILTER (WHERE state = 'running' AND leaseExpiresAt > :now) AS running,
                      count(*) FILTER (WHERE state = 'dead') AS dead,
                      min(CASE WHEN state = 'queued' AND runAt <= :now THEN runAt
                               WHEN state = 'running' AND leaseExpiresAt <= :now THEN leaseExpiresAt END) AS oldest
                    FROM job WHERE state IN ('queued', 'running', 'dead')
                    """,
                arguments: ["now": now.timeIntervalSince1970])
            guard let row else { return JobQueueStats(due: 0, scheduled: 0, running: 0, dead: 0, oldestDueAt: nil) }
            let oldest: Double? = row["oldest"]
            let (due, scheduled, running, dead): (Int, Int, Int, Int) = (row["due"], row["scheduled"], row["running"], row["dead"])
            return JobQueueStats(
                due: due, scheduled: scheduled, running: running, dead: dead, oldestDueAt: oldest.map { Date(timeIntervalSince1970: $0) })
        }
    }
}
