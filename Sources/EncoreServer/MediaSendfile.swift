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
    private let accessLog: AccessLog
    /// Requests handed to the framework whose response has not ended yet.
    private var answersPending = 0
    /// True between the head and the end of a request this handler answered.
    private var consumingRequest = false
    /// Files being sent; a graceful shutdown waits for them (see `userInboundEventTriggered`).
    private var sendsInFlight = 0
    /// The server is shutting down: requests go to the framework, which closes the connection after them.
    private var quiescing = false
    private var quiesceEventHeld = false

    /// The last `Last-Modified` spelled, by the second it spells: a track's objects are written within
    /// a few seconds, so a connection fetching its segments formats the date about once.
    private var lastModified: (second: Int, text: String) = (-1, "")

    init(origin: MediaOrigin, accessLog: AccessLog) {
        self.origin = origin
        self.accessLog = accessLog
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

    /// On graceful shutdown the framework closes connections it sees as idle, which would cut a file being
    /// sent here: the shutdown notice is held back until the files in flight are sent.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
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
        guard head.method == .GET || head.method == .HEAD, head.version.major == 1, Self.isPlainMediaPath(head.uri), head.isKeepAlive
        else { return nil }
        for (name, _) in head.headers where Self.needsTheRouter(name) {
            return nil
        }
        guard let (key, grant) = try? origin.authorise(path: head.uri, method: head.method.rawValue),
            !key.isPlaylist, let (descriptor, info) = origin.blobs.openForReading(key)
        else { return nil }
        guard info.size > 0 else {
            closeDescriptor(descriptor)
            return nil
        }
        let second = Int(info.modifiedAt.timeIntervalSince1970.rounded(.down))
        if lastModified.second != second { lastModified = (second, info.modifiedAt.httpDate) }
        var headers = HTTPHeaders()
        headers.reserveCapacity(10)
        for field in MediaOrigin.headers(for: key, info: info, lastModified: lastModified.text, grant: grant) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "content-length", value: String(info.size))
        headers.add(name: "server", value: "encore")
        return Object(descriptor: descriptor, info: info, headers: headers)
    }

    /// `/media/…` with no query: one pass over the bytes.
    private static func isPlainMediaPath(_ uri: String) -> Bool {
        var uri = uri
        return uri.withUTF8 { bytes in RequestLog.hasMediaPrefix(bytes) && !bytes.contains(UInt8(ascii: "?")) }
    }

    /// Request headers that this path does not handle: ranges, validators, a body, `Expect`. Compared by
    /// length first, because every request carries a handful of other headers that must be let past
    /// cheaply.
    private static func needsTheRouter(_ name: String) -> Bool {
        switch name.utf8.count {
        case 5: name.isSpelled("range")
        case 6: name.isSpelled("expect")
        case 8: name.isSpelled("if-range")
        case 13: name.isSpelled("if-none-match")
        case 14: name.isSpelled("content-length")
        case 17: name.isSpelled("if-modified-since") || name.isSpelled("transfer-encoding")
        default: false
        }
    }

    /// `TCP_CORK`, as nginx's `tcp_nopush` uses it: the head and the file's first bytes leave in full
    /// packets instead of the head in a packet of its own.
    private static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_CORK))

    private func send(_ object: Object, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        let options = context.channel.syncOptions
        let corked = request.method == .GET && (try? options?.setOption(Self.cork, value: 1)) != nil
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
        // Whatever the socket did not take yet goes out as the client reads; uncorking only stops holding back a partial packet.
        if corked { try? options?.setOption(Self.cork, value: 0) }
        if accessLog.isEnabled {
            accessLog.record(
                method: request.method.rawValue, path: RequestLog.redacted(request.uri), status: 200, elapsedNanoseconds: nil, requestID: nil,
                note: "sendfile")
        }
    }
}

extension String {
    /// Equal to `lowercase` but for ASCII letter case, as header names compare.
    fileprivate func isSpelled(_ lowercase: StaticString) -> Bool {
        lowercase.withUTF8Buffer { expected in
            utf8.elementsEqual(expected) { byte, wanted in
                (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == wanted
            }
        }
    }
}

/// `close(2)`, named apart from channel handlers' own `close` methods.
private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
