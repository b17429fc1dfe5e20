import EmbeddingStore
import Foundation
import TextEncoders

extension ServiceState {
    /// `POST /v1/rerank`: the cross-encoder's score of `query` with each of `candidates`.
    struct RerankResponse: Encodable {
        /// One per candidate, in order: a number for a one-label model, else one per label.
        let scores: [RerankScore]
        /// Candidate positions, best first (by the first label's score).
        let ranking: [Int]
        let labels: Int
    }

    /// A one-label score or a score per label.
    enum RerankScore: Encodable {
        case one(Float)
        case several([Float])
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .one(let x): try c.encode(x)
            case .several(let xs): try c.encode(xs)
            }
        }
    }

    /// The loaded cross-encoder, or a 409 saying how to start the service with one.
    func requireReranker() throws(APIError) -> CrossEncoder {
        guard let reranker else {
            throw APIError(.noReranker, "no cross-encoder is loaded: start the service with --rerank-model DIR (a sentence-transformers CrossEncoder folder)")
        }
        return reranker
    }

    /// Scores of `query` with each candidate, on the inference thread (cross-encoding is model work
    /// like embedding: it must not run on an event loop or beside a forward pass).
    func crossScores(_ reranker: CrossEncoder, query: String, candidates: [String]) async throws -> [[Float]] {
        let scores = try await batcher.run { reranker.predict(candidates.map { (query, $0) }) }
        for (i, row) in scores.enumerated() where !row.allSatisfy(\.isFinite) {
            throw APIError(.nonFinite, "candidate \(i) gives a non-finite score", field: "candidates[\(i)]")
        }
        return scores
    }

    func rerank(_ body: JSONObject) async throws -> RerankResponse {
        try body.allowOnly(["query", "candidates"])
        let reranker = try requireReranker()
        let query = try body.string("query")
        let raw = try body.array("candidates")
        guard !raw.isEmpty else { throw APIError(.invalidValue, "'candidates' must hold at least one text", field: "candidates") }
        guard raw.count <= configuration.maxInputs else {
            throw APIError(.tooManyInputs, "'candidates' holds \(raw.count) texts; at most \(configuration.maxInputs) per request", field: "candidates")
        }
        let candidates = try raw.enumerated().map { i, v throws(APIError) -> String in
            guard case .string(let s) = v else { throw APIError(.wrongType, "'candidates[\(i)]' must be a string, got \(v.typeName)", field: "candidates[\(i)]") }
            return s
        }
        let scores = try await crossScores(reranker, query: query, candidates: candidates)
        return RerankResponse(scores: scores.map { reranker.labels == 1 ? .one($0[0]) : .several($0) },
                              ranking: CrossEncoder.ranking(scores.map { $0[0] }), labels: reranker.labels)
    }

    /// A search's best `k` of its first `candidates` hits, reordered by the cross-encoder's score of
    /// the query with each hit's text (hits without text keep their place after those with one).
    func reranked(_ hits: [SearchHit], query: String, k: Int) async throws -> [(hit: SearchHit, rerank: Float?)] {
        let reranker = try requireReranker()
        let withText = hits.indices.filter { hits[$0].text != nil }
        let scores = try await crossScores(reranker, query: query, candidates: withText.map { hits[$0].text! })
        var perHit = [Float?](repeating: nil, count: hits.count)
        for (i, s) in zip(withText, scores) { perHit[i] = s[0] }
        return CrossEncoder.ranking(perHit, keep: k).map { (hits[$0], perHit[$0]) }
    }
}
