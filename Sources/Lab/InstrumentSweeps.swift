import Adaptivity
import Foundation
import Linalg
import Recovery

// Sweeps of the recovery and adaptivity instruments: each configuration runs exactly what
// `overparam recover` or `overparam adapt rates` runs with those settings (resuming from the
// same store), writes that command's outputs into `config-<k>/` of the sweep's output folder,
// and adds its lines to the sweep's results.csv and results.json.

/// The x axis of a sweep-level figure: the one varying setting when there is a single numeric
/// one (log scale when it spans a decade or more), else the configuration's number.
func sweepAxis(_ spec: SweepSpec, _ settings: [[String: String]], _ numbers: [Int]) -> (label: String, xs: [Double], log: Bool) {
    if spec.varying.count == 1, let name = spec.varying.first {
        let xs = settings.compactMap { $0[name].flatMap(Double.init) }
        if xs.count == settings.count, let lo = xs.min(), let hi = xs.max() {
            return (name, xs, lo > 0 && hi / lo >= 10)
        }
    }
    return ("configuration (see results.csv)", numbers.map(Double.init), false)
}

func configurationFolder(_ spec: SweepSpec, _ index: Int) -> String {
    (spec.output as NSString).appendingPathComponent("config-\(index + 1)")
}

/// One configuration of a recovery sweep and the grid it ran.
public struct RecoverySweepRow: Sendable {
    public var settings: [String: String]
    public var result: RecoveryResult
}

/// Test MSE at or below this counts as recovered in the sweep's table (as in `overparam recover`).
let recoveredBelow = 1e-4

public func runRecoverySweep(_ spec: SweepSpec, store: (any Store)?, shard: Shard? = nil, log: ((String) -> Void)? = nil,
                             finished: ((Int, Int) -> Void)? = nil) throws -> [RecoverySweepRow] {
    let mine = spec.owned(by: shard)
    let rows = try eachConfiguration(spec, shard, log: log, finished: finished) { i, c in
        let p = try RecoverySettings(c).preset()
        let r = try runRecovery(target: p.target, rows: p.rows, sizes: p.sizes, seeds: p.seeds, store: store)
        _ = try writeRecoveryOutputs(r, to: configurationFolder(spec, i))
        for (k, row) in r.rows.enumerated() {
            let from = r.recoveredFrom(row: k, threshold: recoveredBelow).map { "test MSE ≤ 1e-4 from n = \($0)" } ?? "not recovered at these sizes"
            log?("    \(row.label): \(from) (O = \(r.optimisticSizes[k]), M = \(r.parameters[k]))")
        }
        return RecoverySweepRow(settings: c, result: r)
    }
    guard shard == nil else { return rows }
    try prepareOutputFolder(spec.output)
    let axes = spec.varying
    var csv = (axes + ["configuration", "row", "student", "parameters", "optimistic_sample_size", "recovered_from", "sizes", "median_test_mse"])
        .joined(separator: ",") + "\n"
    var json = [[String: Any]]()
    for (k, row) in rows.enumerated() {
        let r = row.result
        for (j, student) in r.rows.enumerated() {
            let from = r.recoveredFrom(row: j, threshold: recoveredBelow)
            let medians = r.cells[j].map(\.medianTestMSE)
            csv += (axes.map { csvField(row.settings[$0] ?? "") } + [String(mine[k] + 1), csvField(student.label), csvField(student.student),
                    String(r.parameters[j]), String(r.optimisticSizes[j]), from.map(String.init) ?? "",
                    r.sizes.map(String.init).joined(separator: " "), medians.map { $0.isFinite ? "\($0)" : "nan" }.joined(separator: " ")])
                .joined(separator: ",") + "\n"
            json.append(["settings": row.settings, "configuration": mine[k] + 1, "row": student.label, "student": student.student,
                         "parameters": r.parameters[j], "optimistic_sample_size": r.optimisticSizes[j], "recovered_from": from ?? NSNull(),
                         "sizes": r.sizes, "median_test_mse": medians.map { $0.isFinite ? $0 as Any : NSNull() }])
        }
    }
    try writeTables(spec, csv: csv, json: json)
    // Where each student recovers, against the sweep's axis, beside its O.
    let axis = sweepAxis(spec, rows.map(\.settings), mine.map { $0 + 1 })
    var plot = Plot(title: "Recovery across the sweep", xLabel: axis.label,
                    yLabel: "smallest n with test MSE ≤ 1e-4", logX: axis.log)
    let labels = rows.first?.result.rows.map(\.label) ?? []
    for (j, label) in labels.enumerated() {
        plot.series.append(.init(label, zip(axis.xs, rows).compactMap { x, row in
            j < row.result.rows.count ? row.result.recoveredFrom(row: j, threshold: recoveredBelow).map { (x, Double($0)) } : nil
        }))
        plot.series.append(.init("O, \(label)", zip(axis.xs, rows).compactMap { x, row in
            j < row.result.rows.count ? (x, Double(row.result.optimisticSizes[j])) : nil
        }, style: .dashed))
    }
    plot.series.removeAll { $0.points.isEmpty }
    if !plot.series.isEmpty {
        try plot.svg().write(toFile: (spec.output as NSString).appendingPathComponent("recovery-across-sweep.svg"), atomically: true, encoding: .utf8)
    }
    return rows
}

/// One configuration of an adaptivity sweep and its rates.
public struct RateSweepRow: Sendable {
    public var settings: [String: String]
    public var report: RateReport
}

