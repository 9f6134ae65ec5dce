import EncoreCore
import Foundation
import Testing

/// The behaviour every ``JobQueue`` must show; each implementation's suite runs these on a fresh queue.
public enum JobQueueContract {
    /// Every check by name: an implementation's suite runs each on a fresh, empty queue.
    public static let checks: [(String, @Sendable (any JobQueue) async throws -> Void)] = [
        ("leases", leasesAreExclusiveAndExpire),
        ("retries", failuresRetryThenDie),
        ("permanent", permanentFailuresDieAtOnce),
        ("dying workers", jobsOfDyingWorkersComeBackOverTheirAttempts),
        ("order", dueJobsComeOutInOrder),
        ("concurrency", concurrentLeasesNeverShareAJob),
        ("stats", statsCountWhatWaits),
    ]

    public static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    public static func statsCountWhatWaits(_ queue: any JobQueue) async throws {
        #expect(try await queue.stats(now: t0) == JobQueueStats(due: 0, scheduled: 0, running: 0, dead: 0, oldestDueAt: nil))
        let early = try await queue.enqueue(JobRequest(kind: "k", payload: "1", runAt: t0.addingTimeInterval(-30)))
        _ = try await queue.enqueue(JobRequest(kind: "k", payload: "2", runAt: t0.addingTimeInterval(-10)))
        _ = try await queue.enqueue(JobRequest(kind: "k", payload: "3", runAt: t0.addingTimeInterval(60)))
        #expect(try await queue.stats(now: t0) == JobQueueStats(due: 2, scheduled: 1, running: 0, dead: 0, oldestDueAt: t0.addingTimeInterval(-30)))
        let leased = try #require(try await queue.lease(owner: "a", duration: .seconds(10), now: t0))
        #expect(leased.id == early)
        #expect(try await queue.stats(now: t0) == JobQueueStats(due: 1, scheduled: 1, running: 1, dead: 0, oldestDueAt: t0.addingTimeInterval(-10)))
        // A lease that ran out makes its job available again: due, since the lease's end.
        #expect(try await queue.stats(now: t0.addingTimeInterval(20)).due == 2)
        #expect(try await queue.stats(now: t0.addingTimeInterval(20)).running == 0)
        #expect(try await queue.fail(jobId: early, owner: "a", error: "no", retryAt: nil, now: t0))
        #expect(try await queue.stats(now: t0) == JobQueueStats(due: 1, scheduled: 1, running: 0, dead: 1, oldestDueAt: t0.addingTimeInterval(-10)))
    }

    public static func leasesAreExclusiveAndExpire(_ queue: any JobQueue) async throws {
        let id = try await queue.enqueue(JobRequest(kind: "k", payload: "{}", runAt: t0))
        #expect(try await queue.lease(owner: "early", duration: .seconds(10), now: t0.addingTimeInterval(-1)) == nil)  // not due yet
        let first = try #require(try await queue.lease(owner: "a", duration: .seconds(10), now: t0))
        #expect(first.id == id)
        #expect(first.attempts == 1)
        #expect(first.state == .running)
        #expect(try await queue.lease(owner: "b", duration: .seconds(10), now: t0.addingTimeInterval(5)) == nil)  // held
        #expect(try await queue.heartbeat(jobId: id, owner: "a", duration: .seconds(10), now: t0.addingTimeInterval(8)))
        #expect(try await queue.lease(owner: "b", duration: .seconds(10), now: t0.addingTimeInterval(15)) == nil)  // extended to 18
        // "a" went quiet: after the lease expires, "b" takes over and "a" can no longer report.
        let second = try #require(try await queue.lease(owner: "b", duration: .seconds(10), now: t0.addingTimeInterval(19)))
        #expect(second.attempts == 2)
        #expect(try await queue.heartbeat(jobId: id, owner: "a", duration: .seconds(10), now: t0.addingTimeInterval(20)) == false)
        #expect(try await queue.complete(jobId: id, owner: "a", now: t0.addingTimeInterval(20)) == false)
        #expect(try await queue.complete(jobId: id, owner: "b", now: t0.addingTimeInterval(20)))
        #expect(try await queue.job(id: id)?.state == .done)
        #expect(try await queue.lease(owner: "c", duration: .seconds(10), now: t0.addingTimeInterval(100)) == nil)
    }

