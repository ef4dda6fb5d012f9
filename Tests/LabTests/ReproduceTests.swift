import Foundation
import FoundationXML
import Lab
import Linalg
import Testing

@Suite struct ReproduceTests {
    @Test func smokePresetWritesAParsableReportWithEveryFigure() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-reproduce-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ResultStore(path: dir + "/results.sqlite")
        let report = try reproduce(ReproducePreset(.smoke), output: dir, store: store, commandLine: "overparam reproduce --smoke", log: { _ in })
        // The report is well-formed (XHTML), and carries every figure inline.
        let html = try XMLDocument(contentsOf: URL(fileURLWithPath: report.htmlPath))
        let svgs = try html.nodes(forXPath: "//*[local-name()='svg']")
        // Capacity ×3 (×4 with the EMC-gap figure, drawn only from ≥ 2 measured gaps), the
        // recovery heatmap, the adaptivity rates.
        let gap = try #require(report.findings.first { $0.claim.contains("EMC gap") })
        let gapDrawn = try String(contentsOfFile: report.htmlPath, encoding: .utf8).contains("EMC gap (true − random labels) against")
        // The architecture sweeps add two: ResNets' EMC against parameters, and the subspaces.
        #expect(svgs.count == (gapDrawn ? 8 : 7))
        #expect(gapDrawn || gap.verdict == .inconclusive, "\(gap.evidence)")
        let rows = try html.nodes(forXPath: "//table[1]//tr")
        #expect(rows.count == report.findings.count + 1)
        // The instruments' own SVG files parse too.
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir).filter { $0.hasSuffix(".svg") }
        #expect(files.count >= 3)
        for f in files { #expect(try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/" + f)).rootElement()?.name == "svg", "\(f)") }
        // Findings that hold at any budget: the closed-form ranks, and true labels fit better than random ones.
        let rank = try #require(report.findings.first { $0.claim.contains("closed form") })
        #expect(rank.held, "\(rank.evidence)")
        #expect(report.sections.map(\.title).count == 3)
        // Everything was computed here, and the header says so.
        let stored = try store.arithmetics()
        #expect(stored.count == 1 && stored[0].arithmetic == Engine.arithmetic && stored[0].results > 0, "\(stored)")
        #expect(report.computedBy == "\(Engine.arithmetic) (all \(stored[0].results) stored results)")
        #expect(try String(contentsOfFile: report.htmlPath, encoding: .utf8).contains("Computed by: \(report.computedBy)<br/>"))
        // The smoke preset runs every capacity sweep of the full one at toy budgets: each of the
        // EMC paper's findings gets a verdict, and each comparison its interval or why not.
        let capacity = report.findings.filter { $0.instrument == "capacity" }
        for claim in ["true labels than with random", "far below the parameter count", "CNNs fit more random-label samples per parameter",
                      "CNNs fit more true-label samples per parameter", "tanh and sigmoid networks, at every width and depth", "higher test accuracy",
                      "smaller generalization gap",
                      "each at its best learning rate", "learning rate 0.01", "random inputs", "More classes",
                      "ResNets fit more true-label samples per parameter than MLPs on synthetic images (images:160,8x8x1,10)",
                      "ResNets fit more random-label samples per parameter than MLPs on synthetic images (images:160,8x8x1,10)",
                      "ResNet-8's random-label EMC grows with its width", "ResNets fit more random-label samples per parameter than MLPs and ViTs on synthetic colour",
                      "random subspace raises EMC per trained parameter"] {
            #expect(capacity.filter { $0.claim.contains(claim) }.count == 1, "\(claim)")
        }
        #expect(capacity.count == 16, "\(capacity.map(\.claim))")
        for f in capacity where f.claim.contains("per parameter") || f.claim.contains("SGD") || f.claim.contains("classes") || f.claim.contains("inputs") {
            #expect(f.evidence.contains("95% interval") || f.evidence.contains("no interval"), "\(f.claim): \(f.evidence)")
        }
        let gapEvidence = try #require(capacity.first { $0.claim.contains("higher test accuracy") }).evidence
        #expect(gapEvidence.contains("Kendall τ") && gapEvidence.contains("configurations"))
    }
}
