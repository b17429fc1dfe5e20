import FileSupport
import Foundation
import Siamese
import Tensors

/// Image input for `siamese embed` with a Siamese model: a folder laid out as for `train` (one
/// subfolder per class; rows in the order `train` reads them: class folders sorted, then file
/// names), one image file (one row), or an IDX image file, raw or .gz (one row per image). Any mix of PGM/PPM, PNG and JPEG (see ``ImageFile``);
/// images are converted to the model's channel count, and their size must be the model's.
enum EmbedImages {
    /// The feature rows of `url`, or nil when it is neither a folder nor an image file (the
    /// caller then reads it as CSV).
    static func features(_ url: URL, model: ModelFolder.Configuration, featureCount: Int) throws -> Tensor? {
        if IDX.isImageFile(url) {
            let images = try IDX.readUnlabelled(url)
            guard images.dataset.featureCount == featureCount else {
                throw InputError(file: url.path, message: "images are \(images.width)×\(images.height) = \(images.dataset.featureCount) features, but the model reads \(featureCount)")
            }
            return images.dataset.features
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let isImage = ImageFile.extensions.contains(url.pathExtension.lowercased())
        guard exists, isDirectory.boolValue || isImage else { return nil }
        // The model's image shape: a CNN's own, or for another encoder the channel count whose
        // size matches its inputs (checked per image below).
        var shape: (channels: Int, height: Int, width: Int)?
        if case .cnn(let c) = model.encoder { shape = (c.channels, c.height, c.width) }
        if isDirectory.boolValue {
            let channels = shape?.channels
            let images = try ImageFolder.read(url, color: channels == 1 ? .grayscale : channels == 3 ? .rgb : .automatic)
            guard images.dataset.featureCount == featureCount else {
                throw InputError(file: url.path, message: "images are \(images.width)×\(images.height) with \(images.channels) channel(s) = \(images.dataset.featureCount) features, but the model reads \(featureCount)\(shape.map { " (\($0.height)×\($0.width)×\($0.channels))" } ?? "")")
            }
            return images.dataset.features
        }
        let image = try ImageFile.read(url)
        let plane = image.width * image.height
        let candidates = shape.map { [$0.channels] } ?? [image.channels, 1, 3]
        guard let channels = candidates.first(where: { $0 * plane == featureCount }) else {
            throw InputError(file: url.path, message: "image is \(image.width)×\(image.height) with \(image.channels) channel(s), but the model reads \(featureCount) features\(shape.map { " (\($0.height)×\($0.width)×\($0.channels))" } ?? "")")
        }
        return Tensor(shape: [1, featureCount], image.samples(channels: channels))
    }
}