    public static func failuresRetryThenDie(_ queue: any JobQueue) async throws {
        let id = try await queue.enqueue(JobRequest(kind: "k", payload: "p", runAt: t0, maxAttempts: 2))
        _ = try #require(try await queue.lease(owner: "a", duration: .seconds(10), now: t0))
        #expect(try await queue.fail(jobId: id, owner: "a", error: "boom", retryAt: t0.addingTimeInterval(30), now: t0))
        let queued = try #require(try await queue.job(id: id))
        #expect(queued.state == .queued)
        #expect(queued.lastError == "boom")
        #expect(try await queue.lease(owner: "a", duration: .seconds(10), now: t0.addingTimeInterval(29)) == nil)  // backing off
        _ = try #require(try await queue.lease(owner: "a", duration: .seconds(10), now: t0.addingTimeInterval(30)))
        // The last attempt: a retry time is ignored, the job is dead-lettered with its error.
        #expect(try await queue.fail(jobId: id, owner: "a", error: "boom again", retryAt: t0.addingTimeInterval(60), now: t0.addingTimeInterval(31)))
        let dead = try #require(try await queue.job(id: id))
        #expect(dead.state == .dead)
        #expect(dead.lastError == "boom again")
        #expect(dead.attempts == 2)
        #expect(try await queue.lease(owner: "a", duration: .seconds(10), now: t0.addingTimeInterval(1000)) == nil)
    }

    public static func permanentFailuresDieAtOnce(_ queue: any JobQueue) async throws {
        let id = try await queue.enqueue(JobRequest(kind: "k", payload: "p", runAt: t0, maxAttempts: 5))
        _ = try #require(try await queue.lease(owner: "a", duration: .seconds(10), now: t0))
        #expect(try await queue.fail(jobId: id, owner: "a", error: "bad input", retryAt: nil, now: t0))
        #expect(try await queue.job(id: id)?.state == .dead)
    }

    /// Workers that die on every attempt: the job comes back once more, over its attempts, for the runner to give up.
    public static func jobsOfDyingWorkersComeBackOverTheirAttempts(_ queue: any JobQueue) async throws {
        let id = try await queue.enqueue(JobRequest(kind: "k", payload: "p", runAt: t0, maxAttempts: 2))
        _ = try #require(try await queue.lease(owner: "a", duration: .seconds(1), now: t0))
        _ = try #require(try await queue.lease(owner: "b", duration: .seconds(1), now: t0.addingTimeInterval(2)))
        let last = try #require(try await queue.lease(owner: "c", duration: .seconds(1), now: t0.addingTimeInterval(4)))
        #expect(last.id == id)
        #expect(last.attempts == 3)
        #expect(last.attempts > last.maxAttempts)
    }

    public static func dueJobsComeOutInOrder(_ queue: any JobQueue) async throws {
        let late = try await queue.enqueue(JobRequest(kind: "k", payload: "late", runAt: t0.addingTimeInterval(5)))
        let early = try await queue.enqueue(JobRequest(kind: "k", payload: "early", runAt: t0))
        #expect(try await queue.lease(owner: "a", duration: .seconds(60), now: t0.addingTimeInterval(10))?.id == early)
        #expect(try await queue.lease(owner: "a", duration: .seconds(60), now: t0.addingTimeInterval(10))?.id == late)
    }

    /// Four workers in one process racing for twenty jobs: each job goes to exactly one. (A pool that
    /// serialises its writes makes this a weak race; the two-process race is in `WorkerProcessTests`.)
    public static func concurrentLeasesNeverShareAJob(_ queue: any JobQueue) async throws {
        for index in 0..<20 { try await queue.enqueue(JobRequest(kind: "k", payload: "\(index)", runAt: t0)) }
        let leased = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var mine: [Int64] = []
                    // Bounded: a queue that handed out a leased job again would loop here for ever instead of failing.
                    for _ in 0..<21 {
                        guard let job = try await queue.lease(owner: "w\(worker)", duration: .seconds(60), now: t0) else { break }
                        mine.append(job.id)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(leased.count == 20)
        #expect(Set(leased).count == 20)
    }
}
