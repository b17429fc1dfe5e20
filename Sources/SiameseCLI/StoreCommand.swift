import ArgumentParser
import EmbeddingStore
import FileSupport
import Foundation
import TextEncoders
import NPY
import PostgresStore
import Service
import Tensors

/// `siamese store`: the embedding store (`serve --store` serves the same file) from the shell.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Fill, inspect and export an embedding store (the SQLite file `siamese serve --store` serves).",
        discussion: HelpText.reflow("""
        A store holds items (id, text, metadata) with the vectors of one model; `siamese search --store` and `siamese serve --store` read it.

        Example:
          siamese store import --store items.sqlite --model all-MiniLM-L6-v2 --input items.jsonl
        """),
        subcommands: [StoreImportCommand.self, StoreExportCommand.self, StoreStatsCommand.self, StoreReembedCommand.self]
    )
}

/// The model, the store and its index as `serve` opens them, so that a store filled here is
/// served as it is (same fingerprint, same metric, same saved index beside the store).
enum StoreSession {
    static func model(_ name: String) throws -> any ServedModel {
        try ModelLoader.load(folder: try ModelLocator.resolve(name))
    }

    static func indexPath(_ store: String) -> String { store + ".hnsw" }

    /// Opens the store's index (reloading the saved one when it matches), for `model`.
    static func openIndex(_ store: EmbeddingStore, model: any ServedModel) throws -> StoreIndex {
        try store.openIndex(metric: IndexMetric.metric(for: model), dimension: model.dimension, indexPath: indexPath(store.path))
    }

    /// Refuses items the model cannot embed (a text for a feature model, an array of the wrong
    /// length), naming the file, line and column.
    static func checkInputs(_ items: [ItemRecord], served: any ServedModel, modelName: String, file: String, textColumn: String) throws {
        for item in items {
            switch served.kind {
            case .text where item.text == nil:
                throw InputError(file: file, line: item.line, field: textColumn, message: "the model \(modelName) embeds texts, not arrays")
            case .vector where item.features?.count != served.inputDimension:
                throw InputError(file: file, line: item.line, field: textColumn,
                                 message: "the model \(modelName) takes arrays of \(served.inputDimension ?? 0) numbers")
            default: break
            }
        }
    }

    /// The items embedded by the model, as store items; a non-finite embedding is an error naming the line.
    static func embed(_ batch: ArraySlice<ItemRecord>, served: any ServedModel, file: String) throws -> [StoredItem] {
        // Stored items are documents: the model's document prompt, when it has one.
        let vectors = try served.embed(batch.map { $0.text.map(ModelInput.text) ?? .vector($0.features!) }, prompt: .role(.document))
        return try zip(batch, vectors).map { item, vector in
            guard vector.allSatisfy(\.isFinite) else {
                throw InputError(file: file, line: item.line, message: "the model gives a non-finite embedding for this item")
            }
            return StoredItem(id: item.id, text: item.text, metadata: item.metadata, vector: vector)
        }
    }

    /// Refuses a store made with another model, naming both.
    static func checkFingerprint(_ store: EmbeddingStore, model: any ServedModel, modelName: String) throws {
        try checkFingerprint(try store.fingerprint(), location: store.path, model: model, modelName: modelName)
    }

    /// Refuses a store (named by `location`, a path or a redacted URL) whose fingerprint is
    /// `stored` when the model's is another.
    static func checkFingerprint(_ stored: String?, location: String, model: any ServedModel, modelName: String) throws {
        if let stored, stored != model.fingerprint {
            throw InputError(file: location, message: "holds vectors of model \(stored.prefix(16))…, but \(modelName) is \(model.fingerprint.prefix(16))…; use another store, or re-embed it: siamese store reembed --store \(location) --model \(modelName)")
        }
    }
}

