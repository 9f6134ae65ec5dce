import EncoreCore
import Foundation
import Hummingbird

/// Per-request state: Hummingbird's core storage plus the authenticated caller, if any.
public struct EncoreRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AccessTokenMiddleware`` on authenticated routes.
    public var principal: Principal?

    /// The peer's IP address (the load balancer's, behind one), for per-client limits.
    public let clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// JSON bodies are small (1 MiB at most); audio never comes through a decoded body.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, or `unauthenticated`.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw EncoreError(.unauthenticated, "A bearer token is required.") }
        return principal
    }
}
