import CoreMetrics
import EncoreCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// The media origin's zero-copy path: a plain `GET` or `HEAD` of a whole media object is answered in the
/// channel pipeline, below the HTTP framework, with the file's bytes handed to the kernel (`sendfile(2)`
/// through a NIO `FileRegion`), the way nginx serves static files.
///
/// Profiling showed the framework's response path (a request task, a `ByteBuffer` body copied to the
/// socket) as the limit on segment serving. Only the common case takes this path; everything else (a
/// range, a conditional request, a playlist with its gzip twin, a bad token, a missing object, a request
/// with a body, a connection that is not keep-alive) goes on to the router's ``MediaOrigin`` routes,
/// which implement all of it and produce the JSON errors. Those routes are the same origin, so
/// behaviour is identical either way, only faster here.
///
/// Responses must leave in request order: while a request passed to the framework has not been
/// answered, later requests on the connection are passed on too.
final class MediaSendfileHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let origin: MediaOrigin
    private let logger: Logger
    /// Requests handed to the framework whose response has not ended yet.
    private var answersPending = 0
    /// True between the head and the end of a request this handler answered.
    private var consumingRequest = false
    /// Files being sent; a graceful shutdown waits for them (see `userInboundEventTriggered`).
    private var sendsInFlight = 0
    /// The server is shutting down: requests go to the framework, which closes the connection after them.
    private var quiescing = false
    private var quiesceEventHeld = false

    init(origin: MediaOrigin, logger: Logger) {
        self.origin = origin
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if answersPending == 0, !quiescing, let object = eligibleObject(head) {
                consumingRequest = true
                send(object, for: head, context: context)
            } else {
                answersPending += 1
                context.fireChannelRead(data)
            }
        case .body:
            if !consumingRequest { context.fireChannelRead(data) }
        case .end:
            if consumingRequest {
                consumingRequest = false
            } else {
                context.fireChannelRead(data)
            }
        }
    }

    /// Nothing read or written for the idle timeout (see ``EncoreHTTP1Channel``): close the connection,
    /// unless a file is being sent. A file region counts as written only once all of it is, so a large
    /// file to a slow client may take longer than the timeout while making progress all along.
    ///
    /// On graceful shutdown the framework closes connections it sees as idle, which would cut a file being
    /// sent here: the shutdown notice is held back until the files in flight are sent.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            if sendsInFlight == 0 { context.close(promise: nil) }
        } else if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if sendsInFlight == 0 {
                context.fireUserInboundEventTriggered(event)
            } else {
                quiesceEventHeld = true
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answersPending = max(0, answersPending - 1) }
        context.write(data, promise: promise)
    }

    private struct Object {
        let descriptor: CInt
        let info: BlobInfo
        let headers: HTTPHeaders
    }

    /// The object to send, when the request is the simple case this path serves and it succeeds.
    private func eligibleObject(_ head: HTTPRequestHead) -> Object? {
        guard head.method == .GET || head.method == .HEAD, head.version.major == 1, head.isKeepAlive, head.uri.hasPrefix("/media/"),
            !head.uri.utf8.contains(UInt8(ascii: "?"))
        else { return nil }
        for name in ["range", "if-range", "if-none-match", "if-modified-since", "content-length", "transfer-encoding", "expect"]
        where head.headers.contains(name: name) {
            return nil
        }
        guard let (key, grant) = try? origin.authorise(path: head.uri, method: head.method.rawValue),
            !key.isPlaylist, let (descriptor, info) = origin.blobs.openForReading(key)
        else { return nil }
        guard info.size > 0 else {
            closeDescriptor(descriptor)
            return nil
        }
        var headers = HTTPHeaders()
        for field in MediaOrigin.headers(for: key, info: info, lastModified: info.modifiedAt.httpDate, grant: grant) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "content-length", value: String(info.size))
        headers.add(name: "server", value: "encore")
        return Object(descriptor: descriptor, info: info, headers: headers)
    }

    private func send(_ object: Object, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: object.headers))), promise: nil)
        // The NIO file handle API is the only way to build a FileRegion; it takes over the descriptor.
        let file = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: object.descriptor)
        if request.method == .GET {
            origin.sendfileResponses.increment()
            let region = FileRegion(fileHandle: file, readerIndex: 0, endIndex: object.info.size)
            context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
        }
        let sent = context.eventLoop.makePromise(of: Void.self)
        sendsInFlight += 1
        sent.futureResult.assumeIsolated().whenComplete { _ in
            try? file.close()
            self.sendsInFlight -= 1
            if self.sendsInFlight == 0, self.quiesceEventHeld {
                self.quiesceEventHeld = false
                context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
        logger.info("\(request.method) \(RequestLog.redacted(request.uri)) 200 sendfile")
    }
}

/// HTTP/1.1 exactly as Hummingbird sets it up, with ``MediaSendfileHandler`` placed just after the
/// HTTP/1 decoder (before the conversion to the framework's request type).
///
/// The idle timeout is enforced here too, on socket activity, rather than by the framework: the framework
/// only sees the requests it answers, and would close a connection busy with sendfile responses.
struct EncoreHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    /// Nil when Encore is not the media origin (objects are served by the object store).
    let origin: MediaOrigin?
    let idleTimeout: Duration

    /// - Parameter http1: configured without an idle timeout (this channel enforces `idleTimeout`).
    init(responder: @escaping HTTPChannelHandler.Responder, origin: MediaOrigin?, idleTimeout: Duration) {
        http1 = HTTP1Channel(responder: responder, configuration: .init(idleTimeout: nil))
        self.origin = origin
        self.idleTimeout = idleTimeout
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let origin = self.origin
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000)
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(IdleStateHandler(allTimeout: idle), position: .first)
            if let origin {
                let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try pipeline.addHandler(MediaSendfileHandler(origin: origin, logger: logger), position: .after(decoder))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// `close(2)`, named apart from channel handlers' own `close` methods.
private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