/// `siamese store import`.
struct StoreImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Embed items with a model and add them to a store (ids already there are replaced).",
        discussion: HelpText.reflow("""
        INPUT is JSON lines (.jsonl: {"id": "…", "text": "…", "metadata": {…}} per line; for a Siamese model "text" holds an array of its feature columns instead), a CSV with a header (--id-column, --text-column, --metadata-columns), plain text (one item per line, its line number as id), or vectors already made by the model: a .npy matrix (rows × the model's dimension) with --ids (a text file, one id per line, or an int64 .npy); such items have no text, so `store reembed` cannot redo them. Ids are strings and must be unique in the input. Each batch is committed durably before the next; the store's search index is saved beside it (STORE.hnsw) at the end.

        Examples:
          siamese store import --store items.sqlite --model all-MiniLM-L6-v2 --input items.jsonl
          siamese store import --store tickets.sqlite --model all-MiniLM-L6-v2 --input tickets.csv --id-column ticket --text-column body --metadata-columns product,lang
          siamese store import --store items.sqlite --model all-MiniLM-L6-v2 --input vectors.npy --ids ids.txt
        """)
    )

    @Option(help: ArgumentHelp("Store: a SQLite file (created when missing) or postgres://USER@HOST:PORT/DATABASE.", valueName: "file|url")) var store: String
    @Option(help: ArgumentHelp("Model folder or name.", valueName: "dir|name")) var model: String
    @Option(help: ArgumentHelp("Items: .jsonl, .csv or text.", valueName: "file")) var input: String
    @Option(help: "Column (or key) of the id.") var idColumn = "id"
    @Option(help: "Column (or key) of the text (or feature array).") var textColumn = "text"
    @Option(help: "Comma-separated columns (or keys) kept as metadata (JSONL default: the \"metadata\" object).") var metadataColumns: String?
    @Option(help: ArgumentHelp("With a .npy INPUT: the ids of its rows (text, one per line, or an int64 .npy).", valueName: "file")) var ids: String?
    @Option(help: "Items per embedding batch and transaction.") var batchSize = 256
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var postgres: PostgresOptionGroup
    @OptionGroup var formatting: FormatOption

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        let npy = input.lowercased().hasSuffix(".npy")
        if npy && ids == nil { throw ValidationError("a .npy INPUT holds vectors only: give their ids with --ids FILE") }
        if !npy && ids != nil { throw ValidationError("--ids goes with a .npy INPUT of vectors") }
    }

    func run() throws {
        threading.apply()
        if let ids { return try importVectors(ids: ids) }
        let columns = StoreItemsInput.Columns(id: idColumn, text: textColumn,
                                              metadata: metadataColumns.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
        let items = try StoreItemsInput.read(URL(fileURLWithPath: input), columns: columns)
        let served = try StoreSession.model(model)
        try StoreSession.checkInputs(items, served: served, modelName: model, file: input, textColumn: textColumn)
        try write(items.count, noun: "items", served: served) { range in
            try StoreSession.embed(items[range], served: served, file: input)
        }
    }

    /// Vectors the model already made (.npy with ids): stored as they are, under the model's
    /// fingerprint, after checking their dimension.
    func importVectors(ids: String) throws {
        // The model (only its fingerprint and dimension are needed here) loads on another core
        // while the input is read and checked: each took about a third of a second per 200,000 rows.
        let name = model
        let loading = Started { try StoreSession.model(name) }
        let rows: StoreVectorRows
        do { rows = try StoreVectorsInput.read(vectors: input, ids: ids) } catch {
            _ = try? loading.wait()
            throw error
        }
        let served = try loading.wait()
        if rows.count > 0, rows.dimension != served.dimension {
            throw InputError(file: input, message: "the vectors have \(rows.dimension) components; \(model) makes \(served.dimension)")
        }
        try write(rows.count, noun: "vectors", served: served, batch: { range in rows.items(range) },
                  copyBatch: { range, fingerprint, type in try rows.copyBatch(range, fingerprint: fingerprint, type: type) })
    }

    /// The one write path of both inputs: `count` items made batch by batch by `batch` (given the
    /// rows of each), each batch committed durably, with progress; then the index is saved beside
    /// the store and the summary printed. Into PostgreSQL, `copyBatch` (when given) encodes a
    /// batch's rows straight from the input instead of through items.
    private func write(_ count: Int, noun: String, served: any ServedModel, batch: @escaping (Range<Int>) throws -> [StoredItem],
                       copyBatch: ((Range<Int>, String, PostgresVectorType) throws -> PostgresCopyBatch)? = nil) throws {
        // The target: a SQLite file (its HNSW index saved beside it at the end), or a PostgreSQL
        // database (which keeps its own index); named in output without any password.
        let name: String
        let total: () throws -> Int, finish: () throws -> Void
        let progress = ProgressBar(label: "import")
        let started = Date()
        if PostgresURL.isPostgres(store) {
            let pg = try postgres.open(store, metric: IndexMetric.metric(for: served))
            try StoreSession.checkFingerprint(try blocking { try await pg.fingerprint() }, location: pg.location, model: served, modelName: model)
            name = pg.location
            let allNew = try load(count, into: pg, fingerprint: served.fingerprint, progress: progress,
                                  encode: copyBatch ?? { range, fingerprint, type in try PostgresCopyBatch(batch(range), fingerprint: fingerprint, type: type) })
            // Into a store that was empty, with every id new, the store holds exactly what was
            // copied: counting it would read the whole fresh table before the index build does
            // (3 s of a 1,000,000-row load, the first read setting every row's hint bits).
            total = { allNew ? count : try blocking { try await pg.count() } }
            finish = {
                try blocking {
                    if !(try await pg.hasSearchIndex()) {
                        FileHandle.standardError.write(Data("import: building the search index (HNSW) over the loaded items\n".utf8))
                        try await pg.buildSearchIndex()
                    }
                    await pg.close()
                }
            }
        } else {
            let embeddings = try EmbeddingStore(path: store)
            try StoreSession.checkFingerprint(embeddings, model: served, modelName: model)
            name = store
            var done = 0
            while done < count {
                let range = done..<min(count, done + batchSize)
                try embeddings.upsert(try batch(range), fingerprint: served.fingerprint)
                done = range.upperBound
                progress.update(done: done, of: count, unit: "items")
            }
            total = { try embeddings.count() }
            finish = { try StoreSession.openIndex(embeddings, model: served).save() }
        }
        progress.finish()
        let items = try total()
        try finish()
        let seconds = Date().timeIntervalSince(started)
        formatting.emit(.object([("imported", .int(count)), ("items", .int(items)), ("dimension", .int(served.dimension)),
                                 ("fingerprint", .string(served.fingerprint)), ("store", .string(name)), ("seconds", .number(seconds))])) {
            String(format: "imported %d %@ into %@ (%d items in all, dimension %d) in %.1f s", count, noun, name, items, served.dimension, seconds)
        }
    }

    /// The PostgreSQL load: `COPY` batch by batch, each its own transaction, the next batch encoded
    /// while the database takes this one (made and sent in turn, half of both cores sat idle).
    ///
    /// COPY into a staging table, then one INSERT … ON CONFLICT: the bulk path; into a store that
    /// was empty the ids are new, so the rows go straight into the items table. Into an empty store,
    /// with more than one batch to come, the HNSW index is dropped after the first transaction
    /// (one row: it creates the table) and built once at the end: pgvector's per-row graph updates
    /// hold a load to a few hundred rows a second, and a first batch of 5,000 rows inserted into
    /// the graph took 9.4 s of a 200,000 × 384 load that took 4.4 s with a first row alone. A load
    /// that stops half way leaves the store without its index (searches stay exact, slower): the
    /// next import builds it.
    /// - Returns: true when the store started empty and every batch went straight into it (all ids new).
    private func load(_ count: Int, into pg: PostgresStore, fingerprint: String, progress: ProgressBar,
                      encode: (Range<Int>, String, PostgresVectorType) throws -> PostgresCopyBatch) throws -> Bool {
        let startedEmpty = try blocking { try await pg.count() } == 0
        let loadThenIndex = startedEmpty && count > batchSize
        var sending: Started<Bool>?
        var allDirect = true
        var sent = 0
        var done = 0
        while done < count {
            let range = done..<min(count, done + (done == 0 && loadThenIndex ? 1 : batchSize))
            let rows: PostgresCopyBatch
            do { rows = try encode(range, fingerprint, pg.vectorType) } catch {
                // The batch in flight commits or fails as it would have; then this error.
                _ = try? sending?.wait()
                throw error
            }
            if let sending { allDirect = try sending.wait() && allDirect }
            progress.update(done: sent, of: count, unit: "items")
            let dropIndex = loadThenIndex && done == 0
            sending = Started {
                let direct = try await pg.bulkUpsert(rows, newIDs: startedEmpty)
                if dropIndex { try await pg.dropSearchIndex() }
                return direct
            }
            sent = range.upperBound
            done = range.upperBound
        }
        if let sending { allDirect = try sending.wait() && allDirect }
        progress.update(done: count, of: count, unit: "items")
        return startedEmpty && allDirect
    }
}

