import Capacity
import Foundation
import Linalg

// The capacity section of `overparam reproduce`: the sweeps of `ReproduceSweeps.swift`, their
// tables and figures, and a verdict for each of the EMC paper's findings from Welch's 95%
// intervals over the seeds (`EMCReport.comparison`).

/// A sweep's rows, looked up by settings.
public struct SweepRows: Sendable {
    public let rows: [SweepRow]
    public init(rows: [SweepRow]) { self.rows = rows }
    public func report(_ settings: [String: String]) -> EMCReport? {
        rows.first { r in settings.allSatisfy { r.settings[$0.key] == $0.value } }?.report
    }
}

/// An EMC as a table cell that says what it is: mean ± s.d. [95% interval], ≥ for a lower bound,
/// and how many seeds ended at a collapse (`EMCSearch.collapsed`) or a divergence.
func emcCell(_ r: EMCReport, available: Int) -> String {
    if r.censored == r.searches.count { return "≥ \(available) (all, censored)" }
    let value = r.perSeed.count == 1 ? fmt(r.mean) : "\(fmt(r.mean)) ± \(fmt(r.std))"
    let interval = r.interval.map { " [\(fmt($0.lowerBound.rounded())), \(fmt($0.upperBound.rounded()))]" } ?? ""
    let collapsed = r.collapsed == 0 ? "" : " (\(r.collapsed) collapsed)"
    let diverged = r.diverged == 0 ? "" : " (\(r.diverged) diverged)"
    return (r.isMeasured ? value + interval : "≥ \(fmt(r.mean))\(interval) (\(r.status))") + collapsed + diverged
}

/// How a comparison's verdict is to be read: at the step cap where an EMC was budget-bounded, and
/// with the seeds that ended at a collapse (`EMCSearch.collapsed`) or a divergence, whose EMCs the
/// optimization set.
func capScope(_ c: EMCComparison, _ reports: EMCReport...) -> String {
    let cap = c.atCap ? " (at the \(reports.map(\.cap).max() ?? 0)-step cap: a budget-bounded EMC is the capped procedure's)" : ""
    func seeds(_ count: (EMCReport) -> Int) -> [String] {
        reports.filter { count($0) > 0 }.map { "\(count($0)) of \($0.searches.count) seeds of \(Plot.escape($0.arch))" }
    }
    let collapsed = seeds(\.collapsed), diverged = seeds(\.diverged)
    return cap + (collapsed.isEmpty ? "" : "; ended at a collapse (learned nothing beyond the class frequencies): "
                  + collapsed.joined(separator: ", ") + ", EMCs set by the optimization rather than the capacity")
        + (diverged.isEmpty ? "" : "; ended at a divergence (the loss became NaN or infinite): " + diverged.joined(separator: ", ")
           + ", EMCs set by the procedure's instability rather than the capacity")
}

