import Foundation

/// Does the work of one kind of job. Must be idempotent: after a crash the same job runs again.
public protocol JobHandler: Sendable {
    func run(_ job: Job) async throws

    /// Called once when the job is abandoned (a permanent failure, the last attempt failed, or every
    /// worker that took it died), so the handler can record the outcome where users see it.
    func giveUp(_ job: Job, reason: String) async throws
}

extension JobHandler {
    public func giveUp(_ job: Job, reason: String) async throws {}
}

/// Thrown by a handler for failures that retrying cannot fix: the job goes straight to `dead`.
public struct PermanentJobFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs jobs from a ``JobQueue``: `concurrency` loops lease jobs, run their handler while a heartbeat
/// keeps the lease, and complete them or fail them with exponential backoff.
public struct JobRunner: Sendable {
    public struct Settings: Sendable {
        /// Jobs run at once.
        public var concurrency: Int
        /// How long a lease lasts without a heartbeat: a crashed worker's job is retried after this.
        public var leaseDuration: Duration
        /// Time between heartbeats; well below `leaseDuration`.
        public var heartbeatInterval: Duration
        /// How long an idle loop waits before asking the queue again.
        public var idlePoll: Duration
        /// First retry delay; doubles with every attempt up to `maxBackoff`.
        public var baseBackoff: Duration
        public var maxBackoff: Duration

        public init(
            concurrency: Int = ProcessInfo.processInfo.activeProcessorCount, leaseDuration: Duration = .seconds(60),
            heartbeatInterval: Duration = .seconds(10), idlePoll: Duration = .milliseconds(250), baseBackoff: Duration = .seconds(5),
            maxBackoff: Duration = .seconds(600)
        ) {
            self.concurrency = concurrency
            self.leaseDuration = leaseDuration
            self.heartbeatInterval = heartbeatInterval
            self.idlePoll = idlePoll
            self.baseBackoff = baseBackoff
            self.maxBackoff = maxBackoff
        }
    }

    let queue: any JobQueue
    let handlers: [String: any JobHandler]
    let settings: Settings
    /// Identifies this process's leases (host, pid, a random suffix) in the queue.
    public let workerName: String
    let log: @Sendable (String) -> Void

    public init(
        queue: any JobQueue, handlers: [String: any JobHandler], settings: Settings = Settings(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.queue = queue
        self.handlers = handlers
        self.settings = settings
        self.workerName = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        self.log = log
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<max(1, settings.concurrency) {
                group.addTask { await loop(owner: "\(workerName)/\(slot)") }
            }
        }
    }

    /// Runs every job that is due now, one after another, and returns how many ran. For tools and tests.
    @discardableResult
    public func drain() async throws -> Int {
        var count = 0
        while try await runNext(owner: "\(workerName)/drain") { count += 1 }
        return count
    }

    private func loop(owner: String) async {
        while !Task.isCancelled {
            do {
                if try await runNext(owner: owner) { continue }
            } catch {
                log("job queue unavailable: \(error)")
            }
            await queue.waitForWork(upTo: settings.idlePoll)
        }
    }

    /// Leases and runs one job; false when none was due.
    func runNext(owner: String) async throws -> Bool {
        guard let job = try await queue.lease(owner: owner, duration: settings.leaseDuration, now: Date()) else { return false }
        guard let handler = handlers[job.kind] else {
            _ = try await queue.fail(jobId: job.id, owner: owner, error: "no handler for job kind \(job.kind)", retryAt: nil, now: Date())
            return true
        }
        if job.attempts > job.maxAttempts {
            // Every earlier attempt ended with its worker gone silent: don't risk another crash.
            let reason = "the worker stopped during each of \(job.maxAttempts) attempts"
            try await handler.giveUp(job, reason: reason)
            _ = try await queue.fail(jobId: job.id, owner: owner, error: reason, retryAt: nil, now: Date())
            return true
        }
        let outcome = await runWithHeartbeat(job, handler: handler, owner: owner)
        // What the attempt came to is recorded even when shutdown cancels this task meanwhile (a store may
        // refuse work from a cancelled task): a job whose work landed must not be left running, to be redone.
        try await Task { try await record(outcome, of: job, handler: handler, owner: owner) }.value
        return true
    }

    private func record(_ outcome: Outcome, of job: Job, handler: any JobHandler, owner: String) async throws {
        let now = Date()
        switch outcome {
        case .success:
            _ = try await queue.complete(jobId: job.id, owner: owner, now: now)
        case .leaseLost:
            log("job \(job.id) lost its lease; another worker has it")
        case .failure(let error):
            let permanent = error is PermanentJobFailure
            let retryAt =
                permanent || job.attempts >= job.maxAttempts ? nil : now.addingTimeInterval(backoff(afterAttempt: job.attempts).timeInterval)
            log("job \(job.id) (\(job.kind)) attempt \(job.attempts) failed: \(error)\(retryAt == nil ? "; giving up" : "")")
            if retryAt == nil { try await handler.giveUp(job, reason: "\(error)") }
            _ = try await queue.fail(jobId: job.id, owner: owner, error: "\(error)", retryAt: retryAt, now: now)
        }
    }

    /// The delay before retrying after `attempt` failed attempts: base × 2^(attempt−1), capped.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let factor = Double(1 << min(max(attempt - 1, 0), 20))
        return min(settings.baseBackoff * factor, settings.maxBackoff)
    }

    private enum Outcome {
        case success
        case failure(any Error)
        case leaseLost
    }

    /// Runs the handler while a sibling task heartbeats; if the lease is lost the handler is cancelled.
    private func runWithHeartbeat(_ job: Job, handler: any JobHandler, owner: String) async -> Outcome {
        await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    try await handler.run(job)
                    return .success
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: settings.heartbeatInterval)
                    if Task.isCancelled { return nil }
                    let held = (try? await queue.heartbeat(jobId: job.id, owner: owner, duration: settings.leaseDuration, now: Date())) ?? true
                    if !held { return .leaseLost }
                }
                return nil
            }
            var result: Outcome = .leaseLost
            for await outcome in group {
                guard let outcome else { continue }
                result = outcome
                group.cancelAll()
                break
            }
            return result
        }
    }
}
