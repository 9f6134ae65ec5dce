import Foundation
import Testing

@testable import EncoreS3

@Suite("SigV4 signing")
struct SigV4Tests {
    /// The credentials of AWS's published SigV4 test suite and of the S3 documentation's examples.
    static let suite = SigV4Signer(
        credentials: .init(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), region: "us-east-1",
        service: "service")
    static let s3Docs = SigV4Signer(
        credentials: .init(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), region: "us-east-1")
    static let suiteTime = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let docsTime = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    func signature(_ signer: SigV4Signer, _ request: SigV4Signer.Request, at date: Date) -> String? {
        signer.signatureHeaders(for: request, at: date).first { $0.name == "Authorization" }?.value.components(separatedBy: "Signature=").last
    }

    @Test("AWS's published test suite: get-vanilla, get-vanilla-query-order-key-case, post-vanilla")
    func publishedSuite() {
        let host = [(name: "host", value: "example.amazonaws.com")]
        let empty = SigV4Signer.emptyPayloadHash
        #expect(
            signature(Self.suite, .init(method: "GET", path: "/", headers: host, payloadHash: empty), at: Self.suiteTime)
                == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            signature(
                Self.suite, .init(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: host, payloadHash: empty),
                at: Self.suiteTime) == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
        #expect(
            signature(Self.suite, .init(method: "POST", path: "/", headers: host, payloadHash: empty), at: Self.suiteTime)
                == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
        let headers = Self.suite.signatureHeaders(for: .init(method: "GET", path: "/", headers: host, payloadHash: empty), at: Self.suiteTime)
        #expect(headers.first { $0.name == "X-Amz-Date" }?.value == "20150830T123600Z")
        #expect(
            headers.first { $0.name == "Authorization" }?.value.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ") == true)
    }

    @Test("the S3 documentation's examples: a ranged GET signed in headers, a pre-signed GET")
    func s3Examples() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
            payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(signature(Self.s3Docs, request, at: Self.docsTime) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let url = Self.s3Docs.presignedURL(
            method: "GET", base: "https://examplebucket.s3.amazonaws.com", path: "/test.txt", host: "examplebucket.s3.amazonaws.com",
            lifetime: 86_400, at: Self.docsTime)
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    @Test("pre-signed URLs are byte for byte boto3's for the same inputs and clock")
    func matchesBoto3() throws {
        struct Case: Codable {
            var method: String
            var endpoint: String
            var region: String
            var bucket: String
            var key: String
            var expires: Int
            var time: Int
            var accessKey: String
            var secretKey: String
            var sessionToken: String?
        }
        let cases = [
            Case(
                method: "get_object", endpoint: "http://127.0.0.1:8333", region: "us-east-1", bucket: "encore",
                key: "tracks/abc/media-1/files/mp3-160.mp3",
                expires: 3600, time: 1_800_000_000, accessKey: "encore", secretKey: "a secret/with+odd=chars"),
            Case(
                method: "put_object", endpoint: "https://s3.eu-west-3.amazonaws.com", region: "eu-west-3", bucket: "my-bucket",
                key: "uploads/a b/ü+x (1).flac", expires: 900, time: 1_790_000_123, accessKey: "AKIAEXAMPLE", secretKey: "s3cr3t"),
            Case(
                method: "head_object", endpoint: "https://account.r2.cloudflarestorage.com", region: "auto", bucket: "b", key: "a//b/../c~d*e'f!",
                expires: 604_800, time: 1_700_000_000, accessKey: "k", secretKey: "s", sessionToken: "token/with=signs+"),
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "python/boto3_presign.py")
        process.arguments = ["python3", script.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONEncoder().encode(cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "boto3_presign.py failed (pip install boto3)")
        let expected = try JSONDecoder().decode([String].self, from: data)
        for (index, test) in cases.enumerated() {
            let signer = SigV4Signer(
                credentials: .init(accessKeyId: test.accessKey, secretAccessKey: test.secretKey, sessionToken: test.sessionToken), region: test.region
            )
            let host = try #require(URL(string: test.endpoint)).host.map { host in
                URL(string: test.endpoint)?.port.map { "\(host):\($0)" } ?? host
            }
            let method = ["get_object": "GET", "put_object": "PUT", "head_object": "HEAD"][test.method]!
            let url = signer.presignedURL(
                method: method, base: test.endpoint, path: "/\(test.bucket)/\(test.key)", host: try #require(host), lifetime: test.expires,
                at: Date(timeIntervalSince1970: TimeInterval(test.time)))
            #expect(url == expected[index], "case \(index)")
        }
    }
}
