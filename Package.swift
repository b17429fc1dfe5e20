// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Siamese",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Core", targets: ["Core"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "Siamese", targets: ["Siamese"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "FileSupport", targets: ["FileSupport"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "TextEncoders", targets: ["TextEncoders"]),
        .library(name: "VectorIndex", targets: ["VectorIndex"]),
        .library(name: "EmbeddingStore", targets: ["EmbeddingStore"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "SiameseService", targets: ["Service"]),
        .executable(name: "siamese", targets: ["SiameseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Already built for postgres-nio; its SHA-256 is BoringSSL's assembly.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // Hot loops in C: GEMM micro-kernels and vector math, chosen at run time by CPU detection.
        .target(name: "CKernels"),
        // PNG and JPEG decoding through the system's libpng / libjpeg, loaded at run time (no headers needed to build).
        .target(name: "CImageCodecs"),
        // The foundation every target may use, with no dependencies: the error policy (`ensure`), the one
        // seeded generator, aligned memory and the one durable file writer.
        .target(name: "Core"),
        // Tensor, reverse-mode autodiff and every differentiable op.
        .target(name: "Tensors", dependencies: ["Core", "CKernels"]),
        // Layers, parameters and optimisers built on Tensors.
        .target(name: "NN", dependencies: ["Tensors"]),
        // The safetensors file format: memory-mapped, bounds-checked reading; atomic writing.
        .target(name: "SafeTensors", dependencies: ["Tensors"]),
        // The Siamese domain: encoders, comparison (distances, learned head), losses, miners, samplers, trainer.
        .target(name: "Siamese", dependencies: ["Tensors", "NN", "SafeTensors", "FileSupport", "NPY", "Evaluation", "CImageCodecs"]),
        // Small file utilities every module needs: atomic writes, SHA-256 (swift-crypto's), a fast CSV line reader, input errors.
        .target(name: "FileSupport", dependencies: ["Core", .product(name: "Crypto", package: "swift-crypto")]),
        // NumPy .npy arrays in and out (float32, int64), shared by the CLI, evaluation and the index.
        .target(name: "NPY", dependencies: ["Core", "FileSupport"]),
        // WordPiece tokenisation from tokenizer.json / vocab.txt (BERT family).
        .target(name: "Tokenizers"),
        // Pretrained text bi-encoders: BERT, pooling, sentence-transformers folders, int8 inference.
        .target(name: "TextEncoders", dependencies: ["Tensors", "NN", "SafeTensors", "Tokenizers", "Siamese", "FileSupport"]),
        // Embedding search: exact and HNSW indexes, quantisation, index files, duplicate mining, clustering.
        .target(name: "VectorIndex", dependencies: ["Core", "Tensors", "NPY"]),
        // Items, metadata and vectors in SQLite (GRDB), tied to the fingerprint of the model that made them.
        .target(name: "EmbeddingStore", dependencies: ["VectorIndex", .product(name: "GRDB", package: "GRDB.swift")]),
        // The same store in PostgreSQL + pgvector (items, jsonb metadata, HNSW in the database), chosen by a
        // postgres:// URL. A target of its own so that SQLite-only users do not link postgres-nio.
        .target(name: "PostgresStore", dependencies: [
            "EmbeddingStore", "VectorIndex",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Verification and retrieval metrics, calibration, per-group audit, reports.
        .target(name: "Evaluation", dependencies: ["Core", "NPY", "FileSupport"]),
        // The HTTP service (`siamese serve`): JSON API over a served model and the embedding store.
        .target(name: "Service", dependencies: [
            "Siamese", "TextEncoders", "Evaluation", "EmbeddingStore", "PostgresStore", "VectorIndex", "FileSupport", "Tensors",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(
            name: "SiameseCLI",
            dependencies: [
                "Tensors", "NN", "Siamese", "SafeTensors", "Evaluation", "NPY", "FileSupport", "Tokenizers", "TextEncoders",
                "VectorIndex", "EmbeddingStore", "PostgresStore", "Service",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Finite-difference gradient checking, shared by the test targets below.
        .target(name: "GradientChecking", dependencies: ["Tensors"], path: "Tests/Support/GradientChecking"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "CKernels", "GradientChecking"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors", "GradientChecking"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Tensors"]),
        .testTarget(name: "SiameseTests", dependencies: ["Siamese", "NN", "Tensors", "FileSupport", "GradientChecking"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TextEncodersTests", dependencies: ["TextEncoders", "Tokenizers", "Tensors", "SafeTensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VectorIndexTests", dependencies: ["Core", "VectorIndex", "Tensors"]),
        .testTarget(name: "EmbeddingStoreTests", dependencies: ["Core", "EmbeddingStore", "VectorIndex"]),
        .testTarget(name: "PostgresStoreTests", dependencies: [
            "PostgresStore", "EmbeddingStore", "VectorIndex",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ServiceTests", dependencies: [
            "Service", "Siamese", "EmbeddingStore", "VectorIndex", "PostgresStore", "NPY",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "EvaluationTests", dependencies: ["Core", "Evaluation", "NPY", "FileSupport"], resources: [.copy("Fixtures")]),
        // Mutation fuzzing of every reader of outside data, from the committed corpus (Tests/FuzzTests/Corpus).
        .testTarget(name: "FuzzTests", dependencies: [
            "Siamese", "Evaluation", "NPY", "FileSupport", "SafeTensors", "Tensors", "Tokenizers", "VectorIndex", "Service", "PostgresStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Corpus")]),
    ]
)
