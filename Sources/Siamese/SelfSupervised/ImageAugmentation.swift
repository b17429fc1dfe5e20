import Foundation
import Tensors

/// Seeded image augmentations for self-supervised pre-training (the SimCLR / BYOL recipe, as
/// lightly's transforms): random resized crop, horizontal flip, brightness/contrast jitter,
/// random grayscale (RGB), Gaussian blur, solarisation and random erasing, in that order.
///
/// Images are channels-first `[C, H, W]` samples in [0, 1] (what ``IDX`` and ``ImageFolder``
/// give), C = 1 or 3; the output has the same shape. Every random choice comes from the generator
/// passed in, so the same seed gives the same output on every machine (and a resumed run replays
/// the same views).
public struct ImageAugmentation: Sendable, Codable, Equatable {
    /// Area fraction range of the random resized crop (lightly's small-image default 0.08…1).
    public var cropScale: ClosedRange<Float>
    /// Aspect-ratio range of the crop.
    public var cropRatio: ClosedRange<Float>
    /// Probability of a horizontal flip.
    public var flipProbability: Float
    /// Probability of applying the brightness/contrast jitter.
    public var jitterProbability: Float
    /// Brightness factor drawn from [1 − b, 1 + b].
    public var brightness: Float
    /// Contrast factor drawn from [1 − c, 1 + c].
    public var contrast: Float
    /// Probability of turning an RGB image grey (ignored for one channel).
    public var grayscaleProbability: Float
    /// Probability of a Gaussian blur.
    public var blurProbability: Float
    /// Range of the blur's σ, in pixels.
    public var blurSigma: ClosedRange<Float>
    /// Probability of solarising (values ≥ 0.5 become 1 − value).
    public var solarizeProbability: Float
    /// Probability of erasing a random rectangle (filled with 0).
    public var eraseProbability: Float

    /// - Parameters:
    ///   - cropScale: area fraction range of the crop (0.08…1).
    ///   - cropRatio: aspect-ratio range of the crop (3/4…4/3).
    ///   - flipProbability: horizontal flip (0.5).
    ///   - jitterProbability: brightness/contrast jitter (0.8).
    ///   - brightness: brightness strength (0.4, SimCLR's colour jitter at strength 0.5 is 0.4).
    ///   - contrast: contrast strength (0.4).
    ///   - grayscaleProbability: RGB → grey (0.2).
    ///   - blurProbability: Gaussian blur (0.5; lightly's SimCLR default; 0 for 28×28 digits is common).
    ///   - blurSigma: σ range (0.1…2).
    ///   - solarizeProbability: solarisation (0; BYOL uses 0.2 on its second view).
    ///   - eraseProbability: random erasing (0).
    public init(cropScale: ClosedRange<Float> = 0.08...1, cropRatio: ClosedRange<Float> = (3.0 / 4)...(4.0 / 3),
                flipProbability: Float = 0.5, jitterProbability: Float = 0.8, brightness: Float = 0.4, contrast: Float = 0.4,
                grayscaleProbability: Float = 0.2, blurProbability: Float = 0.5, blurSigma: ClosedRange<Float> = 0.1...2,
                solarizeProbability: Float = 0, eraseProbability: Float = 0) {
        self.cropScale = cropScale; self.cropRatio = cropRatio
        self.flipProbability = flipProbability
        self.jitterProbability = jitterProbability; self.brightness = brightness; self.contrast = contrast
        self.grayscaleProbability = grayscaleProbability
        self.blurProbability = blurProbability; self.blurSigma = blurSigma
        self.solarizeProbability = solarizeProbability
        self.eraseProbability = eraseProbability
    }

    /// Nothing random: every probability 0 and a crop of the whole image (the identity).
    public static let identity = ImageAugmentation(cropScale: 1...1, cropRatio: 1...1, flipProbability: 0, jitterProbability: 0,
                                                   grayscaleProbability: 0, blurProbability: 0)

