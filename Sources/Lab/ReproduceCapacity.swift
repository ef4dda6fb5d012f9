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

/// An EMC as a table cell that says what it is: mean ± s.d. [95% interval], ≥ for a lower bound.
func emcCell(_ r: EMCReport, available: Int) -> String {
    if r.censored == r.searches.count { return "≥ \(available) (all, censored)" }
    let value = r.perSeed.count == 1 ? fmt(r.mean) : "\(fmt(r.mean)) ± \(fmt(r.std))"
    let interval = r.interval.map { " [\(fmt($0.lowerBound.rounded())), \(fmt($0.upperBound.rounded()))]" } ?? ""
    return r.isMeasured ? value + interval : "≥ \(fmt(r.mean))\(interval) (\(r.status))"
}

/// How a comparison's verdict is to be read: at the step cap where an EMC was budget-bounded.
func capScope(_ c: EMCComparison, _ reports: EMCReport...) -> String {
    c.atCap ? " (at the \(reports.map(\.cap).max() ?? 0)-step cap: a budget-bounded EMC is the capped procedure's)" : ""
}

/// One verdict from several comparisons that must all go the claimed way: not reproduced if any
/// goes decisively the other way, inconclusive if any is undecided, held otherwise.
public func allHeld(_ verdicts: [Bool?]) -> Bool? {
    verdicts.isEmpty || verdicts.contains(false) ? false : verdicts.contains(nil) ? nil : true
}

