import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where Encore's log lines go: a buffer that a background thread writes out in batches, so that the
/// access log costs a request some formatting and an append, not a `write(2)` and a `localtime` each.
///
/// Lines at `warning` and above are written at once (with everything before them): a crash right after
/// one loses nothing that matters. Info lines wait at most ``interval``. If the output cannot keep up
/// and the buffer passes ``limit``, further lines are dropped and the drop is reported in the log.
public final class LogSink: Sendable {
    /// The process's one sink on standard error.
    public static let standardError = LogSink(descriptor: STDERR_FILENO)

    public let interval: Duration = .milliseconds(50)
    public let limit = 8 << 20
    private let descriptor: CInt
    private let state = Mutex(State())
    /// Serialises writes, so batches never interleave (the buffer's lock is not held while writing).
    private let writing = Mutex(())

    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
        var flusherStarted = false
    }

    init(descriptor: CInt) {
        self.descriptor = descriptor
    }

    /// Appends one formatted line; writes everything now when `urgent`.
    func append(_ line: String, urgent: Bool) {
        let startFlusher = state.withLock { state -> Bool in
            if state.buffer.count + line.utf8.count > limit {
                state.dropped += 1
            } else {
                state.buffer.append(contentsOf: line.utf8)
            }
            defer { state.flusherStarted = true }
            return !state.flusherStarted
        }
        if startFlusher {
            let thread = Thread { [self] in
                while true {
                    Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
                    flush()
                }
            }
            thread.name = "encore-log"
            thread.start()
        }
        if urgent { flush() }
    }

    /// Writes out whatever is buffered. Called by the background thread, for urgent lines, and at exit.
    public func flush() {
        writing.withLock { _ in
            var (bytes, dropped) = state.withLock { state -> ([UInt8], Int) in
                defer {
                    state.buffer.removeAll(keepingCapacity: true)
                    state.dropped = 0
                }
                return (state.buffer, state.dropped)
            }
            if dropped > 0 { bytes.append(contentsOf: "\(LogLine.timestamp()) warning encore: \(dropped) log lines dropped: output too slow\n".utf8) }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw in write(descriptor, raw.baseAddress! + offset, raw.count - offset) }
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    break  // nowhere to write: lose the batch rather than block the process
                }
            }
        }
    }
}

/// A `LogHandler` writing through a ``LogSink``, in swift-log's stream format:
/// `2026-12-02T01:55:00Z info encore: key=value [Module] message`, the time in UTC.
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: LogSink

    public init(label: String, sink: LogSink = .standardError, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = LogLine.timestamp()
        line += " \(event.level) \(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " [\(event.source)] \(event.message)\n"
        sink.append(line, urgent: event.level >= .warning)
    }
}

enum LogLine {
    /// The current second, formatted once per second and shared by every line in it.
    private static let cached = Mutex<(second: Int, text: String)>((-1, ""))

    /// `2026-12-02T01:55:00Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if let text = cached.withLock({ $0.second == second ? $0.text : nil }) { return text }
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text =
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
        cached.withLock { $0 = (second, text) }
        return text
    }
}
