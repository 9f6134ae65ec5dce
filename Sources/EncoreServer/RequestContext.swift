import EncoreCore
import Foundation
import Hummingbird
import NIOCore

/// Per-request state: Hummingbird's core storage plus the authenticated caller, if any.
public struct EncoreRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AccessTokenMiddleware`` on authenticated routes.
    public var principal: Principal?

    /// The client's IP address, for per-client limits: the peer's, or behind a trusted proxy (see
    /// ``ClientAddress``) the address it forwarded for.
    public var clientAddress: String? {
        get { forwardedClientAddress ?? channel.remoteAddress?.ipAddress }
        set { forwardedClientAddress = newValue }
    }
    /// Looked up only when asked for: spelling the peer's address costs a lock and `inet_ntop`, and
    /// most requests never need it.
    private let channel: any Channel
    private var forwardedClientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// JSON bodies are small (1 MiB at most); audio never comes through a decoded body.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, or `unauthenticated`.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw EncoreError(.unauthenticated, "A bearer token is required.") }
        return principal
    }
}

/// Who the client is when requests arrive through proxies (the edge, a load balancer): the peer's
/// address, unless the peer is a proxy the operator trusts (`ENCORE_TRUSTED_PROXIES`), in which case the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Without it, every client
/// behind the edge would share the edge's address, and a stranger could lock anyone out of signing in.
public enum ClientAddress {
    /// - Parameters:
    ///   - peer: the connection's remote address.
    ///   - forwardedFor: the `X-Forwarded-For` header, `client, proxy1, proxy2` (each proxy appends its peer).
    public static func resolve(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        // From the right: each hop was added by the proxy in front of us; stop at the first we don't trust.
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingHTTPWhitespace }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trusted.contains(String(hop)) { return String(hop) }
        return hops.first.map(String.init) ?? peer
    }
}
