import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The access log: one line per answered request, on standard error, at the `info` level.
///
/// Lines are appended to a buffer in memory and written in batches (when 32 KiB have gathered, and at
/// least every 200 ms by ``AccessLogFlusher``), so that logging a request is a few appends under a
/// lock: a line formatted and written through `swift-log`'s stream handler per request cost 20–40 %
/// of a segment's CPU. A crash loses at most the last 200 ms of access lines; errors and
/// warnings still go through the logger at once.
///
/// A line reads `2026-12-02T18:15:55Z info access GET /media/…/tracks/t/a.m4s 200 0.084ms id=…`; media
/// tokens never reach it (``RequestLog/redacted(_:)``).
public final class AccessLog: Sendable {
    /// Logs nothing (a server below `info`).
    public static let disabled = AccessLog(isEnabled: false, fileDescriptor: -1)

    private struct State {
        var pending: [UInt8] = []
        /// The second `timestamp` spells, so that formatting the time costs once a second.
        var second = -1
        var timestamp: [UInt8] = []
    }

    /// False below `info`: callers skip the work of describing a request.
    public let isEnabled: Bool
    private let fileDescriptor: CInt
    private let state = Mutex(State())
    private static let batchBytes = 32 * 1024

    /// - Parameters:
    ///   - level: the server's log level; the access log writes only at `info` and more verbose levels.
    ///   - fileDescriptor: where lines go (standard error unless a test reads them).
    public convenience init(level: Logger.Level, fileDescriptor: CInt = STDERR_FILENO) {
        self.init(isEnabled: level <= .info, fileDescriptor: fileDescriptor)
    }

    private init(isEnabled: Bool, fileDescriptor: CInt) {
        self.isEnabled = isEnabled
        self.fileDescriptor = fileDescriptor
    }

    /// Records one answered request. `path` must already be redacted; `note` says how it was answered
    /// when that is worth knowing (`sendfile`).
    func record(method: String, path: String, status: Int, elapsedNanoseconds: Int64?, requestID: String?, note: StaticString? = nil) {
        guard isEnabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let batch: [UInt8]? = state.withLock { state in
            if state.second != now.tv_sec {
                state.second = now.tv_sec
                state.timestamp = Self.timestamp(now.tv_sec)
            }
            state.pending.append(contentsOf: state.timestamp)
            state.pending.append(contentsOf: " info access ".utf8)
            state.pending.append(contentsOf: method.utf8)
            state.pending.append(0x20)
            state.pending.append(contentsOf: path.utf8)
            state.pending.append(0x20)
            Self.appendDecimal(status, to: &state.pending)
            if let elapsedNanoseconds {
                // Milliseconds with three decimals, without going through Double formatting.
                let micros = Int(elapsedNanoseconds / 1000)
                state.pending.append(0x20)
                Self.appendDecimal(micros / 1000, to: &state.pending)
                state.pending.append(UInt8(ascii: "."))
                let fraction = micros % 1000
                if fraction < 100 { state.pending.append(UInt8(ascii: "0")) }
                if fraction < 10 { state.pending.append(UInt8(ascii: "0")) }
                Self.appendDecimal(fraction, to: &state.pending)
                state.pending.append(contentsOf: "ms".utf8)
            }
            if let note {
                state.pending.append(0x20)
                note.withUTF8Buffer { state.pending.append(contentsOf: $0) }
            }
            if let requestID {
                state.pending.append(contentsOf: " id=".utf8)
                state.pending.append(contentsOf: requestID.utf8)
            }
            state.pending.append(0x0A)
            guard state.pending.count >= Self.batchBytes else { return nil }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        if let batch { write(batch) }
    }

    /// Writes out what has gathered.
    public func flush() {
        let batch: [UInt8] = state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        if !batch.isEmpty { write(batch) }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }  // a closed or full destination loses the log, never the request
                offset += written
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    static func timestamp(_ seconds: Int) -> [UInt8] {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(20)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        text.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        text.append(UInt8(ascii: "Z"))
        return text
    }

    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        guard value >= 10 else {
            bytes.append(UInt8(ascii: "0") + UInt8(max(0, value)))
            return
        }
        appendDecimal(value / 10, to: &bytes)
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

/// Writes the access log's batch out every 200 ms while the server runs, and the rest when it stops.
struct AccessLogFlusher: Service {
    let log: AccessLog

    func run() async throws {
        guard log.isEnabled else {
            // A service that returns before shutdown counts as failed: this one has nothing to do but wait.
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            log.flush()
        }
        log.flush()
    }
}
