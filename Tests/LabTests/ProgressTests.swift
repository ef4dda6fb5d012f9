import Lab
import Testing

@Suite struct ProgressTests {
    @Test func barFillsInProportionAndCounts() {
        let bar = ProgressBar(total: 8, unit: "configurations", visible: false)
        #expect(bar.line().hasPrefix("[░░░░░░░░░░░░░░░░░░░░░░░░] 0/8 configurations · 0:00"))
        #expect(!bar.line().contains("ETA"), "no pace yet, no estimate")
        bar.update(done: 2, detail: "5 attempts")
        #expect(bar.line().hasPrefix("[██████░░░░░░░░░░░░░░░░░░] 2/8 configurations · 5 attempts · 0:00 · ETA ~0:00"))
        bar.update(done: 8)
        #expect(bar.line() == "[████████████████████████] 8/8 configurations · 5 attempts · 0:00")
    }
}
