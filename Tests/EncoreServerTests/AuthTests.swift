import EncoreApp
import EncoreServer
import Foundation
import Testing

@Suite("Auth and /users/me", .timeLimit(.minutes(5)))
struct AuthTests {
    @Test("register, login, and the token opens /users/me")
    func registerAndLogin() async throws {
        try await withServer { server in
            let register = try await HTTP.send(
                "POST", server.api + "/auth/register",
                json: ["email": " Ana@Example.COM ", "password": "sup3r secret", "displayName": "Ana", "role": "listener"])
            #expect(register.status == 201)
            let user = try #require(register.json["user"] as? [String: Any])
            #expect(user["email"] as? String == "ana@example.com")
            #expect(user["role"] as? String == "listener")
            #expect(user["passwordHash"] == nil)
            #expect(register.string("expiresAt") != nil)

            let login = try await HTTP.send("POST", server.api + "/auth/login", json: ["email": "ana@example.com", "password": "sup3r secret"])
            #expect(login.status == 200)
            let token = try #require(login.string("token"))
            let me = try await HTTP.send("GET", server.api + "/users/me", token: token)
            #expect(me.status == 200)
            #expect(me.string("displayName") == "Ana")

            // Nothing about the password is stored in the clear.
            let dump = try await runTool("sqlite3", [server.dataDirectory + "/encore.sqlite", "SELECT passwordHash FROM user"])
            #expect(dump.hasPrefix("$2b$") || dump.hasPrefix("$2a$") || dump.hasPrefix("$2y$"))
            #expect(!dump.contains("sup3r secret"))
        }
    }

    @Test("registration is validated")
    func registrationRules() async throws {
        try await withServer { (server: TestServer) async throws -> Void in
            func register(_ body: [String: any Sendable]) async throws -> HTTPResult {
                try await HTTP.send("POST", server.api + "/auth/register", json: body)
            }
            let valid: [String: any Sendable] = ["email": "x@example.com", "password": "longenough", "displayName": "X", "role": "artist"]
            #expect(try await register(valid).status == 201)
            #expect(try await register(valid).errorCode == "email_taken")
            // Each case changes the valid body in one way; the expected error code names what is wrong.
            let cases: [([String: any Sendable], String)] = [
                (["email": "X@EXAMPLE.com"], "email_taken"),
                (["email": "admin@example.com", "role": "admin"], "invalid_role"),
                (["role": "superuser"], "invalid_body"),
                (["email": "not-an-email"], "invalid_email"),
                (["email": "weak@example.com", "password": "short"], "weak_password"),
                (["email": "long@example.com", "password": String(repeating: "é", count: 40)], "invalid_password"),
                (["email": "noname@example.com", "displayName": "  "], "invalid_displayName"),
            ]
            for (change, code) in cases {
                let result = try await register(valid.merging(change) { $1 })
                #expect(result.errorCode == code, "\(change)")
                #expect((400...409).contains(result.status), "\(change)")
            }
        }
    }

    @Test("wrong passwords and unknown emails get the same 401")
    func badCredentials() async throws {
        try await withServer { server in
            _ = try await Client(server: server).register(email: "who@example.com", password: "right password")
            let wrong = try await HTTP.send("POST", server.api + "/auth/login", json: ["email": "who@example.com", "password": "wrong password"])
            let unknown = try await HTTP.send(
                "POST", server.api + "/auth/login", json: ["email": "nobody@example.com", "password": "right password"])
            #expect(wrong.status == 401)
            #expect(unknown.status == 401)
            #expect(wrong.body == unknown.body)
        }
    }

