import Foundation
import Recovery

/// The tangent spectrum of a rank report: singular values on a log scale, the tolerance, and
/// the cut between σ_r and σ_{r+1}. Exact zeros (no place on a log axis) are left out and counted in the title.
public func spectrumPlot(_ r: RankReport) -> Plot {
    let positive = r.singularValues.enumerated().filter { $0.element > 0 }
    let zeros = r.singularValues.count - positive.count
    var title = "\(r.model) at \(r.target): rank \(r.modelRank) of \(r.parameters) parameters"
    if let t = r.theory { title += " (theory \(t.kind == .exact ? "" : "≤ ")\(t.value))" }
    if zeros > 0 { title += "; \(zeros) exact zero\(zeros == 1 ? "" : "s") not shown" }
    var p = Plot(title: title, xLabel: "index i of σ_i (\(r.inputs) inputs)", yLabel: "singular value σ_i", logY: true)
    p.series.append(.init("σ_i", positive.map { (Double($0.offset + 1), $0.element) }))
    let top = max(positive.first?.element ?? 1, r.tolerance) * 2
    let bottom = min(positive.last?.element ?? r.tolerance, r.tolerance) / 2
    if r.tolerance > 0 {
        p.series.append(.init("tolerance \(shortNumber(r.tolerance))", [(1, r.tolerance), (Double(max(r.singularValues.count, 2)), r.tolerance)], style: .dashed))
    }
    p.series.append(.init("cut: rank \(r.modelRank)", [(Double(r.modelRank) + 0.5, bottom), (Double(r.modelRank) + 0.5, top)], style: .line))
    return p
}

func shortNumber(_ v: Double) -> String {
    var s = String(format: "%.1e", v)
    s = s.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
    return s
}
