import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 as Hummingbird sets it up, with ``MediaSendfileHandler`` just after the HTTP/1 decoder
/// (before the conversion to the framework's request type), a cheaper idle timeout
/// (``IdleConnectionHandler``) and a write buffer that holds a whole segment.
///
/// Handling requests on the connection's event loop (a task executor preference) instead of the global
/// executor was tried: it cost the track JSON about 20 % more CPU per request, so requests keep the
/// framework's default.
///
/// The idle timeout is enforced on socket activity rather than by the framework: the framework only sees
/// the requests it answers, and would close a connection busy with sendfile responses.
struct EncoreHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    /// Nil when Encore is not the media origin (objects are served by the object store).
    let origin: MediaOrigin?
    let idleTimeout: Duration
    let accessLog: AccessLog

    /// A segment of the highest rung is about 200 KB: with NIO's default 64 KiB high-water mark every
    /// such response made the channel unwritable and writable again, an event through the whole pipeline
    /// twice per request. Whole responses fit under this one; a slow reader still stops the writer.
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 512 * 1024, high: 1024 * 1024)

    init(responder: @escaping HTTPChannelHandler.Responder, origin: MediaOrigin?, idleTimeout: Duration, accessLog: AccessLog) {
        http1 = HTTP1Channel(responder: Self.answeringInChildTasks(responder), configuration: .init(idleTimeout: nil))
        self.origin = origin
        self.idleTimeout = idleTimeout
        self.accessLog = accessLog
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let origin = self.origin
        let accessLog = self.accessLog
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000)
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(IdleConnectionHandler(timeout: idle), position: .first)
            if let origin {
                let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try pipeline.addHandler(MediaSendfileHandler(origin: origin, accessLog: accessLog), position: .after(decoder))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }

    /// Each request is answered in a child task of the connection's task. A task keeps the memory its
    /// deepest await ever needed for as long as it lives, and a connection's task lives as long as the
    /// connection: heaptrack showed 12.6 KB of async stack per idle keep-alive connection, most of it
    /// the router's and handlers' frames of requests long answered. A child task returns that memory when
    /// its request is done, for the price of creating it (a few hundred nanoseconds).
    static func answeringInChildTasks(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            let handoff = ResponseWriterHandoff(writer)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await responder(request, handoff.take(), channel) }
            }
        }
    }
}

/// Moves a response writer (not copyable, not `Sendable`) into the child task that answers its request.
///
/// `@unchecked Sendable` is safe: the writer is stored once, before the child task exists, and taken once,
/// by that one child task, while the connection's task only waits for the child to finish; no two tasks
/// ever touch it at the same time.
final class ResponseWriterHandoff: @unchecked Sendable {
    private var writer: ResponseWriter?

    init(_ writer: consuming ResponseWriter) {
        self.writer = .some(writer)
    }

    func take() -> ResponseWriter {
        guard let writer = writer.take() else { preconditionFailure("a response writer is taken once") }
        return writer
    }
}

/// Closes a connection on which nothing was read or written for `timeout`; a file being sent counts as
/// activity until all of it is written, so a large file to a slow client may take longer than the
/// timeout while making progress all along.
///
/// NIO's `IdleStateHandler` does the same by attaching a promise to every write, which showed as 6 % of
/// a segment's CPU; this one notes the time of each read and write and looks at it when the timer fires.
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var filesBeingSent = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context: context, at: .now() + timeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { schedule(context: context, at: .now() + timeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        guard case .fileRegion = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        filesBeingSent += 1
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.filesBeingSent -= 1
            self.lastActivity = .now()
        }
        context.write(data, promise: written)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        let idleSince = lastActivity
        if filesBeingSent == 0, idleSince + timeout <= .now() {
            timer = nil
            context.close(promise: nil)
        } else {
            schedule(context: context, at: filesBeingSent > 0 ? .now() + timeout : idleSince + timeout)
        }
    }
}