public func runRateSweep(_ spec: SweepSpec, store: (any Store)?, shard: Shard? = nil, log: ((String) -> Void)? = nil,
                         finished: ((Int, Int) -> Void)? = nil) throws -> [RateSweepRow] {
    let mine = spec.owned(by: shard)
    let rows = try eachConfiguration(spec, shard, log: log, finished: finished) { i, c in
        let report = try runRates(try AdaptSettings(c).rateSettings(), store: store)
        try writeRateOutputs(report, to: configurationFolder(spec, i))
        for e in report.estimators {
            let fit = e.slope.map { String(format: "slope %.3f [%.3f, %.3f]", $0.slope, $0.slopeInterval.lowerBound, $0.slopeInterval.upperBound) } ?? "no slope"
            log?("    \(e.estimator.description): \(fit)" + (e.theorySlope.map { String(format: ", theory %.3f", $0) } ?? ""))
        }
        return RateSweepRow(settings: c, report: report)
    }
    guard shard == nil else { return rows }
    try prepareOutputFolder(spec.output)
    let axes = spec.varying
    var csv = (axes + ["configuration", "method", "slope", "slope_low", "slope_high", "theory_slope", "oracle_time_slope", "n", "errors"])
        .joined(separator: ",") + "\n"
    var json = [[String: Any]]()
    func num(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
    for (k, row) in rows.enumerated() {
        for e in row.report.estimators {
            csv += (axes.map { csvField(row.settings[$0] ?? "") } + [String(mine[k] + 1), csvField(e.estimator.description), num(e.slope?.slope),
                    num(e.slope?.slopeInterval.lowerBound), num(e.slope?.slopeInterval.upperBound), num(e.theorySlope), num(e.timeSlope?.slope),
                    row.report.settings.sizes.map(String.init).joined(separator: " "), e.meanErrors.map { "\($0)" }.joined(separator: " ")])
                .joined(separator: ",") + "\n"
            json.append(["settings": row.settings, "configuration": mine[k] + 1, "method": e.estimator.description,
                         "slope": e.slope?.slope ?? NSNull(), "slope_ci": e.slope.map { [$0.slopeInterval.lowerBound, $0.slopeInterval.upperBound] } ?? NSNull(),
                         "theory_slope": e.theorySlope ?? NSNull(), "oracle_time_slope": e.timeSlope?.slope ?? NSNull(),
                         "n": row.report.settings.sizes, "errors": e.meanErrors])
        }
    }
    try writeTables(spec, csv: csv, json: json)
    // Each method's fitted slope against the sweep's axis, with the theory's where it has one.
    let axis = sweepAxis(spec, rows.map(\.settings), mine.map { $0 + 1 })
    var plot = Plot(title: "Fitted rates across the sweep", xLabel: axis.label, yLabel: "slope of log error on log n", logX: axis.log)
    let methods = rows.first?.report.estimators.map(\.estimator.description) ?? []
    for (m, method) in methods.enumerated() {
        let color = Plot.palette[m % Plot.palette.count]
        func points(_ value: (EstimatorRates) -> Double?) -> [(x: Double, y: Double)] {
            zip(axis.xs, rows).compactMap { x, row in
                row.report.estimators.first { $0.estimator.description == method }.flatMap(value).map { (x, $0) }
            }
        }
        plot.series.append(.init(method, points { $0.slope?.slope }, style: .points, color: color))
        plot.series.append(.init("theory, \(method)", points { $0.theorySlope }, style: .dashed, color: color))
    }
    plot.series.removeAll { $0.points.isEmpty }
    if !plot.series.isEmpty {
        try plot.svg().write(toFile: (spec.output as NSString).appendingPathComponent("rates-across-sweep.svg"), atomically: true, encoding: .utf8)
    }
    return rows
}

func writeTables(_ spec: SweepSpec, csv: String, json: [[String: Any]]) throws {
    try csv.write(toFile: (spec.output as NSString).appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        .write(to: URL(fileURLWithPath: (spec.output as NSString).appendingPathComponent("results.json")))
}

/// The rates as `overparam adapt rates --json` prints them: problem, sizes and, per method,
/// errors, slopes with intervals, theory and oracle times.
public func rateReportObject(_ report: RateReport) -> [String: Any] {
    let s = report.settings
    func interval(_ f: LineFit?) -> Any { f.map { [$0.slopeInterval.lowerBound, $0.slopeInterval.upperBound] as Any } ?? NSNull() }
    let methods: [[String: Any]] = report.estimators.map { e in
        ["method": e.estimator.description, "slope": e.slope?.slope ?? NSNull(), "slope_ci": interval(e.slope),
         "theory_slope": e.theorySlope ?? NSNull(), "errors": e.meanErrors, "error_std": e.errorStds,
         "oracle_times": e.oracleTimes, "oracle_time_slope": e.timeSlope?.slope ?? NSNull(),
         "theory_time_slope": e.theoryTimeSlope ?? NSNull(), "errors_at_theory_time": e.theoryTimeErrors ?? NSNull(),
         "oracle_at_grid_edge": e.oracleAtGridEdge]
    }
    return ["problem": s.problem.name, "N": s.problem.count, "n": s.sizes, "reps": s.repetitions, "seed": s.seed,
            "methods": methods, "seconds": report.seconds]
}

/// rates.json and rates.svg in `dir`.
public func writeRateOutputs(_ report: RateReport, to dir: String) throws {
    try prepareOutputFolder(dir)
    try ratesPlot(report).svg().write(toFile: (dir as NSString).appendingPathComponent("rates.svg"), atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: rateReportObject(report), options: [.sortedKeys])
        .write(to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent("rates.json")))
}
