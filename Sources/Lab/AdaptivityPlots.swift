import Adaptivity
import Foundation
import Linalg

/// Error at the oracle time against n, log-log, one series per method with its fitted slope and
/// the theory's, and the theory's slope drawn through each method's first point.
public func ratesPlot(_ r: RateReport) -> Plot {
    let s = r.settings
    var plot = Plot(title: "Error at the oracle time vs n (\(s.problem.name), \(s.repetitions) reps)",
                    xLabel: "n (ε² = 1/n)", yLabel: "mean squared error Σ(θ̂ − θ*)²", logX: true, logY: true)
    plot.width = 900
    for (i, e) in r.estimators.enumerated() {
        // A method's points, its fit and its theory line share one colour.
        let color = Plot.palette[i % Plot.palette.count]
        plot.series.append(.init("\(e.estimator): slope \(String(format: "%.3f", e.slope?.slope ?? .nan))",
                                 zip(s.sizes, e.meanErrors).map { (Double($0), $1) }, style: .points, color: color))
        if let fit = e.slope, s.sizes.count >= 2 {
            // The fitted line, and the theory's exponent anchored at the fit's value at the first n.
            let ns = [Double(s.sizes.min()!), Double(s.sizes.max()!)]
            let y0 = Double.exp(fit.intercept + fit.slope * Foundation.log(ns[0]))
            plot.series.append(.init("  fit", ns.map { ($0, Double.exp(fit.intercept + fit.slope * Foundation.log($0))) }, style: .line, color: color))
            if let t = e.theorySlope {
                plot.series.append(.init("  theory \(String(format: "%.3f", t))", ns.map { ($0, y0 * Foundation.pow($0 / ns[0], t)) }, style: .dashed, color: color))
            }
        }
    }
    return plot
}

/// a_j b_j^D against j at each time, with |θ*_j|^((D+1)/(D+2)) on the signal coordinates and the
/// initial value λ_j^(1/2) b0^D (the paper's Figs. 2 and 4).
public func trajectoryPlot(_ t: Trajectory, problemName: String, n: Int) -> Plot {
    var plot = Plot(title: "a_j b_j^D along OpGD, D = \(t.depth), n = \(n) (\(problemName))",
                    xLabel: "coordinate j", yLabel: "a_j(t) b_j(t)^D", logY: true)
    plot.width = 900
    let xs = t.indices.map(Double.init)
    for (k, time) in t.times.enumerated() {
        plot.series.append(.init("t = \(shortNumber(time))", zip(xs, t.features[k]).filter { $0.1 > 0 }.map { ($0.0, $0.1) }, style: .line))
    }
    let targets = zip(xs, t.target).compactMap { x, v in v.map { (x, $0) } }
    if !targets.isEmpty { plot.series.append(.init("|θ*_j|^((D+1)/(D+2))", targets, style: .points)) }
    plot.series.append(.init("initial λ_j^(1/2) b0^D", Array(zip(xs, t.initial)), style: .dashed))
    return plot
}

/// Runs (or resumes, with a store) a rate experiment: each finished (n, repetition) unit is
/// committed as it completes, and a re-run — or one with more repetitions — reads them back.
public func runRates(_ s: RateSettings, store: (any Store)?, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                     progress: ((Int, Int) -> Void)? = nil) throws -> RateReport {
    let cache = try store.map { try $0.cache(instrument: "adaptivity", config: s.cacheKey) }
    return try measureRates(s, workers: workers, cache: cache, progress: progress)
}
