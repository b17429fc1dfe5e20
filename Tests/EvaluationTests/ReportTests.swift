import Evaluation
import Foundation
import Testing

@Suite("Reports: JSON and self-contained HTML")
struct ReportTests {
    private func report(group: Bool = true) throws -> VerificationReport {
        let pairs = try ScoredPairsCSV.read(try Fixture.url("pairs_continuous.csv"), columns: .init(group: group ? "group" : nil))
        return try VerificationReport.evaluate(pairs, options: .init(rule: .targetFAR(0.05), source: "pairs_continuous.csv", groupColumn: group ? "group" : nil))
    }

    @Test("JSON carries the headline numbers, equal to scikit-learn's, and per-group far/frr")
    func json() throws {
        let r = try report()
        let reference = try #require(try Fixture.json("verification_reference.json").object("sets")?.object("continuous"))
        let text = r.json.serialized()
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(close(parsed.double("auc"), reference.double("auc"), 1e-14))
        #expect(close(parsed.double("eer"), reference.double("eer"), 1e-10))
        #expect(parsed.double("eer_threshold") == reference.double("eer_threshold"))
        let rule = try #require(reference.object("rules")?.object("target_far:0.05"))
        #expect(parsed.double("threshold") == rule.double("threshold"))
        #expect(close(parsed.double("far"), rule.double("far")) && close(parsed.double("frr"), rule.double("frr")))
        let groups = try #require(parsed.object("groups"))
        #expect(groups.keys.sorted() == ["east", "north", "south"])
        for (_, g) in groups {
            let g = try #require(g as? [String: Any])
            #expect(g.double("far") != nil && g.double("frr") != nil)
        }
        #expect(parsed.object("group_audit")?["flagged"] is Bool)
        #expect((parsed.object("roc")?["far"] as? [Any])?.isEmpty == false)
        #expect(!text.contains("nan") && !text.contains("inf\""))  // the ROC's infinite first threshold is null
    }

    @Test("HTML is self-contained and has the three plots, the threshold marker and the group table")
    func html() throws {
        let html = HTMLReport.render(try report(), title: "Test <report>")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        #expect(html.contains("<title>ROC</title>") && html.contains("<title>DET</title>") && html.contains("<title>Score distributions</title>"))
        #expect(html.contains("False-accept rate (log scale)"))
        #expect(html.contains("class=\"marker\""))  // threshold line on the histogram
        #expect(html.contains("data-series=\"same (180)\"") && html.contains("data-series=\"different (220)\""))
        #expect(html.contains("<table id=\"groups\">") && html.contains("<td>north</td>"))
        #expect(html.contains("Test &lt;report&gt;") && !html.contains("Test <report>"))
        // Every SVG coordinate is a finite number.
        #expect(!html.contains("nan") && !html.contains("inf,") && !html.contains("=\"inf"))
    }

    @Test("the threshold falls on a histogram edge: bars right of it hold exactly the accepted pairs", arguments: ["ties", "distance", "continuous"])
    func histogramEdges(name: String) throws {
        let (pairs, curve, _) = try ReferenceSet(name: name).load()
        let direction = curve.direction
        for rule in [ThresholdRule.maxF1, .equalErrorRate, .targetFAR(0.2)] {
            let r = try VerificationReport.evaluate(pairs, options: .init(direction: direction, rule: rule))
            let h = r.histogram, t = r.operatingPoint.threshold, c = r.operatingPoint.counts
            let k = try #require(h.edges.firstIndex { abs($0 - t) <= 1e-12 * max(1, abs(t)) }, "threshold \(t) is not an edge")
            let upperGenuine = h.genuine[k...].reduce(0, +), upperImpostor = h.impostor[k...].reduce(0, +)
            if direction == .higherIsSame {
                #expect(upperGenuine == c.truePositives && upperImpostor == c.falsePositives)
            } else {
                #expect(upperGenuine == c.falseNegatives && upperImpostor == c.trueNegatives)
            }
            #expect(h.genuine.reduce(0, +) == pairs.genuineCount && h.impostor.reduce(0, +) == pairs.impostorCount)
        }
    }

    @Test("user-supplied group names are escaped")
    func escaping() throws {
        let pairs = try ScoredPairs(scores: [0.1, 0.9, 0.2, 0.8], labels: [false, true, false, true],
                                    groups: ["<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>", "b&c", "b&c"])
        let r = try VerificationReport.evaluate(pairs, options: .init(groupColumn: "g"))
        let html = HTMLReport.render(r)
        #expect(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;") && html.contains("b&amp;c"))
    }

    @Test("the text summary names the threshold rule and the audit verdict")
    func text() throws {
        let s = try report().textSummary
        #expect(s.contains("AUC") && s.contains("EER") && s.contains("target FAR ≤ 0.05") && s.contains("FAR gap"))
    }
}
