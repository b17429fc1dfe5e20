import Foundation
import Testing
@testable import Service

/// The search answer is written by hand (``DirectJSON``): it must say exactly what `JSONEncoder`
/// says for the same hits — the same values, text and metadata — for awkward ids and numbers.
@Suite("Search response JSON") struct SearchResponseJSONTests {
    static let hits: [ServiceState.Hit] = [
        .init(id: "plain", score: 0.59719735, text: nil, metadata: nil),
        .init(id: "quote\"back\\slash/ctl\u{1}\u{8}\u{c}\n\r\t", score: 1, text: "é ü 漢字 🙂 \u{7f}", metadata: JSONText(text: "{\"b\": [1, 2.5, -0.0, 1e300, null, true], \"a\": {\"x\": \"y\\\"z\"}}")),
        .init(id: "", score: -0.0, text: "", metadata: JSONText(text: "{\"big\": 9007199254740993, \"n\": 1e15, \"f\": 0.1}")),
        .init(id: "tiny", score: 1e-7, text: nil, metadata: JSONText(text: "{}")),
        .init(id: "huge", score: -3.4028235e38, text: nil, metadata: nil),
        .init(id: "sub", score: Float.leastNonzeroMagnitude, text: nil, metadata: nil),
    ]

    /// Parsed back: numbers as Decimal-free doubles, integers kept, so that 1 and 1.0 compare equal.
    static func parsed(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test func handWrittenEqualsTheEncoder() throws {
        for n in 0...Self.hits.count {
            let response = ServiceState.SearchResponse(results: Array(Self.hits.prefix(n)))
            let direct = try #require(response.directJSON)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            let viaEncoder = try encoder.encode(response)
            #expect(try Self.parsed(Data(direct.utf8)) == (try Self.parsed(viaEncoder)), "\(direct)\nvs\n\(String(decoding: viaEncoder, as: UTF8.self))")
            // Scores keep every bit through the text.
            let results = try #require(try Self.parsed(Data(direct.utf8))["results"] as? [[String: Any]])
            for (hit, back) in zip(response.results, results) {
                let score = try #require(back["score"] as? NSNumber)
                #expect(Float(score.doubleValue).bitPattern == hit.score.bitPattern || (hit.score == 0 && score.doubleValue == 0), "\(hit.id): \(hit.score) → \(score)")
            }
        }
        // Big integers in metadata stay exact (JSONSerialization would round them: read the text).
        let text = try #require(ServiceState.SearchResponse(results: [Self.hits[2]]).directJSON)
        #expect(text.contains("9007199254740993") && text.contains("1000000000000000"), "\(text)")
    }

    @Test func aNonFiniteScoreFallsBackToTheEncodersError() throws {
        let response = ServiceState.SearchResponse(results: [.init(id: "x", score: .nan, text: nil, metadata: nil)])
        #expect(response.directJSON == nil)
        #expect(throws: EncodingError.self) { try JSONEncoder().encode(response) }
    }
}
