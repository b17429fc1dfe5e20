import ArgumentParser
import FileSupport
import Foundation
import NN
import Siamese

/// `siamese train --init-from DIR`: fine-tuning from a saved model (typically one `siamese
/// pretrain` wrote). The new model takes the folder's encoder architecture and weights; the
/// comparison and any learned head are built fresh for the new loss.
extension TrainCommand {
    /// The folder's model and configuration, checked against the training data's shape.
    func initialModel(features: Int, image: TrainingData.ImageShape?) throws -> (SiameseNetwork, ModelFolder.Configuration)? {
        guard let initFrom else { return nil }
        let (model, config) = try ModelFolder(URL(fileURLWithPath: initFrom)).load()
        guard config.encoder.inputFeatures == features else {
            throw InputError(file: initFrom, message: "the model's encoder reads \(config.encoder.inputFeatures) features, but \(input.source) has \(features) per item")
        }
        if let image, case .cnn(let c) = config.encoder, (c.channels, c.height, c.width) != (image.channels, image.height, image.width) {
            throw InputError(file: initFrom, message: "the model reads \(c.channels)×\(c.height)×\(c.width) images, but \(input.source) holds \(image.channels)×\(image.height)×\(image.width)")
        }
        return (model, config)
    }

    /// Copies the initial encoder's weights and running statistics into the model about to be trained.
    func applyInitialWeights(_ initial: (SiameseNetwork, ModelFolder.Configuration)?, to model: SiameseNetwork) {
        guard let initial else { return }
        copyWeights(from: initial.0.encoder, to: model.encoder)
    }
}
