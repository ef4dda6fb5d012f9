import Adaptivity
import Datasets
import Foundation
import Linalg

// The adaptive kernel on a user's data (`overparam adapt kernel --data`): the run through the
// store, and its figures and tables — test error against training time per method, and the
// learned a_j b_j^D against frequency (which directions the kernel learned).

/// Everything that changes a split's result, for keying the store: the data's contents (never
/// its path) and every setting but the number of splits, which only says how many there are.
public func kernelDataCacheKey(_ s: KernelDataSettings, data fingerprint: String) -> [String: String] {
    let t = s.times.times
    return ["instrument": "adaptive-kernel-data/1", "data": fingerprint, "cutoff": "\(s.cutoff)", "order": s.maxOrder.map(String.init) ?? "all", "r": "\(s.r)",
            "methods": s.methods.map(\.description).joined(separator: ","), "b0": "\(s.b0Constant)", "step-fraction": "\(s.stepFraction)",
            "grid": "\(t.first!)…\(t.last!) (\(t.count))", "validation": "\(s.validationFraction)", "test": "\(s.testFraction)",
            "seed": "\(s.seed)", "scale-inputs": "\(s.scaleInputs)"]
}

/// Runs, or resumes from the store, every split of `data`, read from `spec` (csv:PATH or
/// npy:X.npy,Y.npy; `RegressionData.load`), which keys the store by its files' contents.
public func runKernelOnData(_ data: RegressionData, spec: String, settings s: KernelDataSettings, store: (any Store)?,
                            workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                            progress: ((Int, Int) -> Void)? = nil) throws -> KernelDataReport {
    let cache = try store.map {
        try $0.cache(instrument: "adaptive-kernel", config: kernelDataCacheKey(s, data: try DataSpec.fingerprint(spec)), description: ["data": spec])
    }
    return try measureKernelOnData(x: data.x, y: data.y, dimension: data.dimension, settings: s, workers: workers, cache: cache, progress: progress)
}

/// Mean test error (solid) and validation error (dashed) against training time, one colour per
/// method, and the error of predicting the training mean.
public func kernelDataTimePlot(_ r: KernelDataReport) -> Plot {
    var p = Plot(title: "Held-out error against training time, mean of \(r.settings.splits) split(s)", xLabel: "time t (step × steps)",
                 yLabel: "mean squared error", logX: true, logY: true)
    let t = r.settings.times.times
    for (k, m) in r.methods.enumerated() {
        let color = Plot.palette[k % Plot.palette.count]
        p.series.append(.init("\(m.method) test", positive(zip(t, m.meanTest)), style: .line, color: color))
        p.series.append(.init("  validation", positive(zip(t, m.meanValidation)), style: .dashed, color: color))
    }
    let base = r.baselineErrors.reduce(0, +) / Double(r.baselineErrors.count)
    if base > 0, let lo = t.first, let hi = t.last {
        p.series.append(.init("predict the training mean", [(lo, base), (hi, base)], style: .dashed, color: "#888888"))
    }
    return p
}

/// How far each method moved its kernel weights: a_j b_j^D at the stop (mean over splits) over
/// its start λ_j^(1/2) b0^D, against ‖m‖. The fixed kernel stays at 1; an adaptive kernel rises
/// on the frequencies the data uses and falls or stays on the rest.
public func kernelDataWeightsPlot(_ r: KernelDataReport) -> Plot {
    var p = Plot(title: "Learned kernel weights at the stopping time, relative to their start", xLabel: "frequency ‖m‖",
                 yLabel: "a_j b_j^D / (λ_j^(1/2) b0^D)", logY: true)
    let norms = r.basis.frequencyNorms
    for (k, m) in r.methods.enumerated() {
        let color = Plot.palette[k % Plot.palette.count]
        if m.method == .fixed, let hi = norms.max() {
            p.series.append(.init("\(m.method) (unchanged)", [(0, 1), (hi, 1)], style: .dashed, color: color))
        } else {
            p.series.append(.init("\(m.method)", positive(zip(norms, r.growth(k))), style: .points, color: color))
        }
    }
    return p
}

func positive(_ points: Zip2Sequence<[Double], [Double]>) -> [(x: Double, y: Double)] {
    points.filter { $0.0 > 0 && $0.1 > 0 && $0.1.isFinite }.map { (x: $0.0, y: $0.1) }
}

