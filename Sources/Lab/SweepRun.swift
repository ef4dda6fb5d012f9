import Capacity
import Datasets
import Foundation
import Linalg
import NeuralNets

/// One configuration's outcome in a sweep.
public struct SweepRow: Sendable {
    public var settings: [String: String]
    public var report: EMCReport

    public init(settings: [String: String], report: EMCReport) { self.settings = settings; self.report = report }
}

/// What a sweep measured: a row per configuration run, and the EMC-gap study when the spec
/// asks for one (`generalization: N`) and the run covered the whole sweep.
public struct SweepOutcome: Sendable {
    public var rows: [SweepRow]
    public var gap: GapStudy?
    /// Configurations whose search failed (with `keepGoing`): label and error, left out of the rows.
    public var failed: [(label: String, error: String)] = []
}

/// Runs every configuration of a sweep (resuming from the store), then writes the tables and
/// the figure into the spec's output folder. The rows come in configuration order.
/// The configurations share one pool of `workers` threads (`measureEMCs`): a core freed by a
/// configuration's last search takes the next configuration's first, and the answers are those
/// of the configurations run one by one. The log names a configuration ("[k/K] label") when its
/// first attempt starts and again with its EMC when it ends; `progress` hears of every attempt
/// with the configuration's index; `finished(k, K)` is called as each of the K configurations
/// this run owns ends. Each data set is loaded once (`datasets`: those already loaded, by
/// `EMCSettings.dataKey`, as `validateConfigurations` returns them). With `keepGoing`, a
/// configuration whose search throws (its store failing, say; a divergence is a verdict, not an
/// error) is logged and listed in `failed` and the sweep goes on, as the work queue does;
/// otherwise the error ends the sweep (what it finished stays stored).
public func runSweep(_ spec: SweepSpec, store: (any Store)?, shard: Shard? = nil, datasets: [String: LabeledData<Float>] = [:],
                     keepGoing: Bool = false, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                     log: ((String) -> Void)? = nil, finished: ((Int, Int) -> Void)? = nil,
                     progress: ((Int, UInt64, FitResult, Int, Int?, Bool) -> Void)? = nil) throws -> SweepOutcome {
    var datasets = datasets
    var failed = [(index: Int, error: String)]()
    let configs = spec.configurations, mine = spec.owned(by: shard)
    func label(_ i: Int) -> String { "[\(i + 1)/\(configs.count)] \(spec.label(configs[i]))" }
    func fail(_ i: Int, _ error: Error) {
        failed.append((i, plainMessage(error)))
        log?(label(i) + ": failed, and the sweep goes on without it: \(plainMessage(error))")
    }
    // Every configuration's job before the first attempt, so that one pool can run them all.
    var jobs = [(index: Int, job: EMCJob)]()
    for i in mine {
        let settings = try EMCSettings(configs[i])
        if datasets[settings.dataKey] == nil { datasets[settings.dataKey] = try settings.data() }
        do { jobs.append((i, try settings.job(data: datasets[settings.dataKey], store: store))) } catch where keepGoing { fail(i, error) }
    }
    var ended = failed.count
    if ended > 0 { finished?(ended, mine.count) }
    let outcomes = try measureEMCs(jobs.map(\.job), workers: workers, keepGoing: keepGoing, started: { log?(label(jobs[$0].index)) },
                                   progress: progress.map { p in { j, seed, r, lo, hi, replayed in p(jobs[j].index, seed, r, lo, hi, replayed) } }) { j, outcome in
        switch outcome {
        case let .success(report): log?(label(jobs[j].index) + ": " + reportLine(report))
        case let .failure(error): if keepGoing { fail(jobs[j].index, error) }
        }
        ended += 1
        finished?(ended, mine.count)
    }
    var rows = [SweepRow]()
    for (j, outcome) in outcomes.enumerated() {
        if case let .success(report) = outcome { rows.append(SweepRow(settings: configs[jobs[j].index], report: report)) }
    }
    // Failures in configuration order, as the rows.
    let listed = failed.sorted { $0.index < $1.index }.map { (label: spec.label(configs[$0.index]), error: $0.error) }
    // A shard holds a slice: the tables and figures come from the merged store.
    guard shard == nil else { return SweepOutcome(rows: rows, failed: listed) }
    try writeSweepOutputs(spec, rows)
    let gap = try spec.generalizationSize.map { try relateGapToGeneralization(spec, rows, trainSize: $0, store: store, log: log) }
    if let gap { log?(gap.summary) }
    return SweepOutcome(rows: rows, gap: gap, failed: listed)
}

