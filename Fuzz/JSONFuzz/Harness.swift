// libFuzzer entry point for the service's strict JSON body parser (Sources/Service/JSONValue.swift,
// built by Fuzz/run-libfuzzer.sh json). An accepted body must round-trip through the text the
// service writes back (metadata is stored as `jsonText`), and every typed accessor must answer
// or throw.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
func jsonFuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let object = try? JSONValue.parseObject(data) else { return 0 }
    let text = JSONValue.object(object.fields).jsonText
    guard let back = try? JSONValue.parseObject(Data(text.utf8)) else { fatalError("jsonText is refused: \(text.prefix(200))") }
    require(JSONValue.object(back.fields) == JSONValue.object(object.fields), "jsonText does not round-trip")
    for key in object.fields.keys {
        _ = try? object.string(key)
        _ = try? object.number(key)
        _ = try? object.integer(key, default: 0, in: 0...1000)
        _ = try? object.array(key).map { try? $0.modelInput(field: key) }
        _ = try? object.object(key)
    }
    return 0
}

/// `precondition` whose message survives -O (libFuzzer shows it above the stack).
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
