/// The OpenAPI 3.1 description served at `/openapi.json`.
enum OpenAPIDocument {
    static let json = #"{}"#
}
