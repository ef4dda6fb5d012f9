import Capacity
import Foundation
import Linalg
import NeuralNets

// The EMC-gap study of a sweep with `generalization: N`: each configuration's true- and
// random-label EMCs against its generalization at N training samples, and their correlations.

/// One configuration (all axes but the condition) in the generalization study.
public struct GapPoint: Sendable {
    public var label: String
    public var emcTrue: Double
    public var emcRandom: Double
    public var testAccuracy: Double
    public var generalizationGap: Double
    /// Both EMCs measured (each search ended on a converged failure).
    public var measured: Bool = true
    /// Neither EMC censored by the data, and both under the same step cap: a gap between the
    /// capped procedure's EMCs, correlated alongside measured ones (a budget-bounded EMC is the
    /// measured EMC of the procedure as capped; see `EMCReport.comparison`). A censored EMC is
    /// a lower bound set by the data, and its gap is not a number.
    public var comparable: Bool = true
    public var emcGap: Double { emcTrue - emcRandom }

    public init(label: String, emcTrue: Double, emcRandom: Double, testAccuracy: Double, generalizationGap: Double,
                measured: Bool = true, comparable: Bool = true) {
        self.label = label; self.emcTrue = emcTrue; self.emcRandom = emcRandom; self.testAccuracy = testAccuracy
        self.generalizationGap = generalizationGap; self.measured = measured; self.comparable = comparable
    }
}

public struct GapStudy: Sendable {
    /// Every configuration, measured or not; the correlations use `correlated` alone.
    public var points: [GapPoint]
    public var correlated: [GapPoint] { points.filter(\.comparable) }
    /// Correlated points resting on a budget-bounded EMC (the capped procedure's).
    public var atCap: Int { correlated.filter { !$0.measured }.count }
    public var pearsonGap: Double?
    public var kendallGap: Double?
    public var pearsonAccuracy: Double?
    public var kendallAccuracy: Double?
    /// Configurations left out because their generalization training diverged (no test accuracy).
    public var diverged: [String] = []

    /// The study of `points`, its correlations over the comparable ones.
    public init(points: [GapPoint]) {
        self.points = points
        let used = points.filter(\.comparable), gaps = used.map(\.emcGap)
        pearsonGap = pearson(gaps, used.map(\.generalizationGap)); kendallGap = kendallTau(gaps, used.map(\.generalizationGap))
        pearsonAccuracy = pearson(gaps, used.map(\.testAccuracy)); kendallAccuracy = kendallTau(gaps, used.map(\.testAccuracy))
    }

    public var summary: String {
        func f(_ v: Double?) -> String { v.map { String(format: "%+.3f", $0) } ?? "undefined" }
        let left = points.count - correlated.count
        return "EMC gap vs generalization gap over \(correlated.count) configurations"
            + (atCap > 0 ? " (\(atCap) of them budget-bounded: EMCs of the procedure at its step cap)" : "")
            + (left > 0 ? " (\(left) left out: a censored EMC, or EMCs under different caps, have no gap)" : "")
            + (diverged.isEmpty ? "" : " (\(diverged.count) left out: generalization training diverged)") + ": Pearson r \(f(pearsonGap)), Kendall τ \(f(kendallGap)); vs test accuracy: r \(f(pearsonAccuracy)), τ \(f(kendallAccuracy))"
    }
}

/// Pairs each configuration's true- and random-label EMC, measures its generalization at
/// `trainSize`, and correlates; writes generalization.csv and emc-gap-vs-generalization.svg.
public func relateGapToGeneralization(_ spec: SweepSpec, _ rows: [SweepRow], trainSize: Int, store: (any Store)? = nil,
                                      log: ((String) -> Void)? = nil) throws -> GapStudy {
    let others = spec.varying.filter { $0 != "condition" }
    func key(_ r: SweepRow) -> String { others.map { "\($0)=\(r.settings[$0]!)" }.joined(separator: " ") }
    var points = [GapPoint](), diverged = [String]()
    for r in rows where r.settings["condition"] == "true" {
        guard let random = rows.first(where: { $0.settings["condition"] == "random-labels" && key($0) == key(r) }) else { continue }
        let g: (testAccuracy: Double, gap: Double)
        do {
            g = try EMCSettings(r.settings).generalization(trainSize: trainSize, store: store)
        } catch NetworkError.diverged(let step, _) {
            // No test accuracy to relate: the configuration is left out, and the study says so.
            log?("    generalization of \(key(r)) at n = \(trainSize): training diverged at step \(step); left out")
            diverged.append(key(r))
            continue
        }
        log?(String(format: "    generalization of %@ at n = %d: test accuracy %.2f%%, gap %.3f", key(r), trainSize, 100 * g.testAccuracy, g.gap))
        points.append(GapPoint(label: key(r), emcTrue: r.report.mean, emcRandom: random.report.mean,
                               testAccuracy: g.testAccuracy, generalizationGap: g.gap,
                               measured: r.report.isMeasured && random.report.isMeasured,
                               comparable: r.report.censored == 0 && random.report.censored == 0 && r.report.cap == random.report.cap))
    }
    var study = GapStudy(points: points)
    study.diverged = diverged
    let used = study.correlated, gaps = used.map(\.emcGap)
    var csv = "configuration,emc_true,emc_random,emc_gap,test_accuracy,generalization_gap,measured,at_cap\n"
    for p in points {
        csv += "\(csvField(p.label)),\(p.emcTrue),\(p.emcRandom),\(p.comparable ? "\(p.emcGap)" : ""),\(p.testAccuracy),\(p.generalizationGap),\(p.measured),\(p.comparable && !p.measured)\n"
    }
    csv += diverged.map { "# left out, its generalization training diverged: \($0)\n" }.joined() + "# \(study.summary)\n"
    try csv.write(toFile: spec.output + "/generalization.csv", atomically: true, encoding: .utf8)
    if used.count >= 2 {
        var plot = Plot(title: "EMC gap (true − random labels) vs generalization gap", xLabel: "EMC gap (samples)",
                        yLabel: "train − test accuracy at n = \(trainSize)")
        plot.series.append(.init(study.atCap > 0 ? "configurations (EMCs at the step cap where budget-bounded)" : "configurations with both EMCs measured", used.map { ($0.emcGap, $0.generalizationGap) }))
        if let fit = fitLine(gaps, used.map(\.generalizationGap)), let lo = gaps.min(), let hi = gaps.max() {
            plot.series.append(.init(String(format: "least squares, r = %.2f", study.pearsonGap ?? .nan),
                                     [(lo, fit.intercept + fit.slope * lo), (hi, fit.intercept + fit.slope * hi)], style: .dashed))
        }
        try plot.svg().write(toFile: spec.output + "/emc-gap-vs-generalization.svg", atomically: true, encoding: .utf8)
    }
    return study
}
