import Foundation
import FoundationXML
import Lab
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
        #expect(svgs.count == (gapDrawn ? 6 : 5))
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
        #expect(report.findings.count >= 8)
    }
}
