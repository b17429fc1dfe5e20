import ArgumentParser
import EmbeddingStore
import FileSupport
import Foundation
import PostgresStore
import Service
import Tensors

/// `siamese ingest`: embeds an input into a PostgreSQL store, shared by any number of workers
/// through the store's job table (``PostgresIngestQueue``).
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Embed an input into a PostgreSQL store; several workers (on one or many machines) can share one input.",
        discussion: HelpText.reflow("""
        INPUT is read as `store import` reads it: JSON lines ({"id": "…", "text": "…", "metadata": {…}}), a CSV with a header (--id-column, --text-column, --metadata-columns), or plain text (one item per line). An item without an id (a JSONL line without the key, an empty CSV id field, any text line) gets its line number as id ("17"), so a rerun gives it the same id.

        The input is cut into chunks of --chunk-size items, registered once in the store's job table under the input file's SHA-256 and the chunk size. Each worker leases a free chunk (for --lease-seconds, renewed while it embeds), embeds it in batches, then writes its items and marks it done in one transaction. Run the same command on other machines (with the same file) to add workers. A worker killed at any moment loses nothing and duplicates nothing: its chunk's lease runs out and another worker (or a rerun) takes the chunk over; items are upserted by id. A rerun skips the chunks already done and says so; a worker ends when every chunk is done (it waits for chunks other workers hold, and takes over those whose lease runs out).

        Examples:
          siamese ingest --store postgres://me@db:5432/items --model all-MiniLM-L6-v2 --input items.jsonl
          siamese ingest --store postgres://me@db:5432/items --model all-MiniLM-L6-v2 --input tickets.csv --id-column ticket --text-column body
        """)
    )

    @Option(help: ArgumentHelp("The store: postgres://USER@HOST:PORT/DATABASE.", valueName: "url")) var store: String
    @Option(help: ArgumentHelp("Model folder or name.", valueName: "dir|name")) var model: String
    @Option(help: ArgumentHelp("Items: .jsonl, .csv or text.", valueName: "file")) var input: String
    @Option(help: "Column (or key) of the id.") var idColumn = "id"
    @Option(help: "Column (or key) of the text (or feature array).") var textColumn = "text"
    @Option(help: "Comma-separated columns (or keys) kept as metadata (JSONL default: the \"metadata\" object).") var metadataColumns: String?
    @Option(help: "Items per chunk: the unit a worker leases and commits.") var chunkSize = 1000
    @Option(help: "Seconds a lease lasts without renewal (renewed after every batch); a dead worker's chunk is taken over after this.") var leaseSeconds = 60.0
    @Option(help: "Items per embedding batch.") var batchSize = 256
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var postgres: PostgresOptionGroup
    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard PostgresURL.isPostgres(store) else {
            throw ValidationError("--store must be postgres://…: workers share the input through the database (for a SQLite file use `siamese store import`)")
        }
        if chunkSize < 1 || chunkSize > 1_000_000 { throw ValidationError("--chunk-size must be 1 to 1000000") }
        if !(leaseSeconds >= 1 && leaseSeconds <= 86_400) { throw ValidationError("--lease-seconds must be 1 to 86400") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        threading.apply()
        let started = Date()
        let file = URL(fileURLWithPath: input)
        let columns = StoreItemsInput.Columns(id: idColumn, text: textColumn,
                                              metadata: metadataColumns.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } },
                                              lineNumberWhenMissing: true)
        let items = try StoreItemsInput.read(file, columns: columns)
        let served = try StoreSession.model(model)
        try StoreSession.checkInputs(items, served: served, modelName: model, file: input, textColumn: textColumn)
        // The key of the input in the job table: the bytes every worker reads.
        let sha = try SHA256.hex(ofFile: file)
        let pg = try postgres.open(store, metric: IndexMetric.metric(for: served))
        defer { try? blocking { await pg.close() } }
        try StoreSession.checkFingerprint(try blocking { try await pg.fingerprint() }, location: pg.location, model: served, modelName: model)
        let queue = PostgresIngestQueue(store: pg, inputSHA256: sha, chunkSize: chunkSize, worker: PostgresIngestQueue.workerName(), leaseSeconds: leaseSeconds)
        let start = try blocking { try await queue.register(lines: items.map(\.line)) }
        let progress = ProgressBar(label: "ingest")
        if start.doneChunks > 0 {
            progress.log("ingest: skipped \(start.doneChunks) of \(start.chunks) chunks (\(start.doneItems) items) already done for this input", always: true)
        }
        var mine = (chunks: 0, items: 0, takenOver: 0)
        var waiting = false
        while true {
            guard let chunk = try blocking({ try await queue.lease() }) else {
                let now = try blocking { try await queue.progress() }
                if now.finished { break }
                // Chunks held by other workers: wait for them to finish, or for a lease to run out.
                if !waiting {
                    progress.log("ingest: \(now.leasedChunks) chunks are held by other workers; waiting for them (or for their leases to run out)", always: true)
                    waiting = true
                }
                Thread.sleep(forTimeInterval: min(1, leaseSeconds / 4))
                continue
            }
            waiting = false
            // Crash tests only (never set otherwise): after N committed chunks this worker stalls
            // holding its next chunk's lease, so that a test kills it mid-run at a known point
            // instead of racing it (a fast worker on a busy machine finished before the kill).
            if let stall = ProcessInfo.processInfo.environment["SIAMESE_TEST_INGEST_STALL_AFTER_CHUNKS"].flatMap(Int.init), mine.chunks >= stall {
                while true { Thread.sleep(forTimeInterval: 3600) }
            }
            if let previous = chunk.takenOverFrom {
                mine.takenOver += 1
                progress.log("ingest: took over chunk \(chunk.index) (lines \(chunk.firstLine)–\(chunk.lastLine)) from \(previous), whose lease ran out", always: true)
            }
            do {
                try ingest(chunk, items: items, served: served, queue: queue, fingerprint: served.fingerprint)
            } catch {
                // Give the chunk back at once rather than after the lease; the error is the answer.
                try? blocking { try await queue.release(chunk) }
                throw error
            }
            mine.chunks += 1
            mine.items += chunk.itemCount
            let now = try blocking { try await queue.progress() }
            progress.update(done: now.doneItems, of: items.count, unit: "items")
        }
        progress.finish()
        let total = try blocking { try await pg.count() }
        let seconds = Date().timeIntervalSince(started)
        formatting.emit(.object([
            ("input_sha256", .string(sha)), ("chunks", .int(start.chunks)), ("skipped_chunks", .int(start.doneChunks)),
            ("skipped_items", .int(start.doneItems)), ("ingested_chunks", .int(mine.chunks)), ("ingested_items", .int(mine.items)),
            ("taken_over_chunks", .int(mine.takenOver)), ("items", .int(total)), ("dimension", .int(served.dimension)),
            ("fingerprint", .string(served.fingerprint)), ("store", .string(pg.location)), ("seconds", .number(seconds)),
        ])) {
            String(format: "ingested %d items (%d chunks) into %@; %d chunks were already done; the store holds %d items; %.1f s",
                   mine.items, mine.chunks, pg.location, start.doneChunks, total, seconds)
        }
    }

    /// Embeds one leased chunk batch by batch (renewing the lease after each), then commits its
    /// items and its done mark together.
    private func ingest(_ chunk: IngestChunk, items: [ItemRecord], served: any ServedModel, queue: PostgresIngestQueue, fingerprint: String) throws {
        var stored: [StoredItem] = []
        stored.reserveCapacity(chunk.itemCount)
        let end = chunk.firstItem + chunk.itemCount
        for batchStart in stride(from: chunk.firstItem, to: end, by: batchSize) {
            stored += try StoreSession.embed(items[batchStart..<min(end, batchStart + batchSize)], served: served, file: input)
            // A lease lost meanwhile (this worker was too slow) is not fatal: the upsert is
            // idempotent, and the chunk is marked done once.
            _ = try blocking { try await queue.renew(chunk) }
        }
        let written = stored
        _ = try blocking { try await queue.complete(chunk, items: written, fingerprint: fingerprint) }
    }
}
