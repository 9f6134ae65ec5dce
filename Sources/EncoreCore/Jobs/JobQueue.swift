import Foundation

/// A unit of background work as the queue stores it.
public struct Job: Sendable, Equatable, Identifiable {
    public enum State: String, Sendable, Codable {
        /// Waiting for `runAt`.
        case queued
        /// Leased by a worker until `leaseExpiresAt`; an expired lease makes it available again.
        case running
        /// Finished successfully.
        case done
        /// Gave up: attempts exhausted or a permanent failure. `lastError` says why.
        case dead
    }

    public var id: Int64
    public var kind: String
    /// Handler-specific data, usually JSON.
    public var payload: String
    public var state: State
    /// How many times a worker has taken the job, the current run included.
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, kind: String, payload: String, state: State, attempts: Int, maxAttempts: Int, runAt: Date, leaseOwner: String?,
        leaseExpiresAt: Date?, lastError: String?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// How much work the queue holds, for monitoring (`/metrics`).
public struct JobQueueStats: Sendable, Equatable {
    /// Jobs due now and not taken: waiting for a worker (those backing off until later are not counted).
    public var due: Int
    /// Queued for later: retries backing off, or scheduled.
    public var scheduled: Int
    /// Leased by a worker.
    public var running: Int
    /// Given up on.
    public var dead: Int
    /// When the longest-waiting due job became due; nil when none waits.
    public var oldestDueAt: Date?

    public init(due: Int, scheduled: Int, running: Int, dead: Int, oldestDueAt: Date?) {
        self.due = due
        self.scheduled = scheduled
        self.running = running
        self.dead = dead
        self.oldestDueAt = oldestDueAt
    }
}

/// A job to be queued.
public struct JobRequest: Sendable, Equatable {
    public var kind: String
    public var payload: String
    public var runAt: Date?
    public var maxAttempts: Int

    public init(kind: String, payload: String, runAt: Date? = nil, maxAttempts: Int = 5) {
        self.kind = kind
        self.payload = payload
        self.runAt = runAt
        self.maxAttempts = maxAttempts
    }
}

/// A durable queue of jobs with leases: a worker leases a job for a while, extends the lease with
/// heartbeats while it works, and completes or fails it. A worker that dies stops heartbeating; once its
/// lease expires another worker takes the job. Handlers must therefore be idempotent.
///
/// Every implementation passes the contract suite in `EncoreSQLiteTests/JobQueueContract.swift`.
public protocol JobQueue: Sendable {
    @discardableResult
    func enqueue(_ request: JobRequest) async throws -> Int64

    /// Leases the job that is due first (queued with `runAt` ≤ `now`, or running with an expired lease) for
    /// `owner` until `now + duration`, counting an attempt; nil when nothing is due. A job whose workers
    /// died on every attempt comes back once more with `attempts > maxAttempts`, for the runner to give up.
    func lease(owner: String, duration: Duration, now: Date) async throws -> Job?

    /// Extends `owner`'s lease; false when `owner` no longer holds it.
    func heartbeat(jobId: Int64, owner: String, duration: Duration, now: Date) async throws -> Bool

    /// Marks the job done; false when `owner` no longer holds it.
    func complete(jobId: Int64, owner: String, now: Date) async throws -> Bool

    /// Records a failure: queued again at `retryAt`, or dead when `retryAt` is nil or attempts are used up.
    /// False when `owner` no longer holds the lease.
    func fail(jobId: Int64, owner: String, error: String, retryAt: Date?, now: Date) async throws -> Bool

    func job(id: Int64) async throws -> Job?

    /// Counts by state as of `now`. A running job whose lease has expired counts as due (it is available).
    func stats(now: Date) async throws -> JobQueueStats

    /// Waits, after a lease found nothing, until work may be due: at most `timeout`, less when the queue
    /// hears that a job was queued (PostgreSQL's `LISTEN`). The default just sleeps for `timeout`.
    func waitForWork(upTo timeout: Duration) async
}

extension JobQueue {
    public func waitForWork(upTo timeout: Duration) async {
        try? await Task.sleep(for: timeout)
    }
}

/// The job that runs the media pipeline for one upload of one track.
public struct TrackProcessingJob: Codable, Sendable, Equatable {
    public static let kind = "track.process"

    public var trackId: UUID
    public var sourceKey: BlobKey

    public init(trackId: UUID, sourceKey: BlobKey) {
        self.trackId = trackId
        self.sourceKey = sourceKey
    }

    /// The queue entry for this job.
    public var request: JobRequest {
        let payload = (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return JobRequest(kind: Self.kind, payload: payload)
    }

    public init(payload: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(payload.utf8))
    }
}

extension Job {
    /// A new, empty working directory for this attempt, `{base}/{name}-job{id}-attempt{n}`, made after the
    /// folders of earlier attempts (their workers died) are removed. The caller removes it when done.
    public func workDirectory(under base: String, name: String) throws -> String {
        for earlier in 0..<attempts { try? FileManager.default.removeItem(atPath: base + "/\(name)-job\(id)-attempt\(earlier)") }
        let directory = base + "/\(name)-job\(id)-attempt\(attempts)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}
