import Foundation
import Lab
import Recovery
import Testing

@Suite struct RankPlotTests {
    @Test func spectrumShowsTheCutAndThinsDecadeLabels() throws {
        let r = try modelRank(spec: "mlp:5-20-1:tanh:nobias", target: "teacher:3")
        let c = try #require(parseSVG(try spectrumPlot(r).svg()))
        let positive = r.singularValues.filter { $0 > 0 }.count
        #expect(c.counts["circle"] == positive + 1, "one dot per positive singular value and one legend mark")
        #expect(c.counts["path"] == 2, "the tolerance and the cut")
        let labels = c.text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(labels.contains("cut: rank 18") && labels.contains { $0.hasPrefix("tolerance ") })
        #expect(labels.contains { $0.contains("rank 18 of 120 parameters (theory 18)") })
        // The spectrum spans dozens of decades: at most about eight labelled ones.
        let decadeLabels = labels.filter { $0 == "1" || $0.hasPrefix("1e") }
        #expect(decadeLabels.count >= 3 && decadeLabels.count <= 9, "\(decadeLabels)")
    }
}