/// A configuration's EMC as the sweep logs it: what it is, how many attempts needed more budget,
/// and the collapses and divergences that ended searches.
func reportLine(_ report: EMCReport) -> String {
    "EMC \(report.text) (\(report.parameters) parameters; \(report.escalated) attempts decided under a larger budget, \(report.undecided) undecided at the cap)"
        + (report.isMeasured ? "" : report.censored > 0 ? ": \(report.status), a lower bound" : ": \(report.status), the EMC at the \(report.cap)-step cap, a lower bound beyond it")
        + (report.collapsed > 0 ? "; \(report.collapsed) seed(s) ended at a collapse (learned nothing beyond the class frequencies): the optimization's failure, not the capacity's" : "")
        + (report.diverged > 0 ? "; \(report.diverged) seed(s) ended at a divergence (the loss became NaN or infinite): the procedure's instability, not the capacity" : "")
}

/// Runs `body` on each configuration the run owns (its index and settings), in order, with
/// the "[k/K] label" line before and the progress count after each.
func eachConfiguration<Row>(_ spec: SweepSpec, _ shard: Shard?, log: ((String) -> Void)?, finished: ((Int, Int) -> Void)?,
                            _ body: (Int, [String: String]) throws -> Row) rethrows -> [Row] {
    let configs = spec.configurations, mine = spec.owned(by: shard)
    var rows = [Row]()
    for i in mine {
        log?("[\(i + 1)/\(configs.count)] \(spec.label(configs[i]))")
        rows.append(try body(i, configs[i]))
        finished?(rows.count, mine.count)
    }
    return rows
}

/// A deterministic slice of a sweep, `--shard i/N` (i = 0…N−1): configuration k belongs to
/// shard k mod N, so N batch jobs (a SLURM array, a Kubernetes indexed job) cover the sweep
/// exactly once between them, each into its own store file.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    /// Parses "i/N".
    public init(_ text: String) throws {
        let parts = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 0, i < n else {
            throw ExperimentError("--shard '\(text)': expected i/N with 0 ≤ i < N, e.g. 0/4")
        }
        index = i; count = n
    }

    public func owns(_ configuration: Int) -> Bool { configuration % count == index }
}

extension SweepSpec {
    /// The indices of the configurations a run owns: all of them, or a shard's slice.
    public func owned(by shard: Shard?) -> [Int] { configurations.indices.filter { shard?.owns($0) ?? true } }

    /// "axis=value …" for one configuration.
    public func label(_ c: [String: String]) -> String { varying.map { "\($0)=\(c[$0]!)" }.joined(separator: " ") }
}

/// Where one configuration of a sweep stands in a store.
public struct ConfigurationStatus: Sendable {
    public var label: String
    /// Seeds whose search is complete, seeds with some attempts but not complete, all seeds.
    public var done: Int, started: Int, seeds: Int
    public var attempts: Int
    public var state: String { done == seeds ? "done" : (done + started > 0 ? "running" : "left") }
}

