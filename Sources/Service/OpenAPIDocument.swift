import Foundation

/// The OpenAPI 3.1 document served at `/openapi.json`, generated from ``ServiceRouter/routes``
/// so that it cannot list a route the router lacks (a test checks the other direction).
enum OpenAPIDocument {
    static func data(state: ServiceState) -> Data {
        let model = state.model
        let inputs = model.kind == .text ? "texts (strings)"
            : "arrays of \(model.inputDimension ?? 0) numbers" + (model.examples.isEmpty ? "" : " (example pairs in GET /v1/models)")
        let object = document(inputExample: inputs, input: inputSchema(model))
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// What the served model takes: a string (text models) or an array of exactly its input
    /// length of numbers (vector models), so that clients and fuzzers see the real contract.
    static func inputSchema(_ model: any ServedModel) -> [String: Any] {
        switch model.kind {
        case .text: return ["type": "string"]
        case .vector:
            let n = model.inputDimension ?? 1
            return ["type": "array", "items": ["type": "number"], "minItems": n, "maxItems": n]
        }
    }

    static func object(_ properties: [String: Any], required: [String]) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required, "additionalProperties": false]
    }

    /// `POST /v1/search`'s `"filter"`: per metadata key a plain value (equality) or an object of
    /// MongoDB-style operators, all ANDed.
    static var filterSchema: [String: Any] {
        let scalar: [String: Any] = ["type": ["string", "number", "boolean"]]
        let number: [String: Any] = ["type": "number"]
        let operators: [String: Any] = [
            "type": "object", "minProperties": 1, "additionalProperties": false,
            "properties": ["$eq": scalar, "$ne": scalar, "$in": ["type": "array", "items": scalar, "maxItems": 1000],
                           "$gt": number, "$gte": number, "$lt": number, "$lte": number, "$exists": ["type": "boolean"]],
        ]
        return [
            "type": "object", "maxProperties": 32, "additionalProperties": ["oneOf": [scalar, operators]],
            "description": """
                Metadata conditions, all of which must hold (at most 32 in all, operators counted), e.g. \
                {"lang": "en", "year": {"$gte": 2020, "$lt": 2024}, "tag": {"$in": ["a", "b"]}, "status": {"$ne": "closed"}, \
                "owner": {"$exists": true}}. A string matches the stored value's text (the string "2021" matches the number 2021); \
                a number matches JSON numbers only, as do $gt, $gte, $lt and $lte (a stored "2021" is not >= 2020); \
                $ne also matches items without the key; keys have 1 to 256 characters without quotes, backslashes or control characters.
                """,
        ]
    }

    /// `POST /v1/search`: a query the model embeds, or an embedding (`vector`), one of the two.
    static func searchBody(input: [String: Any]) -> [String: Any] {
        let common: [String: Any] = [
            "k": ["type": "integer", "minimum": 1, "maximum": 1000],
            "ef": ["type": "integer", "minimum": 1, "maximum": 1000, "description": "HNSW ef_search for this request (default: the index's)"],
            "rerank_k": ["type": "integer", "minimum": 1, "maximum": 1000,
                         "description": "rerank the first rerank_k hits with the service's cross-encoder (--rerank-model) and answer the best k of them (text queries only)"],
            "filter": filterSchema,
        ]
        let vector: [String: Any] = ["type": "array", "items": ["type": "number"], "minItems": 1,
                                     "description": "an embedding in the model's space (as /v1/embed returns), searched as it is"]
        return ["oneOf": [
            object(common.merging(["query": input]) { a, _ in a }.merging(promptFields) { a, _ in a }, required: ["query"]),
            object(common.merging(["vector": vector]) { a, _ in a }, required: ["vector"]),
        ]]
    }

    /// `"prompt"` and `"role"`: which of the model's prompts goes before each text (one of the two).
    static var promptFields: [String: Any] { [
        "prompt": ["type": "string", "description": "the name of one of the model's prompts (config_sentence_transformers.json), put before each text"],
        "role": ["type": "string", "enum": ["query", "document"],
                 "description": "embed as search queries (the model's \"query\" prompt) or documents (its \"document\", \"passage\" or \"corpus\" prompt)"],
    ] }

    static func requestBodies(input: [String: Any]) -> [String: [String: Any]] { [
        "/v1/embed": object(promptFields.merging(["inputs": ["type": "array", "items": input, "minItems": 1]]) { a, _ in a }, required: ["inputs"]),
        "/v1/compare": object(["a": input, "b": input], required: ["a", "b"]),
        "/v1/verify": object(["a": input, "b": input, "threshold": ["type": "number"]], required: ["a", "b"]),
        "/v1/search": searchBody(input: input),
        "/v1/rerank": object(["query": ["type": "string"], "candidates": ["type": "array", "items": ["type": "string"], "minItems": 1]],
                             required: ["query", "candidates"]),
        "/v1/duplicates": object([
            "inputs": ["type": "array", "items": input, "minItems": 1],
            "threshold": ["type": "number", "minimum": -1, "maximum": 1],
            "limit": ["type": "integer", "minimum": 1, "maximum": 10000],
        ], required: ["threshold"]),
        "POST /v1/items": object(["items": ["type": "array", "minItems": 1, "items": object([
            "id": ["type": "string", "minLength": 1, "maxLength": 512], "text": ["type": "string"],
            "vector": input["type"] as? String == "array" ? input : ["type": "array", "items": ["type": "number"]], "metadata": ["type": "object"],
        ], required: ["id"])]], required: ["items"]),
        "DELETE /v1/items": object(["ids": ["type": "array", "items": ["type": "string"]]], required: ["ids"]),
    ] }

    /// The success bodies, as the handlers' response types encode them (optional fields are left
    /// out when empty, so only the others are required); schemathesis checks every response
    /// against these in the test command.
    static func responseBodies(input: [String: Any]) -> [String: [String: Any]] {
        let number: [String: Any] = ["type": "number"], integer: [String: Any] = ["type": "integer"]
        let string: [String: Any] = ["type": "string"], boolean: [String: Any] = ["type": "boolean"]
        let direction: [String: Any] = ["type": "string", "enum": ["higher_is_same", "lower_is_same"]]
        func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
        let status = object(["status": string], required: ["status"])
        let hit = object(["id": string, "score": number, "rerank_score": number, "text": string, "metadata": ["type": "object"]], required: ["id", "score"])
        let deleted = object(["deleted": integer], required: ["deleted"])
        let model = object([
            "name": string, "kind": ["type": "string", "enum": ["vector", "text"]], "input_dimension": integer, "dimension": integer,
            "fingerprint": string, "comparison": string, "score_direction": direction,
            "calibration": object(["threshold": number, "score_direction": direction, "rule": string, "target": number],
                                  required: ["threshold", "score_direction", "rule"]),
            "examples": array(object(["name": string, "a": input, "b": input, "same": boolean], required: ["name", "a", "b", "same"])),
        ], required: ["name", "kind", "dimension", "fingerprint", "comparison", "score_direction"])
        return [
            "GET /healthz": status,
            "GET /readyz": status,
            "POST /v1/embed": object(["model": string, "dimension": integer, "embeddings": array(array(number))], required: ["model", "dimension", "embeddings"]),
            "POST /v1/compare": object(["score": number, "comparison": string, "score_direction": direction], required: ["score", "comparison", "score_direction"]),
            "POST /v1/verify": object([
                "same": boolean, "score": number, "threshold": number, "score_direction": direction,
                "rule": object(["kind": string, "target": number, "source": ["type": "string", "enum": ["request", "calibration.json"]]], required: ["kind", "source"]),
            ], required: ["same", "score", "threshold", "score_direction", "rule"]),
            "POST /v1/search": object(["results": array(hit)], required: ["results"]),
            "POST /v1/rerank": object(["scores": array(["oneOf": [number, array(number)]]), "ranking": array(integer), "labels": integer],
                                      required: ["scores", "ranking", "labels"]),
            "POST /v1/duplicates": object([
                "source": ["type": "string", "enum": ["inputs", "store"]], "comparison": string, "threshold": number,
                "pairs": array(object(["a": string, "b": string, "score": number], required: ["a", "b", "score"])), "truncated": boolean,
            ], required: ["source", "comparison", "threshold", "pairs", "truncated"]),
            "POST /v1/items": object(["upserted": integer, "ids": array(string)], required: ["upserted", "ids"]),
            "DELETE /v1/items": deleted,
            "GET /v1/items/{id}": object(["id": string, "text": string, "metadata": ["type": "object"], "vector": array(number)], required: ["id", "vector"]),
            "DELETE /v1/items/{id}": deleted,
            "GET /v1/models": object(["models": array(model), "store": object(["items": integer, "fingerprint": string], required: ["items"])],
                                     required: ["models", "store"]),
            "POST /v1/admin/save-index": object(["saved": ["type": "string", "enum": ["true", "false"]]], required: ["saved"]),
        ]
    }

    static let summaries: [String: String] = [
        "GET /": "Web page: search the store, compare two inputs",
        "GET /healthz": "Liveness",
        "GET /readyz": "Readiness (model loaded, store readable)",
        "GET /metrics": "Prometheus metrics",
        "GET /openapi.json": "This document",
        "POST /v1/embed": "Embeddings of texts or vectors",
        "POST /v1/compare": "Score of a pair",
        "POST /v1/verify": "Same/different decision with score, threshold and the rule that chose it",
        "POST /v1/search": "Top-k items of the store for a query, with metadata filters",
        "POST /v1/duplicates": "Pairs above a cosine threshold among given inputs or the whole store (the store: needs the API key when the server has one; one search at a time, else 429)",
        "POST /v1/items": "Upsert items into the store (durable when acknowledged); needs the API key",
        "DELETE /v1/items": "Delete items by id; needs the API key",
        "GET /v1/items/{id}": "One stored item (the id percent-encoded)",
        "DELETE /v1/items/{id}": "Delete one item by id (percent-encoded); needs the API key",
        "GET /v1/models": "The served model: kind, dimension, fingerprint, calibration",
        "POST /v1/admin/save-index": "Save the search index now; needs the API key",
    ]

    static func document(inputExample: String, input: [String: Any]) -> [String: Any] {
        let bodies = requestBodies(input: input)
        let responses = responseBodies(input: input)
        let errorSchema: [String: Any] = [
            "type": "object", "required": ["error"],
            "properties": ["error": ["type": "object", "required": ["code", "message"], "properties": [
                "code": ["type": "string", "enum": APIError.Code.allCases.map(\.rawValue)],
                "message": ["type": "string"], "field": ["type": "string"], "request_id": ["type": "string"],
            ]]],
        ]
        let errorResponse: [String: Any] = ["description": "error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        var paths: [String: [String: Any]] = [:]
        for route in ServiceRouter.routes {
            let key = "\(route.method.rawValue) \(route.path)"
            let contentType = route.path == "/" ? "text/html" : route.path == "/metrics" ? "text/plain" : "application/json"
            var operation: [String: Any] = [
                "summary": summaries[key] ?? key,
                "operationId": key.lowercased().replacingOccurrences(of: "[^a-z0-9]+", with: "_", options: .regularExpression),
                "responses": ["200": ["description": "success", "content": [contentType: ["schema": responses[key] ?? ["type": "string"]]]], "default": errorResponse],
            ]
            if let body = bodies[key] ?? bodies[route.path] {
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
            }
            if route.path.contains("{id}") {
                operation["parameters"] = [["name": "id", "in": "path", "required": true, "schema": ["type": "string", "minLength": 1]]]
            }
            if route.requiresKey { operation["security"] = [["bearer": [] as [String]]] }
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Siamese service", "version": "1.0.0",
                     "description": "Embeddings, pair scores and decisions, search and a durable item store over one Siamese or sentence-transformers model. The served model takes \(inputExample)."],
            "paths": paths,
            "components": [
                "schemas": ["Error": errorSchema],
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
            ],
        ]
    }
}
