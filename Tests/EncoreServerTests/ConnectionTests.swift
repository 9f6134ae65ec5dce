import EncoreServer
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Connection limits")
struct ConnectionTests {
    @Test("connections beyond the limit wait for a free slot; idle keep-alive connections are closed and free theirs")
    func boundedConnections() async throws {
        try await withServer({
            $0.maxConnections = 2
            $0.idleTimeout = .seconds(1)
        }) { server in
            let port = try #require(URL(string: server.baseURL)?.port)
            // Two clients connect and say nothing: they hold both slots until the idle timeout closes them.
            let opened = ContinuousClock.now
            let idle = try [RawConnection(port: port), RawConnection(port: port)]
            let answer = try await HTTP.send("GET", server.baseURL + "/health")
            let answered = ContinuousClock.now
            #expect(answer.status == 200)
            // Served only once a slot was free, which the idle timeout (counted from each idle client's
            // accept, after `opened`) decides; without the limit it would have been answered at once.
            #expect(answered - opened >= .seconds(1))
            for connection in idle {
                #expect(await connection.closedByServer(within: .seconds(10)))
            }
        }
    }
}

/// A TCP connection that sends nothing, to occupy a server slot.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(descriptor) }

    /// True once the server has closed its end (a read returns end-of-file), polling until `limit`.
    func closedByServer(within limit: Duration) async -> Bool {
        let descriptor = self.descriptor
        let deadline = ContinuousClock.now + limit
        return await withCheckedContinuation { continuation in
            // poll(2) blocks, so it runs on a dispatch thread rather than the cooperative pool.
            DispatchQueue.global().async {
                while ContinuousClock.now < deadline {
                    var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    guard poll(&request, 1, 100) > 0 else { continue }
                    var byte: UInt8 = 0
                    if recv(descriptor, &byte, 1, 0) <= 0 {
                        continuation.resume(returning: true)
                        return
                    }
                }
                continuation.resume(returning: false)
            }
        }
    }
}
