import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The encore executable", .timeLimit(.minutes(5)))
struct ExecutableTests {
    @Test("first start on an empty directory: settings from ENCORE_*, files created, graceful exit on SIGTERM")
    func serveLifecycle() async throws {
        let directory = try temporaryDirectory("encore-exec")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let log = directory + "/stdout.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try encoreExecutable())
        process.arguments = ["serve"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["ENCORE_PORT": "0", "ENCORE_DATA_DIR": data, "ENCORE_BCRYPT_COST": "4", "ENCORE_LOG_LEVEL": "warning"]
        ) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var port: Int?
        let started = try await eventually(within: .seconds(30)) {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("encore listening on ") }) else { return false }
            port = Int(line.split(separator: ",")[0].split(separator: ":").last ?? "")
            return port != nil
        }
        try #require(started, "no 'listening' line within 30 s")
        let base = "http://127.0.0.1:\(try #require(port))"
        #expect(try await HTTP.send("GET", base + "/health").status == 200)
        #expect(try await HTTP.send("GET", base + "/ready").status == 200)
        #expect(FileManager.default.fileExists(atPath: data + "/encore.sqlite"))
        #expect(FileManager.default.fileExists(atPath: data + "/blobs"))
        let secret = try FileManager.default.attributesOfItem(atPath: data + "/secret.key")
        #expect(secret[.posixPermissions] as? Int == 0o600)

        kill(process.processIdentifier, SIGTERM)
        let exited = try await eventually(within: .seconds(30)) { !process.isRunning }
        #expect(exited)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    @Test("malformed settings are refused before anything starts, with a message naming the setting")
    func badSettings() async throws {
        let directory = try temporaryDirectory("encore-bad-settings")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/never"
        let cases: [(variable: String, value: String, message: String)] = [
            ("ENCORE_PORT", "eighty", "ENCORE_PORT must be a whole number in 0…65535, not eighty"),
            ("ENCORE_LOG_LEVEL", "loud", "ENCORE_LOG_LEVEL must be one of"),
        ]
        for (variable, value, message) in cases {
            let log = directory + "/stderr-\(variable).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try encoreExecutable())
            process.arguments = ["serve"]
            var environment = ProcessInfo.processInfo.environment
            environment["ENCORE_DATA_DIR"] = data
            environment["ENCORE_PORT"] = "0"  // were the bad setting ignored, no fixed port would be taken
            environment[variable] = value
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // Refused at once: a server that started anyway would still be running here.
            #expect(try await eventually(within: .seconds(30)) { !process.isRunning }, "\(variable)=\(value) did not exit")
            guard !process.isRunning else { continue }
            let stderr = try String(contentsOfFile: log, encoding: .utf8)
            // An ordinary error exit (a crash is a signal), and the reason on standard error.
            #expect(process.terminationReason == .exit, "\(variable): \(stderr)")
            #expect(process.terminationStatus == 1, "\(variable): \(stderr)")
            #expect(stderr.contains(message), "\(variable)=\(value): \(stderr)")
            #expect(!FileManager.default.fileExists(atPath: data), "\(variable): the data directory was created")
        }
    }
}