/// Replays each seed's search from the stored attempts alone (nothing is trained): a seed is
/// done when its search needs no attempt that is missing.
public func sweepStatus(_ spec: SweepSpec, store: any Store) throws -> [ConfigurationStatus] {
    guard spec.kind == .emc else {
        throw ExperimentError("sweep status replays EMC searches; a \(spec.kind.rawValue) sweep resumes from its store on `sweep run`, which skips finished runs")
    }
    var datasets = [String: LabeledData<Float>]()   // loaded once per (data, downsample, classes, condition)
    return try spec.configurations.map { c in
        let settings = try EMCSettings(c)
        if datasets[settings.dataKey] == nil { datasets[settings.dataKey] = try settings.data() }
        let data = datasets[settings.dataKey]!
        let plan = try settings.plan(maximum: data.count)
        let cache = try store.cache(instrument: "emc", config: try settings.storeKey(), description: settings.storeDescription)
        let procedure = try settings.procedure()
        var done = 0, started = 0, attempts = 0
        for seed in 0..<(try settings.seeds) {
            var state = SearchState(plan: plan, seed: UInt64(seed))
            let labels = attemptLabels(data, order: data.sampleOrder(seed: UInt64(seed)))
            try state.replay(from: cache, budgets: procedure.budgets, retrying: procedure.retried(labels: labels))
            attempts += state.attempts.count
            if state.next == nil { done += 1 } else if !state.attempts.isEmpty { started += 1 }
        }
        return ConfigurationStatus(label: spec.label(c), done: done, started: started, seeds: try settings.seeds, attempts: attempts)
    }
}

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

/// results.csv, results.json and emc-vs-parameters.svg in the output folder.
public func writeSweepOutputs(_ spec: SweepSpec, _ rows: [SweepRow]) throws {
    try prepareOutputFolder(spec.output)
    let axisNames = spec.varying
    // `status` says what each EMC is; where it is not "measured", emc_mean is a lower bound.
    var csv = (axisNames + ["parameters", "emc_mean", "emc_std", "emc_per_seed", "emc_per_parameter", "undecided",
                            "status", "censored", "budget_bounded", "escalated", "runs", "emc_ci_low", "emc_ci_high", "collapsed", "diverged"]).joined(separator: ",") + "\n"
    var json = [[String: Any]]()
    for r in rows {
        let perSeed = r.report.searches.map { $0.text.replacingOccurrences(of: " ", with: "") }.joined(separator: " ")
        csv += (axisNames.map { csvField(r.settings[$0] ?? "") } + [String(r.report.parameters), String(r.report.mean),
                String(r.report.std), perSeed, String(r.report.emcPerParameter), String(r.report.undecided),
                r.report.status, String(r.report.censored > 0), String(r.report.budgetBounded > 0),
                String(r.report.escalated), String(r.report.runs),
                r.report.interval.map { String($0.lowerBound) } ?? "", r.report.interval.map { String($0.upperBound) } ?? "",
                String(r.report.collapsed), String(r.report.diverged)]).joined(separator: ",") + "\n"
        json.append(["settings": r.settings, "parameters": r.report.parameters, "emc_mean": r.report.mean, "emc_std": r.report.std,
                     "emc_per_seed": r.report.perSeed, "emc_per_parameter": r.report.emcPerParameter, "undecided": r.report.undecided,
                     "status": r.report.status, "status_per_seed": r.report.searches.map(\.status.rawValue),
                     "censored": r.report.censored > 0, "budget_bounded": r.report.budgetBounded > 0,
                     "escalated": r.report.escalated, "runs": r.report.runs, "collapsed": r.report.collapsed,
                     "collapsed_per_seed": r.report.searches.map(\.collapsed), "diverged": r.report.diverged,
                     "emc_interval": r.report.interval.map { [$0.lowerBound, $0.upperBound] as Any } ?? NSNull()])
    }
    try csv.write(toFile: spec.output + "/results.csv", atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        .write(to: URL(fileURLWithPath: spec.output + "/results.json"))
    // EMC against parameter count, one series per model family and condition; lower bounds
    // (censored or budget-bounded EMCs) as their own hollow-triangle series.
    var plot = Plot(title: "EMC vs parameter count", xLabel: "parameters", yLabel: "EMC (samples fitted)", logX: true, logY: true)
    var groups = [String: [(x: Double, y: Double)]]()
    var order = [String]()
    for r in rows where r.report.mean > 0 {
        let family = String(r.settings["arch"]!.prefix { $0 != ":" })
        let name = "\(family), \(r.settings["condition"] ?? "true")" + (r.report.isMeasured ? "" : " (≥, lower bound)")
        if groups[name] == nil { order.append(name) }
        groups[name, default: []].append((Double(r.report.parameters), r.report.mean))
    }
    plot.series = order.map { Plot.Series($0, groups[$0]!, style: $0.hasSuffix("(≥, lower bound)") ? .lowerBounds : .points) }
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
