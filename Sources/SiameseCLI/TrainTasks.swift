import ArgumentParser
import Foundation
import NN
import Siamese
import Tensors

/// How `siamese train` turns its data and flags into an encoder and a training task.
extension TrainCommand {
    /// The training data and what is held out of it: `--validation FILE` (the same format as
    /// --data) or `--validation-split F` (a seeded split: by class for labelled items, by pair or
    /// triplet otherwise); nil held-out without either.
    func split(_ data: TrainingData) throws -> (TrainingData, HeldOut?) {
        guard validation != nil || validationSplit > 0 else { return (data, nil) }
        guard validationSplit >= 0, validationSplit < 1 else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
        if let validation {
            guard validationSplit == 0 else { throw ValidationError("give --validation FILE or --validation-split F, not both") }
            switch data {
            case .labelled(_, let columns, _):
                let v = try FeatureCSV.read(URL(fileURLWithPath: validation), labelColumn: input.labelColumn)
                guard v.featureColumns == columns else {
                    throw ValidationError("\(validation) has columns \(v.featureColumns), \(input.source) has \(columns)")
                }
                return (data, .items(v.dataset))
            case .pairs(_, let columns), .triplets(_, let columns):
                var options = input
                options.data = validation
                options.idxImages = nil
                options.idxLabels = nil
                let held = try options.load(pairScores: loss == "cosine")
                guard held.columns.count == columns.count else {
                    throw ValidationError("\(validation) has \(held.columns.count) features per item, \(input.source) has \(columns.count)")
                }
                switch (data, held) {
                case (.pairs, .pairs(let p, _)): return (data, try Self.binaryPairs(p, validation))
                case (.triplets, .triplets(let t, _)): return (data, .triplets(t))
                default: throw ValidationError("\(validation) must hold the same kind of records as \(input.source) (pairs or triplets)")
                }
            }
        }
        let fraction = 1 - validationSplit
        switch data {
        case .labelled(let dataset, let columns, let image):
            let (train, held) = try dataset.split(fraction: fraction, seed: seed &+ 2)
            return (.labelled(train, columns: columns, image: image), .items(held))
        case .pairs(let pairs, let columns):
            let (train, held) = try pairs.split(fraction: fraction, seed: seed &+ 2)
            return (.pairs(train, columns: columns), try Self.binaryPairs(held, "--validation-split"))
        case .triplets(let triplets, let columns):
            let (train, held) = try triplets.split(fraction: fraction, seed: seed &+ 2)
            return (.triplets(train, columns: columns), .triplets(held))
        }
    }

    /// Held-out pairs must say same or different (0/1) to be scored and calibrated on.
    static func binaryPairs(_ pairs: PairDataset, _ source: String) throws -> HeldOut {
        guard pairs.hasBinaryLabels else {
            throw ValidationError("\(source): held-out pairs need 0/1 labels to be validated and calibrated on; similarity scores (--loss cosine) are not")
        }
        guard pairs.count > 0 else { throw ValidationError("\(source): no pairs held out; raise --validation-split") }
        return .pairs(pairs)
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
                     _ checkpoints: URL, _ progress: ProgressBar, _ held: HeldOut?, _ fingerprint: String) throws -> TrainingSummary {
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
            let task = try InBatchNegativesTask(data: dataset, loss: MultipleNegativesRankingLoss(scale: lossScale ?? 20), batchSize: batchSize)
            return try fit(model, task, training, checkpoints, progress, held, fingerprint)
        case "multi-similarity", "circle", "supcon":
            let task = try PairMetricTask(data: dataset, loss: try pairMetricLoss(), batchSize: batchSize,
                                          itemsPerClass: MPerClassSampler.itemsPerClass(labels: dataset.labels, batchSize: batchSize))
            return try fit(model, task, training, checkpoints, progress, held, fingerprint)
        case "arcface", "cosface", "proxy-anchor":
            guard distance == "cosine" else { throw ValidationError("--loss \(loss) compares by cosine similarity; drop --distance \(distance)") }
            if let miner { throw ValidationError("--miner \(miner) does not apply to --loss \(loss)") }
            var generator = SeededGenerator(seed: seed &+ 3)
            let kind: ClassWeightTask.Loss = switch loss {
            case "arcface": .arcFace(ArcFaceLoss(marginDegrees: margin ?? 28.6, scale: lossScale ?? 64))
            case "cosface": .cosFace(CosFaceLoss(margin: margin ?? 0.35, scale: lossScale ?? 64))
            default: .proxyAnchor(ProxyAnchorLoss(margin: margin ?? 0.1, alpha: lossAlpha ?? 32))
            }
            let weights = ClassWeights(classes: ClassWeightTask.classCount(dataset), dimension: model.encoder.embeddingDimension,
                                       initialization: loss == "proxy-anchor" ? .kaimingFanOut : .normal, generator: &generator)
            weights.weight.learningRateScale = classLearningRateScale
            let task = try ClassWeightTask(data: dataset, loss: kind, batchSize: batchSize)
            return try fit(NetworkWithClassWeights(network: model, classWeights: weights), task, training, checkpoints, progress, held,
                           fingerprint, network: \.network)
        default:
            throw ValidationError("--loss must be contrastive, online-contrastive, triplet, mnrl, bce, multi-similarity, circle, supcon, arcface, cosface or proxy-anchor (cosine: pre-built pairs only), got \(loss)")
        }
    }

    /// The pytorch-metric-learning pair losses, with pml's defaults; `--miner multi-similarity`
    /// mines the pairs of the multi-similarity loss (ε 0.1). They compare by cosine similarity.
    func pairMetricLoss() throws -> PairMetricTask.Loss {
        guard distance == "cosine" else { throw ValidationError("--loss \(loss) compares by cosine similarity; drop --distance \(distance)") }
        if let miner, !(loss == "multi-similarity" && miner == "multi-similarity") {
            throw ValidationError("--miner \(miner) does not apply to --loss \(loss) (--loss multi-similarity takes --miner multi-similarity)")
        }
        switch loss {
        case "multi-similarity":
            return .multiSimilarity(MultiSimilarityLoss(alpha: lossAlpha ?? 2, beta: lossBeta ?? 50, base: lossBase ?? 0.5,
                                                        miner: miner == nil ? nil : MultiSimilarityMiner()))
        case "circle": return .circle(CircleLoss(m: margin ?? 0.4, gamma: lossScale ?? 80))
        default: return .supCon(SupConLoss(temperature: lossTemperature ?? 0.1))
        }
    }

    /// The encoder the flags describe; image data supply --image and --channels themselves.
    func encoderConfiguration(features: Int, image shape: TrainingData.ImageShape?) throws -> EncoderConfiguration {
        guard dim > 0 else { throw ValidationError("--dim must be positive") }
        let source = input.source
        switch encoder {
        case "mlp":
            if blocks != nil { throw ValidationError("--blocks applies to the cnn and sequence encoders (the mlp takes --layers)") }
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
            return .cnn(CNNConfiguration(channels: size.0, height: size.1, width: size.2, blockChannels: try blocks.map(BlockChannels.parse) ?? [16, 32],
                                         embeddingDimension: dim))
        case "sequence":
            guard channels > 0, features % channels == 0 else {
                throw ValidationError("--encoder sequence: \(features) features do not split into \(channels) channels")
            }
            return .sequence(SequenceConfiguration(channels: channels, length: features / channels,
                                                   blockChannels: try blocks.map(BlockChannels.parse) ?? [32, 64], embeddingDimension: dim))
        default:
            throw ValidationError("--encoder must be mlp, cnn or sequence, got \(encoder)")
        }
    }
}
