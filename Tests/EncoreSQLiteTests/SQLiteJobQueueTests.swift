import EncoreCore
import EncoreSQLite
import EncoreTestSupport
import Foundation
import Synchronization
import Testing

@Suite("SQLite job queue passes the JobQueue contract; JobRunner runs it", .timeLimit(.minutes(5)))
struct SQLiteJobQueueTests {
    static let checks = JobQueueContract.checks

    static func withStore<T>(_ body: (any JobQueue) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "/encore-jobs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteDataStore(path: directory + "/c.sqlite")
        defer { closeThenRemove(store, directory) }
        return try await body(store.jobs)
    }

    @Test("contract", arguments: checks.map(\.0))
    func contract(name: String) async throws {
        let check = try #require(Self.checks.first { $0.0 == name }?.1)
        try await Self.withStore { try await check($0) }
    }

    struct Transient: Error {}

    /// Fails the first `failures` runs, then succeeds; counts runs and give-ups.
    final class Flaky: JobHandler {
        let runs = Mutex(0)
        let giveUps = Mutex<[String]>([])
        let failures: Int
        let permanent: Bool
        init(failures: Int, permanent: Bool = false) {
            self.failures = failures
            self.permanent = permanent
        }
        func run(_ job: Job) async throws {
            let count = runs.withLock { runs in
                runs += 1
                return runs
            }
            if count <= failures {
                if permanent { throw PermanentJobFailure("cannot ever work") }
                throw Transient()
            }
        }
        func giveUp(_ job: Job, reason: String) async throws {
            giveUps.withLock { $0.append(reason) }
        }
    }

    @Test("the runner retries with backoff, completes, and dead-letters permanent failures")
    func runner() async throws {
        try await Self.withStore { store in
            let flaky = Flaky(failures: 2)
            let broken = Flaky(failures: 1, permanent: true)
            let runner = JobRunner(
                queue: store, handlers: ["flaky": flaky, "broken": broken],
                settings: .init(concurrency: 1, baseBackoff: .zero, maxBackoff: .zero))
            let flakyId = try await store.enqueue(JobRequest(kind: "flaky", payload: "{}"))
            let brokenId = try await store.enqueue(JobRequest(kind: "broken", payload: "{}"))
            let unknownId = try await store.enqueue(JobRequest(kind: "nobody-handles-this", payload: "{}"))
            #expect(try await runner.drain() == 5)
            #expect(try await store.job(id: flakyId)?.state == .done)
            #expect(try await store.job(id: flakyId)?.attempts == 3)
            #expect(flaky.runs.withLock { $0 } == 3)
            #expect(try await store.job(id: brokenId)?.state == .dead)
            #expect(broken.runs.withLock { $0 } == 1)
            #expect(broken.giveUps.withLock { $0 } == ["cannot ever work"])
            #expect(flaky.giveUps.withLock { $0 }.isEmpty)
            #expect(try await store.job(id: unknownId)?.state == .dead)
        }
    }

    @Test("a job whose workers all died is given up without running it again")
    func deadWorkers() async throws {
        try await Self.withStore { store in
            let handler = Flaky(failures: 0)
            let id = try await store.enqueue(JobRequest(kind: "k", payload: "{}", runAt: Date().addingTimeInterval(-60), maxAttempts: 1))
            // A worker leases it and dies (never reports back); its 1-second lease runs out.
            _ = try #require(try await store.lease(owner: "dead", duration: .seconds(1), now: Date().addingTimeInterval(-10)))
            let runner = JobRunner(queue: store, handlers: ["k": handler], settings: .init(concurrency: 1))
            #expect(try await runner.drain() == 1)
            #expect(handler.runs.withLock { $0 } == 0)
            #expect(handler.giveUps.withLock { $0.count } == 1)
            let job = try #require(try await store.job(id: id))
            #expect(job.state == .dead)
            #expect(job.lastError?.contains("worker stopped") == true)
        }
    }

    @Test("backoff doubles and is capped")
    func backoff() async throws {
        try await Self.withStore { store in
            let runner = JobRunner(queue: store, handlers: [:], settings: .init(baseBackoff: .seconds(5), maxBackoff: .seconds(60)))
            #expect(runner.backoff(afterAttempt: 1) == .seconds(5))
            #expect(runner.backoff(afterAttempt: 2) == .seconds(10))
            #expect(runner.backoff(afterAttempt: 4) == .seconds(40))
            #expect(runner.backoff(afterAttempt: 9) == .seconds(60))
        }
    }
}
