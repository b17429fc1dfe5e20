import CImageCodecs
import FileSupport

/// PNG and JPEG decoding through the system's libpng 1.6 and libjpeg 6.2 (libjpeg-turbo), which
/// are loaded on first use (`dlopen`): the package builds without them, and a machine without
/// them gets an error naming the Debian package to install (`libpng16-16`, `libjpeg62-turbo`).
/// `SIAMESE_LIBPNG` / `SIAMESE_LIBJPEG` name a library outside the loader's search path.
///
/// Both decode to 8-bit samples and return a ``PNMImage`` with `maxValue` 255, scaled and laid
/// out exactly as a PGM/PPM with the same pixels, so one image folder may mix the formats:
/// - grayscale files give 1 channel, colour and palette files 3;
/// - alpha is dropped and the stored colour kept, as Pillow's `convert("RGB")` does;
/// - 16-bit PNGs are rounded to 8 bits (a 16-bit PGM keeps all 16);
/// - libpng converts a PNG whose gAMA chunk declares another gamma to sRGB; files without one
///   (and 16-bit files without one) are taken as they are;
/// - JPEG "corrupt data" warnings, a truncated file among them, are errors: libjpeg would fill
///   the rest with gray.
///
/// A header that declares more than ``ImageFile/maxPixels`` pixels is refused before any raster
/// is allocated.
enum ImageCodecs {
    /// Decodes a PNG file's bytes; `file` names it in errors.
    static func decodePNG(_ bytes: [UInt8], file: String, maxPixels: Int) throws -> PNMImage {
        try decode(bytes, file: file, maxPixels: maxPixels, siamese_decode_png)
    }

    /// Decodes a JPEG file's bytes; `file` names it in errors.
    static func decodeJPEG(_ bytes: [UInt8], file: String, maxPixels: Int) throws -> PNMImage {
        try decode(bytes, file: file, maxPixels: maxPixels, siamese_decode_jpeg)
    }

    private typealias Decoder = (UnsafeRawPointer?, Int, UInt64, UnsafeMutablePointer<siamese_decoded_image>?) -> Int32

    private static func decode(_ bytes: [UInt8], file: String, maxPixels: Int, _ decoder: Decoder) throws -> PNMImage {
        var image = siamese_decoded_image()
        let status = bytes.withUnsafeBytes { decoder($0.baseAddress, $0.count, UInt64(max(0, maxPixels)), &image) }
        defer { siamese_image_free(&image) }
        guard status == Int32(SIAMESE_IMAGE_OK.rawValue), let pixels = image.pixels else {
            let message = withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw InputError(file: file, message: message.isEmpty ? "cannot be decoded" : message)
        }
        let width = Int(image.width), height = Int(image.height), channels = Int(image.channels)
        let plane = width * height
        // Interleaved bytes in; channels-first planes divided by 255 out, as PNM.decode does.
        var samples = [Float](repeating: 0, count: plane * channels)
        for p in 0..<plane {
            for c in 0..<channels { samples[c * plane + p] = Float(pixels[p * channels + c]) / 255 }
        }
        return PNMImage(width: width, height: height, channels: channels, maxValue: 255, samples: samples)
    }
}
