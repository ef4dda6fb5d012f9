import Adaptivity
import Foundation
import Linalg

// The adaptive kernel's figures and tables (`overparam adapt kernel --output DIR`): error at the
// oracle time against n per method (log–log, fitted slopes in the legend), the mean error
// against training time at the largest n, and the numbers as JSON.

/// Everything that changes an (n, repetition) unit of Fig. 5, for keying the store: not the sizes
/// or the number of repetitions, which only say which units there are.
public func kernelRatesCacheKey(_ s: KernelSettings) -> [String: String] {
    let t = s.times.times
    return ["instrument": "adaptive-kernel-torus/1", "dimension": "\(s.dimension)", "cutoff": "\(s.cutoff)", "r": "\(s.r)",
            "omega": "\(s.omega)", "noise": "\(s.noise)", "methods": s.methods.map(\.description).joined(separator: ","),
            "b0": "\(s.b0Constant)", "step-fraction": "\(s.stepFraction)", "grid": "\(t.first!)…\(t.last!) (\(t.count))", "seed": "\(s.seed)"]
}

/// Runs (or resumes, with a store) Fig. 5: each finished (n, repetition) unit is committed as it
/// completes.
public func runKernelRates(_ s: KernelSettings, store: (any Store)?, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: ((Int, Int) -> Void)? = nil) throws -> [KernelMethodRates] {
    let cache = try store.map { try $0.cache(instrument: "adaptive-kernel", config: kernelRatesCacheKey(s), description: [:]) }
    return try measureKernelRates(s, workers: workers, cache: cache, progress: progress)
}

/// Error at the oracle stopping time against n, one line per method.
public func kernelRatesPlot(_ r: [KernelMethodRates], settings s: KernelSettings) -> Plot {
    var p = Plot(title: "sin(\(s.omega)πx₁) on the torus: error above the truncation at the oracle time, mean of \(s.repetitions)",
                 xLabel: "training samples n", yLabel: "‖f − f*‖² − truncation error", logX: true, logY: true)
    for (k, m) in r.enumerated() {
        let slope = m.slope.map { String(format: " (slope %.2f)", $0.slope) } ?? ""
        p.series.append(.init("\(m.method)\(slope)", zip(s.sizes, m.meanErrors).map { (Double($0), $1 - m.truncationError) }, style: .line,
                              color: Plot.palette[k % Plot.palette.count]))
    }
    return p
}

/// Mean error against training time at the largest n, one line per method.
public func kernelTimePlot(_ r: [KernelMethodRates], settings s: KernelSettings) -> Plot {
    var p = Plot(title: "Error against training time at n = \(s.sizes.last ?? 0)", xLabel: "time t (step × steps)", yLabel: "‖f − f*‖²",
                 logX: true, logY: true)
    for (k, m) in r.enumerated() {
        guard let curve = m.meanCurves.last else { continue }
        p.series.append(.init("\(m.method)", zip(s.times.times, curve).filter { $0.0 > 0 && $0.1 > 0 }.map { ($0.0, $0.1) }, style: .line,
                              color: Plot.palette[k % Plot.palette.count]))
    }
    return p
}

public func kernelReportObject(_ r: [KernelMethodRates], settings s: KernelSettings, seconds: Double) -> [String: Any] {
    [
        "settings": ["dimension": s.dimension, "cutoff": s.cutoff, "basis_functions": Int(Foundation.pow(Double(2 * s.cutoff + 1), Double(s.dimension))),
                     "r": s.r, "omega": s.omega, "noise": s.noise, "sizes": s.sizes, "repetitions": s.repetitions,
                     "b0_constant": s.b0Constant, "step_fraction": s.stepFraction, "times": s.times.times, "seed": s.seed] as [String: Any],
        "methods": r.map { m in
            ["method": "\(m.method)", "oracle_times": m.oracleTimes, "mean_errors": m.meanErrors, "error_stds": m.errorStds,
             "oracle_at_grid_edge": m.oracleAtGridEdge, "step_halvings": m.halvings, "mean_curves": m.meanCurves,
             "truncation_error": m.truncationError, "excess_errors": m.meanErrors.map { $0 - m.truncationError },
             "slope": m.slope.map { ["slope": $0.slope, "interval": [$0.slopeInterval.lowerBound, $0.slopeInterval.upperBound]] as Any } ?? NSNull()]
            as [String: Any]
        },
        "seconds": seconds,
    ]
}

/// Writes kernel.json, kernel-rates.svg and kernel-time.svg into `dir`; returns the paths.
public func writeKernelOutputs(_ r: [KernelMethodRates], settings s: KernelSettings, seconds: Double, to dir: String) throws -> [String] {
    try prepareOutputFolder(dir)
    let paths = ["kernel.json", "kernel-rates.svg", "kernel-time.svg"].map { (dir as NSString).appendingPathComponent($0) }
    try JSONSerialization.data(withJSONObject: kernelReportObject(r, settings: s, seconds: seconds), options: [.sortedKeys, .prettyPrinted])
        .write(to: URL(fileURLWithPath: paths[0]))
    try kernelRatesPlot(r, settings: s).svg().write(toFile: paths[1], atomically: true, encoding: .utf8)
    try kernelTimePlot(r, settings: s).svg().write(toFile: paths[2], atomically: true, encoding: .utf8)
    return paths
}
