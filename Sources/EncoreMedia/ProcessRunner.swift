import EncoreCore
import Foundation
import Synchronization

/// What a finished subprocess left behind.
public struct ProcessOutput: Sendable {
    public var exitCode: Int32
    public var stdout: Data
    public var stderr: Data
    /// True when the process was killed for running past its deadline.
    public var timedOut: Bool
}

/// Runs command-line tools with a deadline and bounded output, so a hung or chatty ffmpeg can neither
/// block a request forever nor fill memory.
public enum ProcessRunner {
    /// Runs `executable` with `arguments`; stdin is empty.
    /// - Parameters:
    ///   - timeout: the process is sent SIGKILL after this long.
    ///   - outputLimit: bytes kept of each of stdout and stderr; the rest is read and dropped.
    public static func run(
        _ executable: String, _ arguments: [String], timeout: Duration, outputLimit: Int = 1 << 20
    ) async throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let outCollector = BoundedCollector(limit: outputLimit)
        let errCollector = BoundedCollector(limit: outputLimit)
        let timedOut = Flag()

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutput, any Error>) in
                let readers = DispatchGroup()
                for (pipe, collector) in [(stdout, outCollector), (stderr, errCollector)] {
                    readers.enter()
                    DispatchQueue.global().async {
                        let handle = pipe.fileHandleForReading
                        while true {
                            let chunk = handle.availableData
                            if chunk.isEmpty { break }
                            collector.append(chunk)
                        }
                        readers.leave()
                    }
                }
                process.terminationHandler = { finished in
                    readers.notify(queue: .global()) {
                        continuation.resume(
                            returning: ProcessOutput(
                                exitCode: finished.terminationStatus, stdout: outCollector.data, stderr: errCollector.data,
                                timedOut: timedOut.isSet))
                    }
                }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    // Nothing will write to the pipes: close them so the readers finish.
                    try? stdout.fileHandleForWriting.close()
                    try? stderr.fileHandleForWriting.close()
                    continuation.resume(
                        throwing: EncoreError(.toolUnavailable, "Cannot run \(executable): \(error.localizedDescription)"))
                    return
                }
                // The child has its own copies; ours must close or the readers never see end-of-file.
                try? stdout.fileHandleForWriting.close()
                try? stderr.fileHandleForWriting.close()
                let pid = process.processIdentifier
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout.timeInterval) {
                    if process.isRunning {
                        timedOut.set()
                        kill(pid, SIGKILL)
                    }
                }
            }
        } onCancel: {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// The absolute path of `name` found on `PATH`, or nil.
    public static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Keeps the first `limit` bytes appended to it; shared between a reader thread and the completion.
private final class BoundedCollector: Sendable {
    private let buffer = Mutex(Data())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func append(_ chunk: Data) {
        buffer.withLock { buffer in
            let room = limit - buffer.count
            if room > 0 { buffer.append(chunk.prefix(room)) }
        }
    }

    var data: Data { buffer.withLock { $0 } }
}

/// A one-way boolean shared across threads.
private final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