/// `siamese store export`.
struct StoreExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a store's items out: JSON lines (id, text, metadata, vector) or a .npy matrix with an ids file.",
        discussion: HelpText.reflow("""
        Examples:
          siamese store export --store items.sqlite --output items.jsonl
          siamese store export --store items.sqlite --output vectors.npy --ids ids.txt
        """)
    )

    @Option(help: ArgumentHelp("Store: a SQLite file or postgres://USER@HOST:PORT/DATABASE.", valueName: "file|url")) var store: String
    @Option(help: ArgumentHelp("Output: .jsonl, or .npy (vectors; ids go to --ids).", valueName: "file")) var output: String
    @Option(help: ArgumentHelp("With .npy output: the ids, one per line (default OUTPUT.ids.txt).", valueName: "file")) var ids: String?
    @Flag(help: "Leave the vectors out of JSON lines.") var noVectors = false
    @OptionGroup var postgres: PostgresOptionGroup
    @OptionGroup var formatting: FormatOption

    func run() throws {
        var all: [StoredItem] = []
        let name: String
        if PostgresURL.isPostgres(store) {
            let pg = try postgres.open(store, metric: nil)
            name = pg.location
            all = try blocking {
                var items: [StoredItem] = [], cursor: String?
                repeat {
                    let page = try await pg.page(after: cursor, limit: 4096)
                    items += page.items
                    cursor = page.next
                } while cursor != nil
                await pg.close()
                return items
            }
        } else {
            guard FileManager.default.fileExists(atPath: store) else { throw InputError(file: store, message: "no such store") }
            name = store
            let embeddings = try EmbeddingStore(path: store)
            var last: Int64?
            while true {
                let page = try embeddings.items(after: last, limit: 4096)
                guard let end = page.last else { break }
                all += page.map(\.item)
                last = end.label
            }
        }
        let url = URL(fileURLWithPath: output)
        if url.pathExtension.lowercased() == "npy" {
            let dimension = all.first?.vector.count ?? 0
            let idsPath = ids ?? output + ".ids.txt"
            if let bad = all.first(where: { $0.id.contains("\n") || $0.id.contains("\r") }) {
                throw InputError(file: name, field: "id", message: "the id '\(bad.id)' holds a line break; export to .jsonl instead")
            }
            try NPY.write(NPYArray(float32: all.flatMap(\.vector), rows: all.count, cols: dimension), to: url)
            try AtomicFile.write(Data(all.map { $0.id + "\n" }.joined().utf8), to: URL(fileURLWithPath: idsPath))
        } else {
            var out = Data()
            for item in all {
                var fields: [(String, Any)] = [("id", item.id)]
                if let t = item.text { fields.append(("text", t)) }
                if let m = item.metadata, let object = try? JSONSerialization.jsonObject(with: Data(m.utf8)) { fields.append(("metadata", object)) }
                if !noVectors { fields.append(("vector", item.vector.map { Double($0) })) }
                let object = Dictionary(uniqueKeysWithValues: fields)
                out += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                out += Data("\n".utf8)
            }
            try AtomicFile.write(out, to: url)
        }
        formatting.emit(.object([("items", .int(all.count)), ("output", .string(output))])) { "wrote \(all.count) items to \(output)" }
    }
}

