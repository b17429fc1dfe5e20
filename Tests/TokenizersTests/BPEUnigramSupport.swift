import Foundation
import Testing
@testable import Tokenizers

/// The committed reference of Benchmarks/reference/tokenizers_bpe_unigram_reference.py: small
/// byte-level BPE, classic BPE and Unigram tokenizers trained with HuggingFace `tokenizers`, and
/// what the library encodes with them.
enum BPEUnigramReference {
    static let folder = Reference.fixtures.appendingPathComponent("bpe_unigram")

    nonisolated(unsafe) static let json: [String: Any] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static var texts: [String] { json["texts"] as! [String] }
    static var pairs: [(String, String)] { (json["pairs"] as! [[String]]).map { ($0[0], $0[1]) } }
    static func variant(_ name: String) -> [String: Any] { (json["variants"] as! [String: Any])[name] as! [String: Any] }

    static func tokenizerData(_ name: String) throws -> Data {
        try Data(contentsOf: folder.appendingPathComponent("\(name).tokenizer.json"))
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: try tokenizerData(name), file: "\(name).tokenizer.json")
    }

    static func ints(_ v: Any?) -> [Int] { (v as? [Any] ?? []).map { ($0 as! NSNumber).intValue } }

    /// Differences between an encoding and its reference, one line each (empty: identical).
    static func differences(_ e: Encoding, _ expected: [String: Any], checkMask: Bool = false) -> [String] {
        var out: [String] = []
        let ids = ints(expected["ids"])
        if e.ids != ids { out.append("ids \(e.ids.prefix(30)) != \(ids.prefix(30))") }
        let types = ints(expected["type_ids"])
        if e.typeIDs != types { out.append("type ids \(e.typeIDs.prefix(30)) != \(types.prefix(30))") }
        let special = ints(expected["special"]).map { $0 != 0 }
        if e.specialTokensMask != special { out.append("special mask \(e.specialTokensMask.map { $0 ? 1 : 0 }.prefix(30)) != \(special.map { $0 ? 1 : 0 }.prefix(30))") }
        let flat = ints(expected["offsets"])
        let offsets = stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0]..<max(flat[$0], flat[$0 + 1]) }
        if e.offsets != offsets {
            let first = zip(e.offsets, offsets).enumerated().first { $0.element.0 != $0.element.1 }
            out.append("offsets differ at token \(first?.offset ?? -1): \(first.map { "\($0.element.0) != \($0.element.1)" } ?? "lengths \(e.offsets.count) != \(offsets.count)")")
        }
        let mask = checkMask ? ints(expected["attention_mask"]) : [Int](repeating: 1, count: ids.count)
        if e.attentionMask != mask { out.append("attention mask \(e.attentionMask.prefix(30)) != \(mask.prefix(30))") }
        return out
    }

    /// Compares every case of a variant; returns (cases, mismatching cases) and records the first few.
    static func check(_ name: String) throws -> (cases: Int, mismatches: Int) {
        var tokenizer = try tokenizer(name)
        let v = variant(name)
        var cases = 0, mismatches = 0
        func compare(_ label: String, _ e: Encoding, _ expected: [String: Any], checkMask: Bool = false) {
            cases += 1
            let d = differences(e, expected, checkMask: checkMask)
            if !d.isEmpty {
                mismatches += 1
                if mismatches <= 8 { Issue.record("\(name) \(label): \(d.joined(separator: "; "))") }
            }
        }
        let texts = self.texts
        for (text, expected) in zip(texts, v["single"] as! [[String: Any]]) {
            compare("single \(text.debugDescription.prefix(50))", tokenizer.encode(text), expected)
        }
        for (text, expected) in zip(texts, v["no_special"] as! [Any]) {
            cases += 1
            if tokenizer.encode(text, addSpecialTokens: false).ids != ints(expected) {
                mismatches += 1
                Issue.record("\(name) no special tokens \(text.debugDescription.prefix(50))")
            }
        }
        for ((a, b), expected) in zip(pairs, v["pairs"] as! [[String: Any]]) {
            compare("pair \(a.prefix(20).debugDescription) + \(b.prefix(20).debugDescription)", tokenizer.encode(a, pair: b), expected)
        }
        tokenizer.truncation = Truncation(maxLength: 6)
        for (text, expected) in zip(texts, v["truncated_6"] as! [[String: Any]]) {
            compare("truncated to 6 \(text.debugDescription.prefix(50))", tokenizer.encode(text), expected)
        }
        for ((a, b), expected) in zip(pairs, v["pairs_truncated_6"] as! [[String: Any]]) {
            compare("pair truncated to 6 \(a.prefix(20).debugDescription)", tokenizer.encode(a, pair: b), expected)
        }
        let padded = v["padded_batch"] as! [String: Any]
        tokenizer.truncation = Truncation(maxLength: 12)
        tokenizer.padding = Padding(padID: (padded["pad_id"] as! NSNumber).intValue)
        let batch = tokenizer.encodeBatch(padded["texts"] as! [String])
        for (e, expected) in zip(batch, padded["encodings"] as! [[String: Any]]) {
            compare("padded batch", e, expected, checkMask: true)
        }
        #expect((v["single"] as! [Any]).count == texts.count)
        return (cases, mismatches)
    }
}