func kernelDataSettingsObject(_ r: KernelDataReport) -> [String: Any] {
    let s = r.settings, (tr, v, t) = s.splitSizes(r.count)
    return ["samples": r.count, "dimension": r.dimension, "cutoff": s.cutoff, "order": r.basis.maxOrder, "basis_functions": r.basis.count, "r": s.r,
            "b0_constant": s.b0Constant, "step_fraction": s.stepFraction, "times": s.times.times, "splits": s.splits, "seed": s.seed,
            "validation_fraction": s.validationFraction, "test_fraction": s.testFraction, "scale_inputs": s.scaleInputs,
            "split_sizes": ["train": tr, "validation": v, "test": t]]
}

public func kernelDataReportObject(_ r: KernelDataReport) -> [String: Any] {
    let times = r.settings.times.times
    func interval(_ i: ClosedRange<Double>?) -> Any { i.map { [$0.lowerBound, $0.upperBound] as Any } ?? NSNull() }
    return [
        "settings": kernelDataSettingsObject(r),
        "baseline_test_errors": r.baselineErrors,
        "frequencies": r.basis.frequencies, "is_sine": r.basis.isSine, "eigenvalues": r.eigenvalues,
        "methods": r.methods.enumerated().map { k, m -> [String: Any] in
            let test = meanInterval(m.testErrors, atLeast: 0), diff = r.differenceFromFirst(k)
            return ["method": "\(m.method)", "test_error": ["mean": test.mean, "interval": interval(test.interval), "per_split": m.testErrors],
                    "difference_from_\(r.methods[0].method)": ["mean": diff.mean, "interval": interval(diff.interval)],
                    "stop_times": m.runs.map { times[$0.stop] }, "stop_at_grid_end": m.runs.map { $0.stop == times.count - 1 },
                    "step_halvings": m.runs.map(\.halvings), "steps": m.runs.map(\.step),
                    "mean_train_curve": m.meanTrain, "mean_validation_curve": m.meanValidation, "mean_test_curve": m.meanTest,
                    "mean_feature_weights": m.meanFeatureWeights, "initial_feature_weights": r.initialFeatureWeights(k),
                    "growth": r.growth(k), "mean_coefficients": m.meanCoefficients]
        },
        "computed_splits": r.computedSplits, "seconds": r.seconds,
    ]
}

/// Writes kernel-data.json, kernel-data.csv (one line per method and split),
/// kernel-data-curves.csv, kernel-data-weights.csv, kernel-data-time.svg and
/// kernel-data-weights.svg into `dir`; returns the paths.
public func writeKernelDataOutputs(_ r: KernelDataReport, to dir: String) throws -> [String] {
    try prepareOutputFolder(dir)
    let names = ["kernel-data.json", "kernel-data.csv", "kernel-data-curves.csv", "kernel-data-weights.csv", "kernel-data-time.svg",
                 "kernel-data-weights.svg"]
    let paths = names.map { (dir as NSString).appendingPathComponent($0) }
    let times = r.settings.times.times
    try JSONSerialization.data(withJSONObject: kernelDataReportObject(r), options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: paths[0]))
    var runs = "method,split,stop_time,train_mse,validation_mse,test_mse,baseline_test_mse,step,step_halvings\n"
    var curves = "method,time,train_mse,validation_mse,test_mse\n"
    var weights = "method,j,frequency,frequency_norm,function,eigenvalue,initial_feature_weight,feature_weight,growth,coefficient\n"
    let norms = r.basis.frequencyNorms
    for (k, m) in r.methods.enumerated() {
        for (split, run) in m.runs.enumerated() {
            runs += "\(m.method),\(split),\(times[run.stop]),\(run.train[run.stop]),\(run.validation[run.stop]),\(run.test[run.stop]),\(r.baselineErrors[split]),\(run.step),\(run.halvings)\n"
        }
        let (tr, va, te) = (m.meanTrain, m.meanValidation, m.meanTest)
        for i in times.indices { curves += "\(m.method),\(times[i]),\(tr[i]),\(va[i]),\(te[i])\n" }
        let (fw, co, w0, gr) = (m.meanFeatureWeights, m.meanCoefficients, r.initialFeatureWeights(k), r.growth(k))
        for j in r.basis.frequencies.indices {
            let f = r.basis.frequencies[j], zero = f.allSatisfy { $0 == 0 }
            weights += "\(m.method),\(j),\(f.map(String.init).joined(separator: " ")),\(norms[j]),\(zero ? "constant" : r.basis.isSine[j] ? "sin" : "cos"),\(r.eigenvalues[j]),\(w0[j]),\(fw[j]),\(gr[j]),\(co[j])\n"
        }
    }
    for (text, path) in zip([runs, curves, weights], paths[1...3]) { try text.write(toFile: path, atomically: true, encoding: .utf8) }
    try kernelDataTimePlot(r).svg().write(toFile: paths[4], atomically: true, encoding: .utf8)
    try kernelDataWeightsPlot(r).svg().write(toFile: paths[5], atomically: true, encoding: .utf8)
    return paths
}

