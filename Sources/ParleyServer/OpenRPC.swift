/// The OpenRPC document `rpc.discover` returns, generated from `schemas/protocol/` by
/// `tools/gen-openrpc` (a test checks it is up to date).
enum OpenRPC {
    /// The document as compact JSON.
    static let document = OpenRPCDocument.json
}
