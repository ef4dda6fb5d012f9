import Capacity
import Foundation
import Linalg

// The EMC paper's findings as `overparam reproduce` judges them, each from the intervals of
// `EMCReport.comparison` (Welch's, over the seeds), Kendall's τ (bootstrap) or Pearson's r
// (Fisher): held where every comparison goes the claimed way, not reproduced where one goes
// decisively the other way, inconclusive otherwise (`allHeld`).

/// One verdict from several comparisons that must all go the claimed way: not reproduced if any
/// goes decisively the other way, inconclusive if any is undecided, held otherwise.
public func allHeld(_ verdicts: [Bool?]) -> Bool? {
    verdicts.isEmpty || verdicts.contains(false) ? false : verdicts.contains(nil) ? nil : true
}

/// EMC far below the parameter count, the more so the larger the model: in each family (ReLU
/// MLPs of one hidden layer, ReLU CNNs, ViTs) the largest model's EMC is below its parameter count at 95%
/// under both conditions, and its EMC per parameter below the smallest one's. Pairs: each
/// architecture with its true- and random-label EMC.
public func fewerThanParameters(_ pairs: [(arch: String, params: Int, t: EMCReport, r: EMCReport)]) -> Finding {
    var verdicts = [Bool?](), notes = [String]()
    for f in [ArchitectureFamily.mlp, .cnn, .vit] {
        let family = f.prefix
        let members = pairs.filter { f.contains($0.arch) && (family != "mlp" || $0.arch.split(separator: "-").count == 3) }
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
func activationFinding(_ rows: SweepRows, seeds: Int) -> Finding {
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
    // Seeds a collapse or a divergence ended, per activation: there the optimization, not the
    // activation's capacity, decided (dead ReLUs, saturated sigmoids, a rate too large).
    func seedsEnded(_ what: String, _ count: (EMCReport) -> Int) -> String {
        let parts = ["relu", "leakyrelu", "tanh", "sigmoid", "linear"].compactMap { a -> String? in
            let reports = rows.rows.filter { $0.settings["arch"]?.hasSuffix(":" + a) == true }.map(\.report)
            let k = reports.map(count).reduce(0, +)
            return k == 0 ? nil : "\(a) \(k) of \(reports.map(\.searches.count).reduce(0, +))"
        }
        return parts.isEmpty ? "" : "; seeds ended at \(what): " + parts.joined(separator: ", ")
    }
    let ended = seedsEnded("a collapse (learned nothing beyond the class frequencies: the optimization's failure)", \.collapsed)
        + seedsEnded("a divergence (the loss became NaN or infinite: the procedure's instability)", \.diverged)
    return Finding(instrument: "capacity", claim: "ReLU networks fit more samples than tanh and sigmoid networks, at every width and depth",
                   held: allHeld(decisive), evidence: "\(bases.count) shape(s) × true and random labels, \(seeds) seeds: " + text.joined(separator: "; ") + ended)
}

/// The EMC gap against generalization over the configurations of every study, two ways: Kendall's
/// τ with test accuracy (bootstrap interval), and the paper's own statistic, Pearson's r with the
/// generalization gap (train − test accuracy; Fisher interval), which the paper finds below −0.8.
/// Each is held where its interval lies on the claimed side of 0, not reproduced on the other.
public func gapFindings(_ studies: [GapStudy]) -> [Finding] {
    let used = studies.flatMap(\.correlated)
    let gaps = used.map(\.emcGap)
    func text(_ i: ClosedRange<Double>?) -> String {
        i.map { String(format: "[%+.2f, %+.2f]", $0.lowerBound, $0.upperBound) } ?? (used.count < 4 ? "none (under 4 points)" : "none (a perfect or undefined correlation)")
    }
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
    guard let full = byBatch["0"], let arch = rows.first?.report.arch else { return [] }   // failed configurations are left out
    func label(_ b: String) -> String { b == "0" ? "full batch" : "batch \(b)" }
    var plot = Plot(title: "Mini-batch SGD vs full-batch GD, random labels (\(arch))", xLabel: "learning rate", yLabel: "EMC (samples)", logX: true)
    for (b, group) in byBatch.sorted(by: { Int($0.key)! > Int($1.key)! }) {
        plot.series.append(.init(label(b), group.compactMap { r in r.settings["lr"].flatMap(Double.init).map { ($0, r.report.mean) } }.sorted { $0.0 < $1.0 }))
    }
    if let svg = try? plot.svg() { section.figures.append(("EMC by learning rate for each batch size; same steps and schedule.", svg)) }
    if !preset.broad {
        guard let sgd = byBatch["32"]?.first?.report, let gd = full.first?.report else { return [] }
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
    // Held where some batch size beats full batch and none is beaten by it.
    func someHeld(_ v: [Bool?]) -> Bool? { v.contains(false) ? false : v.contains(true) ? true : nil }
    let note = " (at the paper's batch 640 every EMC here, below 640, would be full batch; batches 32 and 128 stand in)"
    return [Finding(instrument: "capacity", claim: claim + ", each at its best learning rate", held: someHeld(tuned),
                    evidence: tunedText.joined(separator: "; ") + " (best of lr \(Set(rows.compactMap { $0.settings["lr"] }).sorted().joined(separator: ", ")))"),
            Finding(instrument: "capacity", claim: claim + ", at the paper's learning rate 0.01", held: someHeld(atDefault),
                    evidence: defaultText.joined(separator: "; ") + note)]
}

/// MLPs fit random (Gaussian) inputs more easily than the images; CNNs the images more easily.
public func inputsFinding(_ rows: SweepRows) -> Finding {
    var verdicts = [Bool?](), notes = [String]()
    for row in rows.rows where row.settings["condition"] == "true" {
        guard let arch = row.settings["arch"], let g = rows.report(["arch": arch, "condition": "gaussian-inputs"]) else { continue }
        let t = row.report, mlp = arch.hasPrefix("mlp")
        let k = mlp ? g.comparison(with: t) : t.comparison(with: g)
        verdicts.append(k.larger)
        notes.append("\(arch): images \(fmt(t.mean)) vs Gaussian inputs \(fmt(g.mean)), " + differenceText(k.interval) + (mlp ? " (Gaussian − images)" : " (images − Gaussian)"))
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