func capacitySection(_ preset: ReproducePreset, _ output: String, _ store: (any Store)?, _ workers: Int,
                     _ log: @escaping (String) -> Void) throws -> ReportSection {
    var section = ReportSection(title: "Capacity: effective model complexity",
                                intro: preset.smoke ? "EMC is the largest n for which the training procedure fits n samples perfectly (binary search over n, several seeds). Digits 8×8 at toy budgets."
                                    : "EMC is the largest n for which the training procedure fits n samples perfectly (binary search over n, \(preset.seeds)–5 seeds). Fashion-MNIST averaged to 7×7 (60,000 training images, so no EMC is censored by the data), full-batch SGD with momentum 0.9 and a cosine schedule unless stated.")
    var failures = [String]()
    func sweep(_ yaml: String, name: String) throws -> (SweepSpec, SweepOutcome) {
        var spec = try SweepSpec.parse(yaml, file: name)
        spec.output = (output as NSString).appendingPathComponent(spec.output)
        log("capacity: \(name), \(spec.configurations.count) configurations")
        // A configuration that fails (a learning rate at which it diverges) is reported, and
        // the findings use the rest.
        let outcome = try runSweep(spec, store: store, keepGoing: true, log: { log("    " + $0) })
        section.commands.append("overparam emc sweep \(name)   # with this file:\n" + yaml)
        if !outcome.failed.isEmpty {
            section.tables.append("<p>\(Plot.escape(name)): " + outcome.failed.map { "<code>\(Plot.escape($0.label))</code> failed — \(Plot.escape($0.error))" }.joined(separator: "; ") + " (left out of the findings).</p>")
            failures += outcome.failed.map { "\(name) \($0.label): \($0.error)" }
        }
        return (spec, outcome)
    }
    let (spec, outcome) = try sweep(preset.capacityYAML, name: "capacity.yaml")
    let rows = SweepRows(rows: outcome.rows)
    func report(_ arch: String, _ condition: String) -> EMCReport? { rows.report(["arch": arch, "condition": condition]) }
    let dir = spec.output
    if let svg = try? String(contentsOfFile: dir + "/emc-vs-parameters.svg", encoding: .utf8) {
        section.figures.append(("EMC against parameter count, by family and label condition; dashed: EMC = parameters.", svg))
    }
    let available = try EMCSettings(outcome.rows[0].settings).data().count
    func cell(_ r: EMCReport) -> String { emcCell(r, available: available) }
    var table = "<table><tr><th>architecture</th><th>parameters</th><th>EMC, true labels</th><th>EMC, random labels</th><th>random EMC / parameter</th></tr>"
    var pairs = [(arch: String, params: Int, t: EMCReport, r: EMCReport)]()
    for arch in spec.axes.first(where: { $0.name == "arch" })!.values {
        guard let t = report(arch, "true"), let r = report(arch, "random-labels") else { continue }
        pairs.append((arch, t.parameters, t, r))
        table += "<tr><td><code>\(Plot.escape(arch))</code></td><td>\(t.parameters)</td><td>\(cell(t))</td><td>\(cell(r))</td><td>\(r.isMeasured ? "" : "≥ ")\(String(format: "%.3f", r.emcPerParameter))</td></tr>"
    }
    section.tables.append(table + "</table><p>Mean ± s.d. [95% interval] over \(spec.seeds) seed\(spec.seeds == 1 ? "" : "s") per configuration. ≥: a lower bound on what more steps would fit — “censored”: every one of the \(available) samples was fitted; “budget-bounded”: the smallest size that did not fit was still improving at the step cap (\(pairs.first?.t.cap ?? 0) steps), so the value is the EMC of the procedure as capped. Comparisons of budget-bounded EMCs under one cap are about the capped procedures and say so.</p>")
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
    // Per parameter, the best of each family; a lower bound stays one when divided.
    for (condition, label) in [("random-labels", "random-label"), ("true", "true-label")] where condition == "random-labels" || preset.broad {
        func best(_ prefix: String) -> EMCReport? {
            pairs.filter { $0.arch.hasPrefix(prefix) && $0.arch.hasSuffix(":relu") }.map { condition == "true" ? $0.t : $0.r }
                .max { $0.emcPerParameter < $1.emcPerParameter }
        }
        if let m = best("mlp"), let c = best("cnn") {
            let k = c.comparison(with: m, scale: 1 / Double(c.parameters), otherScale: 1 / Double(m.parameters))
            section.findings.append(Finding(instrument: "capacity", claim: "CNNs fit more \(label) samples per parameter than MLPs",
                                            held: k.larger, evidence: "best CNN (\(Plot.escape(c.arch))) \(c.isMeasured ? "" : "≥ ")\(String(format: "%.3f", c.emcPerParameter)) vs best ReLU MLP (\(Plot.escape(m.arch))) \(m.isMeasured ? "" : "≥ ")\(String(format: "%.3f", m.emcPerParameter)) EMC per parameter; " + differenceText(k.interval, format: "%.3f") + capScope(k, c, m)))
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
        section.findings.append(activationFinding(SweepRows(rows: a.rows), preset: preset, seeds: aspec.seeds))
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
    if !failures.isEmpty { section.intro += " Failed configurations, left out of the findings: " + failures.joined(separator: "; ") + "." }
    return section
}

/// EMC far below the parameter count, the more so the larger the model: in each family (ReLU
/// MLPs of one hidden layer, CNNs) the largest model's EMC is below its parameter count at 95%
/// under both conditions, and its EMC per parameter below the smallest one's. Pairs: each
/// architecture with its true- and random-label EMC.
public func fewerThanParameters(_ pairs: [(arch: String, params: Int, t: EMCReport, r: EMCReport)]) -> Finding {
    var verdicts = [Bool?](), notes = [String]()
    for family in ["mlp", "cnn"] {
        let members = pairs.filter { $0.arch.hasPrefix(family) && $0.arch.hasSuffix(":relu") && ($0.arch.split(separator: "-").count == 3 || family == "cnn") }
            .sorted { $0.params < $1.params }
        guard let small = members.first, let large = members.last, members.count >= 2 else { continue }
        for (cond, s, l) in [("true", small.t, large.t), ("random", small.r, large.r)] {
            // Below the parameter count at 95%; above it (a censored EMC too) contradicts.
            let P = Double(l.parameters)
            let below: Bool? = l.interval.flatMap { $0.lowerBound > P ? false : $0.upperBound < P && l.censored == 0 ? true : nil }
            let k = s.comparison(with: l, scale: 1 / Double(s.parameters), otherScale: 1 / Double(l.parameters))
            verdicts += [below, k.larger]
            notes.append("\(family) \(cond): \(String(format: "%.3f", s.emcPerParameter)) → \(String(format: "%.3f", l.emcPerParameter)) per parameter from \(s.parameters) to \(l.parameters) parameters" + (k.larger == true ? "" : k.larger == false ? " (rises)" : " (undecided)"))
        }
    }
    return Finding(instrument: "capacity", claim: "EMC falls far below the parameter count, the further the larger the model",
                   held: allHeld(verdicts), evidence: notes.joined(separator: "; "))
}

/// ReLU against tanh and sigmoid (and, reported, leaky ReLU and linear) at each width and depth,
/// on true and on random labels.
func activationFinding(_ rows: SweepRows, preset: ReproducePreset, seeds: Int) -> Finding {
    let bases = Set(rows.rows.compactMap { $0.settings["arch"].map { String($0[..<$0.lastIndex(of: ":")!]) } }).sorted()
    var decisive = [Bool?](), counts = [String: (win: Int, lose: Int, open: Int)]()
    for base in bases {
        for condition in ["true", "random-labels"] {
            guard let relu = rows.report(["arch": base + ":relu", "condition": condition]) else { continue }
            for other in ["leakyrelu", "tanh", "sigmoid", "linear"] {
                guard let o = rows.report(["arch": base + ":" + other, "condition": condition]) else { continue }
                let k = relu.comparison(with: o).larger
                if other == "tanh" || other == "sigmoid" { decisive.append(k) }
                var c = counts[other, default: (0, 0, 0)]
                if k == true { c.win += 1 } else if k == false { c.lose += 1 } else { c.open += 1 }
                counts[other] = c
            }
        }
    }
    let text = ["leakyrelu", "tanh", "sigmoid", "linear"].compactMap { o in counts[o].map { "vs \(o): larger \($0.win), smaller \($0.lose), undecided \($0.open)" } }
    return Finding(instrument: "capacity", claim: "ReLU networks fit more samples than tanh and sigmoid networks, at every width and depth",
                   held: allHeld(decisive), evidence: "\(bases.count) shape(s) × true and random labels, \(seeds) seeds: " + text.joined(separator: "; "))
}

/// The EMC gap against generalization over the configurations of every study, two ways: Kendall's
/// τ with test accuracy (bootstrap interval), and the paper's own statistic, Pearson's r with the
/// generalization gap (train − test accuracy; Fisher interval), which the paper finds below −0.8.
/// Each is held where its interval lies on the claimed side of 0, not reproduced on the other.
public func gapFindings(_ studies: [GapStudy]) -> [Finding] {
    let used = studies.flatMap(\.correlated)
    let gaps = used.map(\.emcGap)
    func text(_ i: ClosedRange<Double>?) -> String { i.map { String(format: "[%+.2f, %+.2f]", $0.lowerBound, $0.upperBound) } ?? "none (under 4 points)" }
    func verdict(_ i: ClosedRange<Double>?, positive: Bool) -> Bool? {
        i.flatMap { (positive ? $0.lowerBound > 0 : $0.upperBound < 0) ? true : (positive ? $0.upperBound < 0 : $0.lowerBound > 0) ? false : nil }
    }
    let tau = kendallTau(gaps, used.map(\.testAccuracy)), tauInterval = kendallInterval(gaps, used.map(\.testAccuracy))
    let r = pearson(gaps, used.map(\.generalizationGap)), rInterval = r.flatMap { pearsonInterval(r: $0, n: used.count) }
    let atCap = used.filter { !$0.measured }.count
    let points = "\(used.count) configurations\(atCap > 0 ? " (\(atCap) with EMCs at the step cap)" : "")"
    return [Finding(instrument: "capacity", claim: "A larger EMC gap goes with higher test accuracy",
                    held: verdict(tauInterval, positive: true),
                    evidence: "\(points): Kendall τ \(tau.map { String(format: "%+.2f", $0) } ?? "undefined") \(text(tauInterval))"),
            Finding(instrument: "capacity", claim: "A larger EMC gap goes with a smaller generalization gap (the paper: Pearson r below −0.8)",
                    held: verdict(rInterval, positive: false),
                    evidence: "\(points): Pearson r with train − test accuracy at n = 500 \(r.map { String(format: "%+.2f", $0) } ?? "undefined") \(text(rInterval))")]
}

/// Mini-batch against full batch, at one learning rate (quick) or at each batch size's best
/// learning rate and at the paper's 0.01 (full, smoke).
func optimizerFindings(_ rows: [SweepRow], preset: ReproducePreset, section: inout ReportSection, cell: (EMCReport) -> String) -> [Finding] {
    let byBatch = Dictionary(grouping: rows) { $0.settings["batch-size"] ?? "" }
    let claim = "Mini-batch SGD fits more random labels than full-batch GD"
    guard let full = byBatch["0"] else { return [] }
    func label(_ b: String) -> String { b == "0" ? "full batch" : "batch \(b)" }
    var plot = Plot(title: "Mini-batch SGD vs full-batch GD, random labels (\(rows[0].report.arch))", xLabel: "learning rate", yLabel: "EMC (samples)", logX: true)
    for (b, group) in byBatch.sorted(by: { Int($0.key)! > Int($1.key)! }) {
        plot.series.append(.init(label(b), group.compactMap { r in r.settings["lr"].flatMap(Double.init).map { ($0, r.report.mean) } }.sorted { $0.0 < $1.0 }))
    }
    if let svg = try? plot.svg() { section.figures.append(("EMC by learning rate for each batch size; same steps and schedule.", svg)) }
    if !preset.broad {
        let (sgd, gd) = (byBatch["32"]![0].report, full[0].report)
        let k = sgd.comparison(with: gd)
        return [Finding(instrument: "capacity", claim: claim, held: k.larger,
                        evidence: "EMC \(cell(sgd)) with batch 32 vs \(cell(gd)) full batch; " + differenceText(k.interval) + capScope(k, sgd, gd))]
    }
    // Each batch size at its best learning rate (largest mean EMC), and at the paper's 0.01.
    func best(_ g: [SweepRow]) -> SweepRow { g.max { $0.report.mean < $1.report.mean }! }
    let fullBest = best(full)
    var tuned = [Bool?](), atDefault = [Bool?](), tunedText = [String](), defaultText = [String]()
    for b in byBatch.keys.filter({ $0 != "0" }).sorted(by: { Int($0)! < Int($1)! }) {
        let g = byBatch[b]!, top = best(g)
        let k = top.report.comparison(with: fullBest.report)
        tuned.append(k.larger)
        tunedText.append("\(label(b)) at lr \(top.settings["lr"]!) \(cell(top.report)) vs full batch at lr \(fullBest.settings["lr"]!) \(cell(fullBest.report)): " + differenceText(k.interval))
        if let d = g.first(where: { $0.settings["lr"] == "0.01" }), let f = full.first(where: { $0.settings["lr"] == "0.01" }) {
            let kd = d.report.comparison(with: f.report)
            atDefault.append(kd.larger)
            defaultText.append("\(label(b)) \(cell(d.report)) vs full \(cell(f.report)): " + differenceText(kd.interval))
        }
    }
    let note = " (at the paper's batch 640 every EMC here, below 640, would be full batch; batches 32 and 128 stand in)"
    return [Finding(instrument: "capacity", claim: claim + ", each at its best learning rate", held: tuned.contains(true) && !tuned.contains(false) ? true : tuned.contains(false) ? false : nil,
                    evidence: tunedText.joined(separator: "; ") + " (best of lr \(Set(rows.compactMap { $0.settings["lr"] }).sorted().joined(separator: ", ")))"),
            Finding(instrument: "capacity", claim: claim + ", at the paper's learning rate 0.01", held: atDefault.contains(true) && !atDefault.contains(false) ? true : atDefault.contains(false) ? false : nil,
                    evidence: defaultText.joined(separator: "; ") + note)]
}

/// MLPs fit random (Gaussian) inputs more easily than the images; CNNs the images more easily.
public func inputsFinding(_ rows: SweepRows) -> Finding {
    var verdicts = [Bool?](), notes = [String]()
    for (arch, family) in rows.rows.compactMap({ $0.settings["arch"] }).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.map({ ($0, String($0.prefix(3))) }) {
        guard let t = rows.report(["arch": arch, "condition": "true"]), let g = rows.report(["arch": arch, "condition": "gaussian-inputs"]) else { continue }
        let k = family == "mlp" ? g.comparison(with: t) : t.comparison(with: g)
        verdicts.append(k.larger)
        notes.append("\(arch): images \(fmt(t.mean)) vs Gaussian inputs \(fmt(g.mean)), " + differenceText(k.interval) + (family == "mlp" ? " (Gaussian − images)" : " (images − Gaussian)"))
    }
    return Finding(instrument: "capacity", claim: "MLPs fit random inputs more easily than images; CNNs the images more easily",
                   held: allHeld(verdicts), evidence: notes.joined(separator: "; "))
}

/// More classes: true labels harder (EMC falls from 2 to 10 classes), random labels easier (rises).
public func classesFinding(_ rows: SweepRows) -> Finding {
    func r(_ classes: String, _ condition: String) -> EMCReport? { rows.report(["classes": classes, "condition": condition]) }
    guard let t2 = r("2", "true"), let t10 = r("10", "true"), let r2 = r("2", "random-labels"), let r10 = r("10", "random-labels") else {
        return Finding(instrument: "capacity", claim: "More classes make true labels harder and random labels easier", held: nil, evidence: "missing configurations")
    }
    let kt = t2.comparison(with: t10), kr = r10.comparison(with: r2)
    let five = [r("5", "true"), r("5", "random-labels")].map { $0.map { fmt($0.mean) } ?? "–" }
    return Finding(instrument: "capacity", claim: "More classes make true labels harder and random labels easier",
                   held: allHeld([kt.larger, kr.larger]),
                   evidence: "true labels: 2 classes \(fmt(t2.mean)), 5: \(five[0]), 10: \(fmt(t10.mean)) (2 − 10: \(differenceText(kt.interval))); random labels: 2 classes \(fmt(r2.mean)), 5: \(five[1]), 10: \(fmt(r10.mean)) (10 − 2: \(differenceText(kr.interval)))")
}
