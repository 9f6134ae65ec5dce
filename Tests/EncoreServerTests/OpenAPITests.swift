import EncoreApp
import EncoreCore
import EncoreServer
import Foundation
import Testing

@Suite("OpenAPI document", .timeLimit(.minutes(5)))
struct OpenAPITests {
    @Test("every route is documented, and everything documented is served")
    func inStepWithRoutes() async throws {
        let directory = try temporaryDirectory("encore-openapi")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = EncoreConfiguration()
        configuration.dataDirectory = directory
        let served = Set(
            try await registeredRoutes(configuration).map { route in
                let path = route.path.split(separator: "/").map { segment -> String in
                    if segment == "**" { return route.path.description.hasPrefix("/media") ? "{token}/{key}" : "{path}" }
                    return segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
                }.joined(separator: "/")
                return "\(route.method.uppercased()) /\(path)"
            })
        try await withServer { (server: TestServer) async throws -> Void in
            let response = try await HTTP.send("GET", server.baseURL + "/openapi.json")
            #expect(response.status == 200)
            #expect(response.json["openapi"] as? String == "3.1.0")
            let paths = try #require(response.json["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
            #expect(served.subtracting(documented).sorted() == [], "served but not documented")
            #expect(documented.subtracting(served).sorted() == [], "documented but not served")
            #expect(served.count > 30)
        }
    }

    @Test("the document lists the whole error catalogue, and only it")
    func errorCatalogue() async throws {
        try await withServer { (server: TestServer) async throws -> Void in
            let response = try await HTTP.send("GET", server.baseURL + "/openapi.json")
            let schemas = try #require((response.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let documented = try #require((schemas["ErrorCode"] as? [String: Any])?["enum"] as? [String])
            #expect(documented == ErrorCode.allCases.map(\.rawValue))
        }
    }

    @Test("the document is valid OpenAPI 3.1 (openapi-spec-validator)")
    func validates() async throws {
        try await withServer { (server: TestServer) async throws -> Void in
            let response = try await HTTP.send("GET", server.baseURL + "/openapi.json")
            let file = try temporaryDirectory("encore-openapi") + "/openapi.json"
            try response.body.write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
            let output = try await runTool("python3", ["-m", "openapi_spec_validator", file])
            #expect(output.contains("OK"), "\(output)")
        }
    }
}