/// The printed table: per method, the test error at the validation stop with its 95% interval
/// over splits, the paired difference from the first method (the fixed kernel) and what the
/// interval says of it, the stopping time and the training error there.
public func kernelDataSummary(_ r: KernelDataReport, spec: String, store: String?) -> [String] {
    let s = r.settings, (tr, va, te) = s.splitSizes(r.count), times = s.times.times
    func g(_ v: Double) -> String { String(format: "%.4g", v) }
    func ci(_ m: (mean: Double, interval: ClosedRange<Double>?)) -> String {
        g(m.mean) + (m.interval.map { " [\(g($0.lowerBound)), \(g($0.upperBound))]" } ?? " (one split: no interval)")
    }
    let reused = s.splits - r.computedSplits
    var lines = ["\(spec): \(r.count) samples in \(r.dimension) dimension(s); \(r.basis.count) Fourier functions (cutoff \(s.cutoff)\(r.basis.maxOrder < r.dimension ? ", order \(r.basis.maxOrder)" : "")), λ = (1 + ‖m‖²)^(−\(s.r)); "
                 + "\(s.splits) split(s) of \(tr) / \(va) / \(te) (train / validation / test); \(String(format: "%.1f", r.seconds)) s"
                 + (reused > 0 && store != nil ? " (\(reused) of \(s.splits) splits read from \(store!))" : ""),
                 "test MSE at the validation stop, mean [95% interval] over splits; predicting the training mean gives " + ci(meanInterval(r.baselineErrors, atLeast: 0)) + ":"]
    let first = r.methods[0].method
    lines.append("method".padding(toLength: 14, withPad: " ", startingAt: 0) + "test MSE".padding(toLength: 30, withPad: " ", startingAt: 0)
                 + "− \(first)".padding(toLength: 44, withPad: " ", startingAt: 0) + "stop time (median)   train MSE there")
    for (k, m) in r.methods.enumerated() {
        var diff = "–"
        if k > 0 {
            let d = r.differenceFromFirst(k)
            let word = d.interval.map { $0.upperBound < 0 ? "lower" : $0.lowerBound > 0 ? "higher" : "no difference shown" } ?? "needs 2+ splits"
            diff = ci(d) + "  " + word
        }
        let stops = m.runs.map { times[$0.stop] }.sorted()
        let train = m.runs.map { $0.train[$0.stop] }.reduce(0, +) / Double(m.runs.count)
        lines.append("\(m.method)".padding(toLength: 14, withPad: " ", startingAt: 0) + ci(meanInterval(m.testErrors, atLeast: 0)).padding(toLength: 30, withPad: " ", startingAt: 0)
                     + diff.padding(toLength: 44, withPad: " ", startingAt: 0) + g(stops[stops.count / 2]).padding(toLength: 21, withPad: " ", startingAt: 0) + g(train))
        let atEnd = m.runs.filter { $0.stop == times.count - 1 }.count
        if atEnd > 0 { lines.append("  note: the validation error was still falling at the end of the time grid on \(atEnd) split(s) (widen it: --t-max)") }
        let halved = m.runs.filter { $0.halvings > 0 }.count
        if halved > 0 { lines.append("  note: the step was halved on \(halved) split(s) to keep it stable") }
    }
    // What the adaptive kernels learned: the functions whose weight grew most.
    for (k, m) in r.methods.enumerated() where m.method != .fixed {
        let g = r.growth(k), top = g.indices.sorted { g[$0] > g[$1] }.prefix(4)
        let names = top.map { j -> String in
            let f = r.basis.frequencies[j], kind = f.allSatisfy { $0 == 0 } ? "1" : r.basis.isSine[j] ? "sin" : "cos"
            return "\(kind) m = (\(f.map(String.init).joined(separator: ", "))) ×\(String(format: "%.3g", g[j]))"
        }
        lines.append("\(m.method) grew most: " + names.joined(separator: "; "))
    }
    return lines
}