    @Test("behind a trusted proxy, sign-in limits count the forwarded client, not the proxy")
    func limitsBehindAProxy() async throws {
        try await withServer({ $0.trustedProxies = ["127.0.0.1"] }) { server in
            _ = try await Client(server: server).register(email: "fan@example.com", password: "right password")
            func login(_ password: String, from client: String) async throws -> HTTPResult {
                try await HTTP.send(
                    "POST", server.api + "/auth/login", json: ["email": "fan@example.com", "password": password], headers: ["X-Forwarded-For": client]
                )
            }
            for _ in 0..<10 { #expect(try await login("guess", from: "198.51.100.66").status == 401) }
            let locked = try await login("right password", from: "198.51.100.66")
            #expect(locked.status == 429 && locked.headers["retry-after"] != nil)
            // Another listener behind the same proxy is not locked out by the stranger.
            #expect(try await login("right password", from: "198.51.100.7").status == 200)
            // A client cannot pick its address: what it claims comes before the hop the proxy appended.
            #expect(try await login("right password", from: "198.51.100.7, 198.51.100.66").status == 429)
        }
    }

    @Test("missing, malformed, forged and expired tokens are 401")
    func tokens() async throws {
        try await withServer { server in
            let missing = try await HTTP.send("GET", server.api + "/users/me")
            #expect(missing.status == 401)
            #expect(missing.headers["www-authenticate"] == "Bearer")
            #expect(try await HTTP.send("GET", server.api + "/users/me", headers: ["Authorization": "Basic abc"]).status == 401)
            for bare in ["Bearer", "Bearer ", "Bearerx abc", "Bearer\tabc"] {
                #expect(try await HTTP.send("GET", server.api + "/users/me", headers: ["Authorization": bare]).status == 401, "\(bare)")
            }
            // The scheme is case-insensitive (RFC 9110 §11.1).
            let (token, _) = try await Client(server: server).register()
            #expect(try await HTTP.send("GET", server.api + "/users/me", headers: ["Authorization": "bEaReR \(token)"]).status == 200)
            #expect(try await HTTP.send("GET", server.api + "/users/me", token: "not.a.jwt").errorCode == "invalid_token")
            // A token signed by another server (another secret) is worthless here.
            let foreign = try await withServerReturning { other in try await Client(server: other).register().token }
            #expect(try await HTTP.send("GET", server.api + "/users/me", token: foreign).errorCode == "invalid_token")
        }
        try await withServer({ $0.accessTokenLifetime = .seconds(-5) }) { server in
            let (expired, _) = try await Client(server: server).register()
            #expect(try await HTTP.send("GET", server.api + "/users/me", token: expired).errorCode == "invalid_token")
        }
    }

    @Test("PATCH /users/me changes the name freely, email and password only with the current password")
    func updateMe() async throws {
        try await withServer { server in
            let (token, _) = try await Client(server: server).register(email: "me@example.com", password: "first password")
            let renamed = try await HTTP.send("PATCH", server.api + "/users/me", json: ["displayName": "Renamed"], token: token)
            #expect(renamed.string("displayName") == "Renamed")
            let noProof = try await HTTP.send("PATCH", server.api + "/users/me", json: ["password": "second password"], token: token)
            #expect(noProof.errorCode == "current_password_required")
            let wrongProof = try await HTTP.send(
                "PATCH", server.api + "/users/me", json: ["password": "second password", "currentPassword": "nope nope"], token: token)
            #expect(wrongProof.status == 403)
            let changed = try await HTTP.send(
                "PATCH", server.api + "/users/me",
                json: ["password": "second password", "email": "new@example.com", "currentPassword": "first password"],
                token: token)
            #expect(changed.status == 200)
            #expect(changed.string("email") == "new@example.com")
            #expect(
                try await HTTP.send("POST", server.api + "/auth/login", json: ["email": "me@example.com", "password": "first password"]).status == 401
            )
            #expect(
                try await HTTP.send("POST", server.api + "/auth/login", json: ["email": "new@example.com", "password": "second password"]).status
                    == 200)
        }
    }

    @Test("DELETE /users/me removes the account; its token stops working")
    func deleteMe() async throws {
        try await withServer { server in
            let (token, id) = try await Client(server: server).register(role: "listener")
            let deleted = try await HTTP.send("DELETE", server.api + "/users/me", token: token)
            #expect(deleted.status == 200)
            #expect(deleted.string("id")?.lowercased() == id.lowercased())
            #expect(try await HTTP.send("GET", server.api + "/users/me", token: token).status == 401)
        }
    }

    @Test("the data directory's secret is created with mode 0600 and survives restarts")
    func secretFile() async throws {
        let directory = try temporaryDirectory("encore-secret")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = try await withServerReturning({ $0.dataDirectory = directory }) { server in
            try await Client(server: server).register().token
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/secret.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try await withServer({ $0.dataDirectory = directory }) { (server: TestServer) async throws -> Void in
            #expect(try await HTTP.send("GET", server.api + "/users/me", token: token).status == 200)
        }
    }
}
