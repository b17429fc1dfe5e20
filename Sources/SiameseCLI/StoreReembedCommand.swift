import ArgumentParser
import EmbeddingStore
import Evaluation
import FileSupport
import Foundation
import TextEncoders
import PostgresStore
import Service
import Tensors

/// `siamese store reembed`: moves a store to another model (the operation the service names when
/// a store of another model is refused).
struct StoreReembedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reembed",
        abstract: "Re-embed every item of a store with another model, then switch to it in one transaction.",
        discussion: HelpText.reflow("""
        Every item's text is embedded again with --model; the new vectors wait in a staging table, committed batch by batch, while the store keeps its old vectors (a `siamese serve` on it keeps answering, and upserts made meanwhile are re-embedded before the switch). The switch replaces all vectors and the store's model fingerprint at once; the search index beside the store (STORE.hnsw) is rebuilt for the new vectors. An interrupted run resumes where it stopped when run again with the same model. Items without text (imported as feature arrays) cannot be re-embedded: the command says which.

        On PostgreSQL (--store postgres://…) the new vectors wait in the store's staging table while every replica keeps searching and writing the old ones; the switch builds the new items table and its HNSW index and puts it in place of the old one in one transaction (writes wait for it, searches do not).

        Examples:
          siamese store reembed --store items.sqlite --model all-mpnet-base-v2
          siamese store reembed --store postgres://me@db:5432/items --model all-mpnet-base-v2
        """)
    )

    @Option(help: ArgumentHelp("Store: a SQLite file or postgres://USER@HOST:PORT/DATABASE.", valueName: "file|url")) var store: String
    @Option(help: ArgumentHelp("The new model: a folder or a name.", valueName: "dir|name")) var model: String
    @Option(help: "Items per embedding batch and transaction.") var batchSize = 256
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var postgres: PostgresOptionGroup
    @OptionGroup var formatting: FormatOption

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        threading.apply()
        let isPostgres = PostgresURL.isPostgres(store)
        guard isPostgres || FileManager.default.fileExists(atPath: store) else { throw InputError(file: store, message: "no such store") }
        let served = try StoreSession.model(model)
        guard served.kind == .text else {
            throw InputError(file: redactedLocation(store), message: "\(model) embeds feature arrays, not texts; re-embedding reads the items' texts")
        }
        if isPostgres { return try await runPostgres(served) }
        let embeddings = try EmbeddingStore(path: store)
        let total = try embeddings.count()
        let previous = try embeddings.fingerprint()
        let progress = ProgressBar(label: "reembed")
        let started = Date()
        var done = 0
        let count: Int
        do {
            count = try await embeddings.reembed(to: served.fingerprint, batchSize: batchSize) { texts in
                let vectors = try served.embed(texts.map(ModelInput.text), prompt: .role(.document))
                done += texts.count
                progress.update(done: min(done, total), of: total, unit: "items")
                return vectors
            }
        } catch let error as StoreError {
            throw InputError(file: store, message: "\(error)")
        }
        progress.finish()
        // The saved index held the old vectors: rebuild it for the new ones.
        try StoreSession.openIndex(embeddings, model: served).save()
        let seconds = Date().timeIntervalSince(started)
        formatting.emit(.object([("reembedded", .int(count)), ("items", .int(total)), ("dimension", .int(served.dimension)),
                                 ("fingerprint", .string(served.fingerprint)), ("previous_fingerprint", previous.map(JSONValue.string) ?? .null),
                                 ("store", .string(store)), ("seconds", .number(seconds))])) {
            count == 0 && previous == served.fingerprint
                ? "\(store) already holds vectors of \(model); nothing to do"
                : String(format: "re-embedded %d items of %@ with %@ (dimension %d) in %.1f s", count, store, model, served.dimension, seconds)
        }
    }

    /// The PostgreSQL store: staged beside the old vectors, then one switching transaction.
    func runPostgres(_ served: any ServedModel) async throws {
        let url: PostgresURL
        do { url = try PostgresURL(store) } catch { throw ValidationError(error.description) }
        // Opened with the store's own metric; the new index gets the new model's.
        let pg = try await PostgresStore.open(url, options: try postgres.options(metric: nil))
        let location = pg.location
        do {
            let total = try await pg.count()
            let previous = try await pg.fingerprint()
            let progress = ProgressBar(label: "reembed")
            let started = Date()
            var done = 0
            let count: Int
            do {
                count = try await pg.reembed(to: served.fingerprint, metric: IndexMetric.metric(for: served), batchSize: batchSize) { texts in
                    let vectors = try served.embed(texts.map(ModelInput.text), prompt: .role(.document))
                    done += texts.count
                    progress.update(done: min(done, total), of: total, unit: "items")
                    return vectors
                }
            } catch let error as StoreError {
                throw InputError(file: location, message: "\(error)")
            }
            progress.finish()
            let seconds = Date().timeIntervalSince(started)
            formatting.emit(.object([("reembedded", .int(count)), ("items", .int(try await pg.count())), ("dimension", .int(served.dimension)),
                                     ("fingerprint", .string(served.fingerprint)), ("previous_fingerprint", previous.map(JSONValue.string) ?? .null),
                                     ("store", .string(location)), ("seconds", .number(seconds))])) {
                count == 0 && (previous == served.fingerprint || previous == nil)
                    ? "\(location) already holds vectors of \(model) (or no items); nothing to do"
                    : String(format: "re-embedded %d items of %@ with %@ (dimension %d) in %.1f s", count, location, model, served.dimension, seconds)
            }
        } catch {
            await pg.close()
            throw error
        }
        await pg.close()
    }
}