func capacitySection(_ preset: ReproducePreset, _ output: String, _ store: (any Store)?, _ workers: Int,
                     _ log: @escaping (String) -> Void) throws -> ReportSection {
    var section = ReportSection(title: "Capacity: effective model complexity",
                                intro: preset.smoke ? "EMC is the largest n for which the training procedure fits n samples perfectly (binary search over n, several seeds). Digits 8×8 at toy budgets."
                                    : "EMC is the largest n for which the training procedure fits n samples perfectly (binary search over n, \(preset.seeds)–5 seeds). "
                                        + (preset.familyScale.side == preset.scale.side ? preset.scale.label : "\(preset.familyScale.label) for the architecture families, \(preset.scale.label) for the other sweeps")
                                        + " (60,000 training images, so no EMC is censored by the data), full-batch SGD with momentum 0.9 and a cosine schedule unless stated.")
    var failures = [String]()
    // Every capacity sweep of the preset on one pool before any table is made: a core freed by
    // one file's last search takes the next file's first (`runSweeps`).
    let files = preset.sweepFiles
    let specs = try files.map { f in
        var spec = try SweepSpec.parse(f.yaml, file: f.name)
        spec.output = (output as NSString).appendingPathComponent(spec.output)
        log("capacity: \(f.name), \(spec.configurations.count) configurations")
        return spec
    }
    // A configuration that fails with an error (its store lost, say; a divergence is a verdict,
    // not an error) is reported, and the findings use the rest.
    let outcomes = try runSweeps(specs, store: store, keepGoing: true, workers: workers, log: { s, line in log("    \(files[s].name) " + line) })
    func sweep(_ yaml: String, name: String) throws -> (SweepSpec, SweepOutcome) {
        guard let s = files.firstIndex(where: { $0.name == name && $0.yaml == yaml }) else {
            throw ExperimentError("\(name) is not among the preset's sweep files")
        }
        let outcome = outcomes[s]
        section.commands.append("overparam emc sweep \(name)   # with this file:\n" + yaml)
        if !outcome.failed.isEmpty {
            section.tables.append("<p>\(Plot.escape(name)): " + outcome.failed.map { "<code>\(Plot.escape($0.label))</code> failed — \(Plot.escape($0.error))" }.joined(separator: "; ") + " (left out of the findings).</p>")
            failures += outcome.failed.map { "\(name) \($0.label): \($0.error)" }
        }
        return (specs[s], outcome)
    }
    let (spec, outcome) = try sweep(preset.capacityYAML, name: "capacity.yaml")
    let rows = SweepRows(rows: outcome.rows)
    func report(_ arch: String, _ condition: String) -> EMCReport? { rows.report(["arch": arch, "condition": condition]) }
    let dir = spec.output
    if let svg = try? String(contentsOfFile: dir + "/emc-vs-parameters.svg", encoding: .utf8) {
        section.figures.append(("EMC against parameter count, by family and label condition; dashed: EMC = parameters.", svg))
    }
    // Every configuration may have failed (keepGoing): then there is no data size to quote.
    let available = try outcome.rows.first.map { try EMCSettings($0.settings).data().count } ?? 0
    func cell(_ r: EMCReport) -> String { emcCell(r, available: available) }
    var table = "<table><tr><th>architecture</th><th>parameters</th><th>EMC, true labels</th><th>EMC, random labels</th><th>random EMC / parameter</th></tr>"
    var pairs = [(arch: String, params: Int, t: EMCReport, r: EMCReport)]()
    for arch in spec.axes.first(where: { $0.name == "arch" })!.values {
        guard let t = report(arch, "true"), let r = report(arch, "random-labels") else { continue }
        pairs.append((arch, t.parameters, t, r))
        table += "<tr><td><code>\(Plot.escape(arch))</code></td><td>\(t.parameters)</td><td>\(cell(t))</td><td>\(cell(r))</td><td>\(r.isMeasured ? "" : "≥ ")\(String(format: "%.3f", r.emcPerParameter))</td></tr>"
    }
    section.tables.append(table + "</table><p>Mean ± s.d. [95% interval] over \(spec.seeds) seed\(spec.seeds == 1 ? "" : "s") per configuration. ≥: a lower bound on what more steps would fit — “censored”: every one of the \(available) samples was fitted; “budget-bounded”: the smallest size that did not fit was still improving at the step cap (\(pairs.first?.t.cap ?? 0) steps), so the value is the EMC of the procedure as capped. Comparisons of budget-bounded EMCs under one cap are about the capped procedures and say so. “k collapsed”: for k seeds the smallest size that did not fit ended having learned nothing beyond the class frequencies (training loss within \(Int(collapseTolerance * 100))% of the labels' entropy) under every budget up to the cap, a failure of the optimization rather than of the model's capacity. “k diverged”: for k seeds the smallest size that did not fit diverged (its training loss became NaN or infinite), so the EMC is the procedure's, ended by its instability; a smaller learning rate may fit more.</p>")
    var tvr = Plot(title: "True vs random labels", xLabel: "EMC with random labels (samples)", yLabel: "EMC with true labels (samples)", logX: true, logY: true)
    let shown = pairs.filter { $0.r.mean > 0 && $0.t.mean > 0 }
    tvr.series.append(.init("both measured", shown.filter { $0.t.isMeasured && $0.r.isMeasured }.map { ($0.r.mean, $0.t.mean) }))
    tvr.series.append(.init("a lower bound (≥, censored or at the step cap) on either axis", shown.filter { !($0.t.isMeasured && $0.r.isMeasured) }.map { ($0.r.mean, $0.t.mean) },
                            style: .lowerBounds))
    let hi = pairs.map { max($0.t.mean, $0.r.mean) }.max() ?? 1, lo = max(1, pairs.map { min($0.t.mean, $0.r.mean) }.min() ?? 1)
    tvr.series.append(.init("equal", [(lo, lo), (hi, hi)], style: .dashed))
    if let svg = try? tvr.svg() { section.figures.append(("Each architecture's EMC with true against random labels; above the dashed line, true labels are easier to fit.", svg)) }

    let comparisons = pairs.map { $0.t.comparison(with: $0.r) }
    let easier = comparisons.map(\.larger)
    let proven = easier.filter { $0 == true }.count, open = easier.filter { $0 == nil }.count
    section.findings.append(Finding(instrument: "capacity", claim: "Networks fit more samples with true labels than with random labels",
                                    held: allHeld(easier),
                                    evidence: "true > random at 95% for \(proven) of \(pairs.count) architectures, \(spec.seeds) seed(s) each"
                                        + (open > 0 ? "; \(open) inconclusive (intervals that hold 0, or lower bounds)" : "")
                                        + (comparisons.contains(where: \.atCap) ? "; \(comparisons.filter(\.atCap).count) at the \(pairs[0].t.cap)-step cap (budget-bounded EMCs)" : "")))
    if preset.broad { section.findings.append(fewerThanParameters(pairs)) }
    // Per parameter, the best CNN against the best of every other family present.
    for (condition, label) in [("random-labels", "random-label"), ("true", "true-label")] where condition == "random-labels" || preset.broad {
        if let f = perParameterFinding(pairs.map { condition == "true" ? $0.t : $0.r }, lead: .cnn, against: [.mlp, .vit], samples: label) {
            section.findings.append(f)
        }
    }
    if !preset.broad, let relu = report(preset.scale.mlp([8]), "true"), let sigmoid = report(preset.scale.mlp([8], "sigmoid"), "true") {
        let k = relu.comparison(with: sigmoid)
        section.findings.append(Finding(instrument: "capacity", claim: "ReLU networks fit more samples than sigmoid networks",
                                        held: k.larger, evidence: "\(preset.scale.mlp([8]).dropLast(5)) on true labels: ReLU \(cell(relu)) vs sigmoid \(cell(sigmoid)); " + differenceText(k.interval) + capScope(k, relu, sigmoid)))
    }
    if let svg = try? String(contentsOfFile: dir + "/emc-gap-vs-generalization.svg", encoding: .utf8) {
        section.figures.append(("EMC gap (true − random labels) against the generalization gap (train − test accuracy) at n = 500.", svg))
    }
    var gaps = outcome.gap.map { [$0] } ?? []
    if preset.broad {
        let (aspec, a) = try sweep(preset.activationsYAML, name: "activations.yaml")
        section.findings.append(activationFinding(SweepRows(rows: a.rows), seeds: aspec.seeds))
        if let g = a.gap { gaps.append(g) }
    }
    if !gaps.isEmpty { section.findings += gapFindings(gaps) }
    let optimizerRows = try sweep(preset.optimizerYAML, name: "optimizers.yaml").1.rows
    let optimizers = optimizerFindings(optimizerRows, preset: preset, section: &section, cell: cell)
    section.findings += optimizers
    if preset.broad {
        section.findings.append(inputsFinding(SweepRows(rows: try sweep(preset.inputsYAML, name: "inputs.yaml").1.rows)))
        section.findings.append(classesFinding(SweepRows(rows: try sweep(preset.classesYAML, name: "classes.yaml").1.rows)))
    }
    if preset.broad {
        let part = try architectureFindings(preset) { try sweep($0, name: $1) }
        section.tables += part.tables; section.figures += part.figures; section.findings += part.findings
    }
    if !failures.isEmpty { section.intro += " Failed configurations, left out of the findings: " + failures.joined(separator: "; ") + "." }
    return section
}