/// `siamese store stats`.
struct StoreStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "How many items a store holds, of which model, and its size.",
        discussion: HelpText.reflow("""
        Example:
          siamese store stats --store items.sqlite --format json
        """)
    )

    @Option(help: ArgumentHelp("Store: a SQLite file or postgres://USER@HOST:PORT/DATABASE.", valueName: "file|url")) var store: String
    @OptionGroup var postgres: PostgresOptionGroup
    @OptionGroup var formatting: FormatOption

    func run() throws {
        if PostgresURL.isPostgres(store) { return try runPostgres() }
        guard FileManager.default.fileExists(atPath: store) else { throw InputError(file: store, message: "no such store") }
        let embeddings = try EmbeddingStore(path: store)
        let count = try embeddings.count(), dimension = try embeddings.dimension(), fingerprint = try embeddings.fingerprint()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: store)[.size] as? Int) ?? 0
        let indexSaved = FileManager.default.fileExists(atPath: StoreSession.indexPath(store))
        formatting.emit(.object([("items", .int(count)), ("dimension", dimension.map { .int($0) } ?? .null),
                                 ("fingerprint", fingerprint.map { .string($0) } ?? .null), ("bytes", .int(bytes)),
                                 ("index_saved", .bool(indexSaved))])) {
            """
            items        \(count)
            dimension    \(dimension.map(String.init) ?? "-")
            model        \(fingerprint ?? "-")
            size         \(bytes) bytes
            index saved  \(indexSaved ? "yes (\(StoreSession.indexPath(store)))" : "no")
            """
        }
    }

    /// Stats of a PostgreSQL store: the database keeps its index, so there is no index file.
    func runPostgres() throws {
        let pg = try postgres.open(store, metric: nil)
        let (count, dimension, fingerprint) = try blocking {
            let r = (try await pg.count(), try await pg.dimension(), try await pg.fingerprint())
            await pg.close()
            return r
        }
        formatting.emit(.object([("items", .int(count)), ("dimension", dimension.map { .int($0) } ?? .null),
                                 ("fingerprint", fingerprint.map { .string($0) } ?? .null), ("metric", .string(pg.metric.rawValue)),
                                 ("store", .string(pg.location))])) {
            """
            items        \(count)
            dimension    \(dimension.map(String.init) ?? "-")
            model        \(fingerprint ?? "-")
            metric       \(pg.metric)
            store        \(pg.location) (PostgreSQL; pgvector HNSW index in the database)
            """
        }
    }
}