    /// One augmented view of a `[C, H, W]` image (row-major samples), same shape.
    public func callAsFunction(_ image: [Float], channels: Int, height: Int, width: Int, generator g: inout SeededGenerator) -> [Float] {
        ensure(image.count == channels * height * width && channels > 0, "ImageAugmentation: \(image.count) values are not a \(channels)×\(height)×\(width) image")
        var x = Self.resizedCrop(image, channels: channels, height: height, width: width, scale: cropScale, ratio: cropRatio, generator: &g)
        if g.nextUniform() < flipProbability { x = Self.flipped(x, channels: channels, height: height, width: width) }
        if g.nextUniform() < jitterProbability {
            let b = 1 + brightness * (2 * g.nextUniform() - 1)
            let c = 1 + contrast * (2 * g.nextUniform() - 1)
            x = Self.jittered(x, channels: channels, brightness: b, contrast: c)
        }
        if channels == 3, g.nextUniform() < grayscaleProbability { x = Self.grayscale(x, pixels: height * width) }
        if g.nextUniform() < blurProbability {
            let sigma = blurSigma.lowerBound + (blurSigma.upperBound - blurSigma.lowerBound) * g.nextUniform()
            x = Self.blurred(x, channels: channels, height: height, width: width, sigma: sigma)
        }
        if g.nextUniform() < solarizeProbability { x = Self.solarized(x) }
        if g.nextUniform() < eraseProbability { x = Self.erased(x, channels: channels, height: height, width: width, generator: &g) }
        return x
    }

