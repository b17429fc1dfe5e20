import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import NPY
import Siamese
import Tensors
import TextEncoders

/// `siamese embed`: embeddings of every input row, as a float32 .npy matrix in input order.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed inputs with a trained model and write them as a float32 .npy matrix.",
        discussion: HelpText.reflow("""
        A Siamese model folder (siamese.json) reads a CSV of feature rows: the columns it was
        trained on are picked by name, others (labels, ids) are ignored. A model trained on images
        also reads an image file (PGM/PPM, PNG or JPEG: one row) or a folder laid out as for
        `train` (rows in the order train reads them: class folders, then file names, sorted).
        A sentence-transformers folder (modules.json) reads a text file (one input per line), or the --text-column of a CSV file with a header or of JSON lines (.jsonl, where texts may hold line breaks).

        Examples:
          siamese embed --model model --input test.csv --output test.npy
          siamese embed --model all-MiniLM-L6-v2 --input sentences.txt --output sentences.npy --threads 2
          siamese embed --model e5-small --input questions.txt --output q.npy --role query
        """)
    )

    @Option(help: ArgumentHelp("Model folder, or a name found in $SIAMESE_MODELS or the Hugging Face cache.", valueName: "dir|name")) var model: String
    @Option(help: "Input file: CSV for Siamese models, text (one per line) for sentence-transformers models.") var input: String
    @Option(help: "Output .npy file.") var output: String
    @Option(help: "Text models: the column (CSV) or key (JSON lines) holding the text.") var textColumn = "text"
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Rows per forward pass.") var batchSize = 1024
    @Flag(help: "Dynamic int8 linear layers (sentence-transformers models).") var int8 = false
    @Option(help: "Text models: keep the first N dimensions, renormalised (a matryoshka-trained model; default: the model's truncate_dim, if any, else all).") var truncateDim: Int?
    @Option(help: ArgumentHelp("Text models: put the model's prompt of this name before each text (config_sentence_transformers.json's prompts; default: its default_prompt_name, if any).", valueName: "name")) var prompt: String?
    @Option(help: "Text models: embed the texts as search queries (the model's \"query\" prompt) or as documents (its \"document\", \"passage\" or \"corpus\" prompt).") var role: Prompts.Role?
    @OptionGroup var formatting: FormatOption

    func run() throws {
        threading.apply()
        let modelURL = try ModelLocator.resolve(model), inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if FileManager.default.fileExists(atPath: modelURL.appendingPathComponent("modules.json").path) {
            let ext = inputURL.pathExtension.lowercased()
            let texts: [String]? = ["csv", "jsonl", "ndjson"].contains(ext)
                ? try StoreItemsInput.read(inputURL, columns: .init(id: nil, text: textColumn)).map { $0.text ?? "" }
                : nil
            if let texts, texts.isEmpty { throw InputError(file: input, message: "holds no texts") }
            if prompt != nil && role != nil { throw ValidationError("--prompt and --role both choose the prompt: give one of them") }
            let choice: Prompts.Choice = prompt.map { .named($0) } ?? role.map { .role($0) } ?? .modelDefault
            let shape = try embedTextFile(model: modelURL, input: inputURL, output: outputURL, threads: threads, int8: int8, texts: texts,
                                          truncateDim: truncateDim, prompt: choice)
            summarize(rows: shape.rows, dimension: shape.dimension)
            return
        }
        if int8 { throw ValidationError("--int8 applies to sentence-transformers models only") }
        if truncateDim != nil { throw ValidationError("--truncate-dim applies to sentence-transformers models only") }
        if prompt != nil || role != nil { throw ValidationError("--prompt and --role apply to sentence-transformers models only") }
        let (network, config) = try ModelFolder(modelURL).load()
        guard let columns = config.featureColumns else {
            throw ValidationError("\(model)/\(ModelFolder.configurationFile) does not list its feature columns")
        }
        let features = try EmbedImages.features(inputURL, model: config, featureCount: columns.count)
            ?? FeatureCSV.readFeatures(inputURL, columns: columns)
        let rows = features.shape[0]
        let progress = ProgressBar(label: "embedding")
        var values: [Float] = [], dimension = 0
        for start in stride(from: 0, to: rows, by: batchSize) {
            let end = min(rows, start + batchSize)
            let part = network.embedAll(features.slice(axis: 0, start..<end), batchSize: batchSize)
            dimension = part.shape[1]
            values += part.scalars
            progress.update(done: end, of: rows, unit: "rows")
        }
        progress.finish()
        try NPY.write(NPYArray(float32: values, rows: rows, cols: dimension), to: outputURL)
        summarize(rows: rows, dimension: dimension)
    }

    private func summarize(rows: Int, dimension: Int) {
        formatting.emit(.object([("rows", .int(rows)), ("dimension", .int(dimension)), ("output", .string(output))])) {
            "wrote \(rows) embeddings of dimension \(dimension) to \(output)"
        }
    }
}
