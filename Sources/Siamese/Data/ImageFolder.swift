import FileSupport
import Foundation
import Tensors

/// A folder with one subfolder per class, each holding PGM/PPM, PNG or JPEG images, which may be
/// mixed (see ``ImageFile``):
///
/// ```
/// faces/
///   alice/ 01.pgm 02.png
///   bob/   01.jpg
/// ```
///
/// Classes are the subfolder names, sorted (numerically when every name is an integer, so `2`
/// comes before `10`); images are read in sorted file-name order within each class. Every image
/// must have the same width and height, and every non-hidden file in a class folder must be an
/// image: a stray file is an error, not something skipped without a word. Names starting
/// with `.` are ignored.
public enum ImageFolder {
    /// How channels are chosen.
    public enum Color: Sendable {
        /// Grayscale when every image is grayscale (PGM, gray PNG or JPEG), RGB when every image is
        /// in colour (PPM, colour PNG or JPEG); a mix is an error.
        case automatic
        /// One channel; colour images are converted with the ITU-R BT.601 luma weights
        /// (0.299 R + 0.587 G + 0.114 B).
        case grayscale
        /// Three channels; grayscale images are replicated into R, G and B.
        case rgb
    }

    /// Reads every image; features are `[images, channels × height × width]`, channels-first,
    /// scaled to [0, 1] by each file's maximum sample value.
    public static func read(_ directory: URL, color: Color = .automatic) throws -> ImageDataset {
        let root = directory.path
        let fm = FileManager.default
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        func visible(_ path: String) throws -> [String] {
            do { return try fm.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted() } catch {
                throw InputError(file: path, message: "cannot list the folder (\(error.localizedDescription))")
            }
        }
        guard isDirectory(root) else { throw InputError(file: root, message: "not a folder") }

        var classFolders: [String] = []
        for name in try visible(root) {
            let path = root + "/" + name
            if isDirectory(path) {
                classFolders.append(name)
            } else if ImageFile.extensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()) {
                throw InputError(file: path, message: "images must be inside a class folder (\(root)/CLASS/\(name))")
            }
            // Other top-level files (a README, a labels list) are not images and are left alone.
        }
        guard !classFolders.isEmpty else { throw InputError(file: root, message: "no class folders: expected one subfolder of images per class") }
        let (_, classNames) = ClassNumbering.number(classFolders)

        var images: [(file: String, label: Int, image: PNMImage)] = []
        for (label, name) in classNames.enumerated() {
            let folder = root + "/" + name
            let files = try visible(folder)
            guard !files.isEmpty else { throw InputError(file: folder, message: "empty class folder: every class needs at least one image") }
            for file in files {
                let path = folder + "/" + file
                guard !isDirectory(path) else {
                    throw InputError(file: path, message: "nested folders are not read; put images directly in \(folder)")
                }
                images.append((path, label, try ImageFile.read(URL(fileURLWithPath: path))))
            }
        }

        let first = images[0]
        for item in images.dropFirst() where item.image.width != first.image.width || item.image.height != first.image.height {
            throw InputError(file: item.file, message: "image is \(item.image.width)×\(item.image.height), but \(first.file) is \(first.image.width)×\(first.image.height); all images must have one size")
        }
        let channels: Int
        switch color {
        case .grayscale: channels = 1
        case .rgb: channels = 3
        case .automatic:
            channels = first.image.channels
            if let other = images.first(where: { $0.image.channels != channels }) {
                let kind = { (c: Int) in c == 1 ? "grayscale" : "RGB" }
                throw InputError(file: other.file, message: "image is \(kind(other.image.channels)) but \(first.file) is \(kind(channels)); read with color .grayscale or .rgb to convert")
            }
        }

        let plane = first.image.width * first.image.height
        var features: [Float] = []
        features.reserveCapacity(images.count * channels * plane)
        for item in images {
            features += converted(item.image.samples, from: item.image.channels, to: channels, plane: plane)
        }
        let dataset = try FeatureDataset(features: Tensor(shape: [images.count, channels * plane], features),
                                         labels: images.map(\.label), classNames: classNames)
        return ImageDataset(dataset: dataset, channels: channels, height: first.image.height, width: first.image.width,
                            files: images.map(\.file))
    }

    /// Channels-first samples converted between grayscale and RGB.
    static func converted(_ samples: [Float], from: Int, to: Int, plane: Int) -> [Float] {
        switch (from, to) {
        case (1, 3): return samples + samples + samples
        case (3, 1):
            return (0..<plane).map { p in 0.299 * samples[p] + 0.587 * samples[plane + p] + 0.114 * samples[2 * plane + p] }
        default: return samples
        }
    }
}
