import Capacity
import Foundation
import Linalg

/// One configuration's outcome in a sweep.
public struct SweepRow: Sendable {
    public var settings: [String: String]
    public var report: EMCReport
}

/// Runs every configuration of a sweep (resuming from the store), then writes the tables and
/// the figure into the spec's output folder. Returns the rows in configuration order.
public func runSweep(_ spec: SweepSpec, store: ResultStore?, log: ((String) -> Void)? = nil,
                     progress: ((UInt64, FitResult, Int, Int?) -> Void)? = nil) throws -> [SweepRow] {
    let configs = spec.configurations
    var rows = [SweepRow]()
    for (i, c) in configs.enumerated() {
        let label = spec.axes.map { "\($0.name)=\(c[$0.name]!)" }.joined(separator: " ")
        log?("[\(i + 1)/\(configs.count)] \(label)")
        let report = try EMCSettings(c).run(store: store, progress: progress)
        rows.append(SweepRow(settings: c, report: report))
        log?(String(format: "    EMC %.1f ± %.1f (%d parameters, %d undecided)", report.mean, report.std, report.parameters, report.undecided))
    }
    try writeSweepOutputs(spec, rows)
    return rows
}

/// results.csv, results.json and emc-vs-parameters.svg in the output folder.
public func writeSweepOutputs(_ spec: SweepSpec, _ rows: [SweepRow]) throws {
    try FileManager.default.createDirectory(atPath: spec.output, withIntermediateDirectories: true)
    let axisNames = spec.axes.map(\.name)
    var csv = (axisNames + ["parameters", "emc_mean", "emc_std", "emc_per_seed", "emc_per_parameter", "undecided"]).joined(separator: ",") + "\n"
    var json = [[String: Any]]()
    for r in rows {
        let perSeed = r.report.perSeed.map(String.init).joined(separator: " ")
        csv += (axisNames.map { csvField(r.settings[$0] ?? "") } + [String(r.report.parameters), String(r.report.mean),
                String(r.report.std), perSeed, String(r.report.emcPerParameter), String(r.report.undecided)]).joined(separator: ",") + "\n"
        json.append(["settings": r.settings, "parameters": r.report.parameters, "emc_mean": r.report.mean, "emc_std": r.report.std,
                     "emc_per_seed": r.report.perSeed, "emc_per_parameter": r.report.emcPerParameter, "undecided": r.report.undecided])
    }
    try csv.write(toFile: spec.output + "/results.csv", atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        .write(to: URL(fileURLWithPath: spec.output + "/results.json"))
    // EMC against parameter count, one series per model family and condition.
    var plot = Plot(title: "EMC vs parameter count", xLabel: "parameters", yLabel: "EMC (samples fitted)", logX: true, logY: true)
    var groups = [String: [(x: Double, y: Double)]]()
    var order = [String]()
    for r in rows where r.report.mean > 0 {
        let family = String(r.settings["arch"]!.prefix { $0 != ":" })
        let name = "\(family), \(r.settings["condition"] ?? "true")"
        if groups[name] == nil { order.append(name) }
        groups[name, default: []].append((Double(r.report.parameters), r.report.mean))
    }
    plot.series = order.map { Plot.Series($0, groups[$0]!) }
    if !plot.series.isEmpty {
        // The folk rule "a network fits as many samples as it has parameters", for reference.
        let xs = rows.map { Double($0.report.parameters) }
        plot.series.append(Plot.Series("EMC = parameters", [(xs.min()!, xs.min()!), (xs.max()!, xs.max()!)], style: .dashed))
        try plot.svg().write(toFile: spec.output + "/emc-vs-parameters.svg", atomically: true, encoding: .utf8)
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
