/// Images as labelled feature rows, ready for the CNN encoder.
///
/// Row `i` of ``dataset``'s features is image `i`, flattened channels-first
/// (`[channels, height, width]` → `channels × height × width` values), with samples scaled to
/// [0, 1] by the format's maximum value.
public struct ImageDataset: Sendable {
    /// Features `[images, channels × height × width]` and class labels.
    public var dataset: FeatureDataset
    /// 1 for grayscale, 3 for RGB.
    public var channels: Int
    public var height: Int
    public var width: Int
    /// The file of each row, in row order, where images come from files of their own (an image
    /// folder); empty otherwise.
    public var files: [String]

    public init(dataset: FeatureDataset, channels: Int, height: Int, width: Int, files: [String] = []) {
        self.dataset = dataset
        self.channels = channels
        self.height = height
        self.width = width
        self.files = files
    }
}
