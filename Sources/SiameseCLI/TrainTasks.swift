import ArgumentParser
import Foundation
import NN
import Siamese
import Tensors

/// How `siamese train` turns its data and flags into an encoder and a training task.
extension TrainCommand {
    /// Labelled data and its validation set (--validation CSV or --validation-split); nil for
    /// pre-built pairs and triplets, which have no class labels to validate retrieval with.
    func labelledSplit(_ data: TrainingData) throws -> (FeatureDataset?, FeatureDataset?) {
        guard case .labelled(var dataset, let columns, _) = data else {
            if validation != nil || validationSplit > 0 {
                throw ValidationError("--validation and --validation-split apply to labelled data, not to pre-built pairs or triplets")
            }
            return (nil, nil)
        }
        if let validation {
            let v = try FeatureCSV.read(URL(fileURLWithPath: validation), labelColumn: input.labelColumn)
            guard v.featureColumns == columns else {
                throw ValidationError("\(validation) has columns \(v.featureColumns), \(input.source) has \(columns)")
            }
            return (dataset, v.dataset)
        }
        if validationSplit > 0 {
            guard validationSplit < 1 else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
            let held: FeatureDataset
            (dataset, held) = try dataset.split(fraction: 1 - validationSplit, seed: seed &+ 2)
            return (dataset, held)
        }
        return (dataset, nil)
    }

    /// The task for pre-built pairs: 0/1 targets for the pair losses, scores for cosine.
    func explicitPairTask(_ pairs: PairDataset, _ comparison: Distance) throws -> ExplicitPairTask {
        let kind: ExplicitPairTask.Loss
        switch loss {
        case "contrastive": kind = .contrastive(ContrastiveLoss(margin: margin ?? 0.5, distance: comparison))
        case "online-contrastive": kind = .onlineContrastive(OnlineContrastiveLoss(margin: margin ?? 0.5, distance: comparison))
        case "bce": kind = .binaryCrossEntropy
        case "cosine": kind = .cosineSimilarity(CosineSimilarityLoss())
        default: throw ValidationError("pre-built pairs train with --loss contrastive, online-contrastive, bce or cosine, got \(loss)")
        }
        return try ExplicitPairTask(data: pairs, loss: kind, batchSize: batchSize)
    }

    /// Trains on labelled items with pairs or triplets sampled (or mined) from the labels.
    func fitLabelled(_ model: SiameseNetwork, _ dataset: FeatureDataset, _ comparison: Distance, _ training: TrainingConfiguration,
                     _ checkpoints: URL, _ progress: ProgressBar, _ held: FeatureDataset?, _ fingerprint: String) throws -> TrainingSummary {
        switch loss {
        case "contrastive", "online-contrastive", "bce":
            let kind: PairTrainingTask.Loss = switch loss {
            case "contrastive": .contrastive(ContrastiveLoss(margin: margin ?? 0.5, distance: comparison))
            case "online-contrastive": .onlineContrastive(OnlineContrastiveLoss(margin: margin ?? 0.5, distance: comparison))
            default: .binaryCrossEntropy
            }
            let task = try PairTrainingTask(data: dataset, loss: kind, batchSize: batchSize,
                                            positiveFraction: try PairSampler.fraction(fromRatio: pairRatio), balanceClasses: balanceClasses)
            return try fit(model, task, training, checkpoints, progress, held, fingerprint)
        case "triplet":
            let margin = margin ?? 0.3
            if let miner {
                guard let strategy = TripletMiningStrategy(rawValue: miner) else {
                    throw ValidationError("--miner must be batch-all, batch-hard or semi-hard, got \(miner)")
                }
                let m = MPerClassSampler.itemsPerClass(labels: dataset.labels, batchSize: batchSize)
                let task = try BatchMiningTask(data: dataset, loss: BatchTripletLoss(strategy: strategy, margin: margin, distance: comparison),
                                               batchSize: batchSize, itemsPerClass: m)
                return try fit(model, task, training, checkpoints, progress, held, fingerprint)
            }
            let mining = hardNegatives ? HardNegativeMiner(rankRange: try parseRange(mineRanks), refreshEvery: max(1, mineEvery)) : nil
            let task = try TripletTrainingTask(data: dataset, loss: TripletMarginLoss(margin: margin, distance: comparison),
                                               batchSize: batchSize, miner: mining)
            return try fit(model, task, training, checkpoints, progress, held, fingerprint)
        case "mnrl":
            let task = try InBatchNegativesTask(data: dataset, loss: MultipleNegativesRankingLoss(), batchSize: batchSize)
            return try fit(model, task, training, checkpoints, progress, held, fingerprint)
        default:
            throw ValidationError("--loss must be contrastive, online-contrastive, triplet, mnrl or bce (cosine: pre-built pairs only), got \(loss)")
        }
    }

    /// The encoder the flags describe; image data supply --image and --channels themselves.
    func encoderConfiguration(features: Int, image shape: TrainingData.ImageShape?) throws -> EncoderConfiguration {
        guard dim > 0 else { throw ValidationError("--dim must be positive") }
        let source = input.source
        switch encoder {
        case "mlp":
            let widths = try (layers ?? "\(features),128").split(separator: ",").map { part -> Int in
                guard let w = Int(part.trimmingCharacters(in: .whitespaces)), w > 0 else { throw ValidationError("--layers must be positive integers like 64,128,64, got \(layers ?? "")") }
                return w
            }
            guard widths.first == features else {
                throw ValidationError("--layers starts with \(widths.first ?? 0) but \(source) has \(features) features per item")
            }
            return .mlp(MLPConfiguration(layers: widths, embeddingDimension: dim))
        case "cnn":
            var size: (Int, Int, Int)
            if let image {
                let parts = image.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--image must look like HxW, e.g. 8x8, got \(image)") }
                size = (shape?.channels ?? channels, parts[0], parts[1])
                if let shape, (shape.height, shape.width) != (parts[0], parts[1]) {
                    throw ValidationError("--image \(image) but the images in \(source) are \(shape.height)x\(shape.width)")
                }
            } else if let shape {
                size = (shape.channels, shape.height, shape.width)
            } else {
                throw ValidationError("--encoder cnn needs --image HxW, e.g. 8x8")
            }
            guard size.0 * size.1 * size.2 == features else {
                throw ValidationError("--image \(size.1)x\(size.2) with \(size.0) channel(s) needs \(size.0 * size.1 * size.2) features, \(source) has \(features)")
            }
            return .cnn(CNNConfiguration(channels: size.0, height: size.1, width: size.2, embeddingDimension: dim))
        case "sequence":
            guard channels > 0, features % channels == 0 else {
                throw ValidationError("--encoder sequence: \(features) features do not split into \(channels) channels")
            }
            return .sequence(SequenceConfiguration(channels: channels, length: features / channels, embeddingDimension: dim))
        default:
            throw ValidationError("--encoder must be mlp, cnn or sequence, got \(encoder)")
        }
    }
}