    /// torchvision's `RandomResizedCrop`: up to 10 draws of an area fraction and a log-uniform
    /// aspect ratio that fit, else the centre crop of the clamped ratio; resized back to H × W
    /// bilinearly (half-pixel centres, as `align_corners=False`). An area fraction of 1 keeps the
    /// whole image whatever its aspect ratio (torchvision would still crop a non-square image to
    /// the ratio range), so that ``identity`` is the identity on every image.
    static func resizedCrop(_ x: [Float], channels: Int, height: Int, width: Int, scale: ClosedRange<Float>, ratio: ClosedRange<Float>,
                            generator g: inout SeededGenerator) -> [Float] {
        if scale.lowerBound >= 1 { return x }
        let area = Float(height * width)
        var box: (top: Int, left: Int, h: Int, w: Int)? = nil
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * g.nextUniform())
            let logLow = Foundation.log(ratio.lowerBound), logHigh = Foundation.log(ratio.upperBound)
            let aspect = Foundation.exp(logLow + (logHigh - logLow) * g.nextUniform())
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w > 0, h > 0, w <= width, h <= height {
                box = (g.nextInt(below: height - h + 1), g.nextInt(below: width - w + 1), h, w)
                break
            }
        }
        if box == nil {
            // torchvision's fallback: the centre crop with the ratio clamped to the range.
            let inRatio = Float(width) / Float(height)
            var w = width, h = height
            if inRatio < ratio.lowerBound { h = max(1, Int((Float(w) / ratio.lowerBound).rounded())) }
            else if inRatio > ratio.upperBound { w = max(1, Int((Float(h) * ratio.upperBound).rounded())) }
            box = ((height - h) / 2, (width - w) / 2, h, w)
        }
        let b = box!
        if b.h == height && b.w == width { return x }
        var out = [Float](repeating: 0, count: x.count)
        let sy = Float(b.h) / Float(height), sx = Float(b.w) / Float(width)
        for y in 0..<height {
            let fy = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(b.h - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, b.h - 1), wy = fy - Float(y0)
            for xx in 0..<width {
                let fx = min(max((Float(xx) + 0.5) * sx - 0.5, 0), Float(b.w - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, b.w - 1), wx = fx - Float(x0)
                for c in 0..<channels {
                    let base = c * height * width
                    func at(_ r: Int, _ q: Int) -> Float { x[base + (b.top + r) * width + b.left + q] }
                    let top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
                    let bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
                    out[base + y * width + xx] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return out
    }

    /// Mirrored left to right.
    static func flipped(_ x: [Float], channels: Int, height: Int, width: Int) -> [Float] {
        var out = x
        for row in 0..<(channels * height) {
            for q in 0..<width { out[row * width + q] = x[row * width + width - 1 - q] }
        }
        return out
    }

    /// Brightness (scale) then contrast (blend with the mean grey level), clamped to [0, 1], as torchvision.
    static func jittered(_ x: [Float], channels: Int, brightness: Float, contrast: Float) -> [Float] {
        let bright = x.map { min(max($0 * brightness, 0), 1) }
        let pixels = x.count / channels
        let grey = channels == 3 ? grayscale(bright, pixels: pixels) : bright
        let mean = grey.prefix(pixels).reduce(0, +) / Float(max(pixels, 1))
        return bright.map { min(max(($0 - mean) * contrast + mean, 0), 1) }
    }

    /// ITU-R 601 luma (torchvision's weights) copied to the three channels.
    static func grayscale(_ x: [Float], pixels: Int) -> [Float] {
        var out = x
        for p in 0..<pixels {
            let l = 0.299 * x[p] + 0.587 * x[pixels + p] + 0.114 * x[2 * pixels + p]
            out[p] = l; out[pixels + p] = l; out[2 * pixels + p] = l
        }
        return out
    }

    /// Separable Gaussian blur with radius ⌈3σ⌉ (at most a third of the image), edges replicated.
    static func blurred(_ x: [Float], channels: Int, height: Int, width: Int, sigma: Float) -> [Float] {
        let radius = max(1, min(Int((3 * sigma).rounded(.up)), max(1, min(height, width) / 3)))
        var kernel = (-radius...radius).map { Foundation.exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var tmp = x, out = x
        for c in 0..<channels {
            let base = c * height * width
            for y in 0..<height {
                for q in 0..<width {
                    var s: Float = 0
                    for (k, w) in kernel.enumerated() { s += w * x[base + y * width + min(max(q + k - radius, 0), width - 1)] }
                    tmp[base + y * width + q] = s
                }
            }
            for y in 0..<height {
                for q in 0..<width {
                    var s: Float = 0
                    for (k, w) in kernel.enumerated() { s += w * tmp[base + min(max(y + k - radius, 0), height - 1) * width + q] }
                    out[base + y * width + q] = s
                }
            }
        }
        return out
    }

    /// Values ≥ 0.5 become 1 − value (lightly's `RandomSolarization`, threshold 0.5).
    static func solarized(_ x: [Float]) -> [Float] { x.map { $0 >= 0.5 ? 1 - $0 : $0 } }

    /// torchvision's `RandomErasing` (area 2–33 %, ratio 0.3–3.3, up to 10 draws), filled with 0
    /// in every channel.
    static func erased(_ x: [Float], channels: Int, height: Int, width: Int, generator g: inout SeededGenerator) -> [Float] {
        let area = Float(height * width)
        for _ in 0..<10 {
            let target = area * (0.02 + 0.31 * g.nextUniform())
            let aspect = Foundation.exp(Foundation.log(Float(0.3)) + (Foundation.log(Float(3.3)) - Foundation.log(Float(0.3))) * g.nextUniform())
            let h = Int((target * aspect).squareRoot().rounded()), w = Int((target / aspect).squareRoot().rounded())
            guard h > 0, w > 0, h < height, w < width else { continue }
            let top = g.nextInt(below: height - h + 1), left = g.nextInt(below: width - w + 1)
            var out = x
            for c in 0..<channels {
                for y in top..<(top + h) { for q in left..<(left + w) { out[c * height * width + y * width + q] = 0 } }
            }
            return out
        }
        return x
    }
}
