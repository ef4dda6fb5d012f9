import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Lab
import Testing

/// Counts elements by name and collects text, parsing the SVG as XML (so it must be well formed).
final class SVGCounter: NSObject, XMLParserDelegate {
    var counts = [String: Int]()
    var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        counts[name, default: 0] += 1
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { text += "|" }
    }
}

func parseSVG(_ svg: String) -> SVGCounter? {
    let c = SVGCounter()
    let p = XMLParser(data: Data(svg.utf8))
    p.delegate = c
    return p.parse() ? c : nil
}

@Suite struct PlotTests {
    @Test func logLogScatterWithFittedLine() throws {
        var plot = Plot(title: "EMC vs parameters <MLP & CNN>", xLabel: "parameters", yLabel: "EMC (samples)", logX: true, logY: true)
        plot.series.append(.init("MLP", [(1e3, 300), (1e4, 900), (1e5, 2000)]))
        plot.series.append(.init("CNN", [(2e3, 800), (2e4, 3000)]))
        plot.series.append(.init("fit", [(1e3, 280), (1e5, 2100)], style: .dashed))
        let svg = try plot.svg()
        let c = try #require(parseSVG(svg))
        #expect(c.counts["svg"] == 1 && c.counts["path"] == 1)
        #expect(c.counts["circle"] == 5 + 2, "five points and two legend marks")
        let labels = Set(c.text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(labels.isSuperset(of: ["EMC vs parameters <MLP & CNN>", "100", "1000", "10000", "1e5", "MLP", "CNN", "fit", "parameters", "EMC (samples)"]), "\(labels)")
    }

    @Test func linearAxesAndBadInput() throws {
        var plot = Plot(title: "gap vs generalization", xLabel: "EMC gap", yLabel: "test accuracy")
        plot.series.append(.init("runs", [(-3, 0.5), (10, 0.9), (4, 0.7)]))
        #expect(parseSVG(try plot.svg()) != nil)
        var bad = Plot(title: "t", xLabel: "x", yLabel: "y", logY: true)
        bad.series.append(.init("s", [(1, 0)]))
        #expect(throws: Plot.PlotError.self) { try bad.svg() }
        #expect(throws: Plot.PlotError.self) { try Plot(title: "empty", xLabel: "x", yLabel: "y").svg() }
    }
}
