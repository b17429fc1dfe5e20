import Foundation

/// A small inline-SVG chart: axes with ticks and labels, polylines, filled step series and marker
/// lines. Enough for ROC, DET and histograms without a plotting library or any script.
struct SVGPlot {
    enum Scale {
        case linear
        case log10
        /// Normal-deviate (probit) scale, the DET convention.
        case probit
    }

    struct Axis {
        var label: String
        var scale: Scale
        var min: Double
        var max: Double
        var ticks: [(value: Double, label: String)]

        /// Position in [0, 1] along the axis, values outside the range clamped to its ends.
        func unit(_ v: Double) -> Double {
            let c = Swift.min(Swift.max(v, min), max)
            switch scale {
            case .linear: return (c - min) / (max - min)
            case .log10: return (Foundation.log10(c) - Foundation.log10(min)) / (Foundation.log10(max) - Foundation.log10(min))
            case .probit:
                let a = NormalDistribution.quantile(min), b = NormalDistribution.quantile(max)
                return (NormalDistribution.quantile(c) - a) / (b - a)
            }
        }
    }

    struct Series {
        enum Style { case line, dashed, filledSteps }
        var name: String
        var color: String
        var style: Style
        var points: [(Double, Double)]
    }

    struct Marker {
        var x: Double
        var label: String
        var color: String
    }

    var title: String
    var width = 520.0
    var height = 400.0
    var x: Axis
    var y: Axis
    var series: [Series] = []
    var markers: [Marker] = []
    /// Points drawn as labelled dots (for example the operating point on a ROC curve).
    var dots: [(x: Double, y: Double, label: String, color: String)] = []
    /// Sentences drawn in the middle of the frame, for when there is nothing (or not everything) to draw.
    var notes: [String] = []

    private let left = 64.0, right = 16.0, top = 52.0, bottom = 52.0

    private func px(_ v: Double) -> Double { left + x.unit(v) * (width - left - right) }
    private func py(_ v: Double) -> Double { height - bottom - y.unit(v) * (height - top - bottom) }

    func render() -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">\n"
        s += "<title>\(HTML.escape(title))</title>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(height - top - bottom))\" fill=\"#fff\" stroke=\"#999\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" class=\"plot-title\">\(HTML.escape(title))</text>\n"
        // Labels closer than a label's width to the previous one are skipped (probit axes bunch
        // their small ticks together); the grid line stays.
        var lastLabel = -Double.infinity
        for t in x.ticks {
            let p = px(t.value)
            s += "<line x1=\"\(f(p))\" y1=\"\(f(top))\" x2=\"\(f(p))\" y2=\"\(f(height - bottom))\" class=\"grid\"/>"
            if p - lastLabel >= Double(t.label.count) * 6.5 + 6 {
                s += "<text x=\"\(f(p))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\" class=\"tick\">\(HTML.escape(t.label))</text>\n"
                lastLabel = p
            }
        }
        lastLabel = Double.infinity
        for t in y.ticks {
            let p = py(t.value)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(p))\" x2=\"\(f(width - right))\" y2=\"\(f(p))\" class=\"grid\"/>"
            if lastLabel - p >= 14 {
                s += "<text x=\"\(f(left - 6))\" y=\"\(f(p + 4))\" text-anchor=\"end\" class=\"tick\">\(HTML.escape(t.label))</text>\n"
                lastLabel = p
            }
        }
        s += "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\" class=\"axis-label\">\(HTML.escape(x.label))</text>\n"
        s += "<text transform=\"translate(16 \(f(top + (height - top - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(HTML.escape(y.label))</text>\n"
        for line in series {
            guard !line.points.isEmpty else { continue }
            switch line.style {
            case .line, .dashed:
                let d = line.points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
                let dash = line.style == .dashed ? " stroke-dasharray=\"5 4\"" : ""
                s += "<polyline class=\"series\" data-series=\"\(HTML.escape(line.name))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\"\(dash) points=\"\(d)\"/>\n"
            case .filledSteps:
                // points are (left edge, height) per bin with a final (right edge, 0).
                var d = "M\(f(px(line.points[0].0))),\(f(py(y.min)))"
                for k in 0..<(line.points.count - 1) {
                    let (x0, h) = line.points[k], x1 = line.points[k + 1].0
                    d += " L\(f(px(x0))),\(f(py(h))) L\(f(px(x1))),\(f(py(h)))"
                }
                d += " L\(f(px(line.points[line.points.count - 1].0))),\(f(py(y.min))) Z"
                s += "<path class=\"series\" data-series=\"\(HTML.escape(line.name))\" d=\"\(d)\" fill=\"\(line.color)\" fill-opacity=\"0.35\" stroke=\"\(line.color)\" stroke-width=\"1.5\"/>\n"
            }
        }
        for m in markers {
            let p = px(m.x)
            s += "<line class=\"marker\" x1=\"\(f(p))\" y1=\"\(f(top))\" x2=\"\(f(p))\" y2=\"\(f(height - bottom))\" stroke=\"\(m.color)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>"
            let anchor = p > width * 0.7 ? "end" : "start"
            let tx = anchor == "end" ? p - 4 : p + 4
            s += "<text x=\"\(f(tx))\" y=\"\(f(top + 14))\" text-anchor=\"\(anchor)\" class=\"marker-label\" fill=\"\(m.color)\">\(HTML.escape(m.label))</text>\n"
        }
        for dot in dots {
            let cx = px(dot.x), cy = py(dot.y)
            s += "<circle class=\"dot\" cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"5\" fill=\"\(dot.color)\" stroke=\"#fff\" stroke-width=\"1.5\"/>"
            let anchor = cx > width * 0.6 ? "end" : "start"
            let tx = anchor == "end" ? cx - 8 : cx + 8
            // Above the dot unless that would leave the frame, then below it.
            let ty = cy - 8 < top + 12 ? cy + 18 : cy - 8
            s += "<text x=\"\(f(tx))\" y=\"\(f(ty))\" text-anchor=\"\(anchor)\" class=\"marker-label\" fill=\"\(dot.color)\">\(HTML.escape(dot.label))</text>\n"
        }
        for (k, note) in notes.enumerated() {
            s += "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(top + (height - top - bottom) / 2 + Double(k) * 16))\" text-anchor=\"middle\" class=\"note-text\">\(HTML.escape(note))</text>\n"
        }
        // Legend in a strip between the title and the frame, so it never hides the data or a marker.
        let named = series.filter { !$0.name.isEmpty }
        var lx = left
        for line in named {
            s += "<rect x=\"\(f(lx))\" y=\"30\" width=\"14\" height=\"9\" fill=\"\(line.color)\"/>"
            s += "<text x=\"\(f(lx + 19))\" y=\"39\" class=\"legend\">\(HTML.escape(line.name))</text>\n"
            lx += 19 + Double(line.name.count) * 7 + 18
        }
        s += "</svg>"
        return s
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

enum HTML {
    /// Escapes text for element content and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
