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
    try runSweeps([spec], store: store, shard: shard, datasets: datasets, keepGoing: keepGoing, workers: workers,
                  log: log.map { log in { _, line in log(line) } }, finished: finished,
                  progress: progress.map { p in { _, k, seed, r, lo, hi, replayed in p(k, seed, r, lo, hi, replayed) } })[0]
}

/// `runSweep` of several sweep files on one pool: every configuration of every file shares the
/// `workers` threads, so a core freed by one file's last search takes the next file's first
/// rather than waiting for it (run one file after another, each file's tail left a core idle).
/// A configuration that two files share (the same settings) is measured once and its row goes
/// to both. `log(s, line)` and `progress(s, k, …)` name the sweep by its index in `specs`;
/// `finished(k, K)` counts the configurations of all of them. Each file's tables, figures and
/// gap study are written once every search has ended. The answers are each file's run alone.
public func runSweeps(_ specs: [SweepSpec], store: (any Store)?, shard: Shard? = nil, datasets: [String: LabeledData<Float>] = [:],
                      keepGoing: Bool = false, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                      log: ((Int, String) -> Void)? = nil, finished: ((Int, Int) -> Void)? = nil,
                      progress: ((Int, Int, UInt64, FitResult, Int, Int?, Bool) -> Void)? = nil) throws -> [SweepOutcome] {
    var datasets = datasets
    var failed = specs.map { _ in [(index: Int, error: String)]() }
    let configs = specs.map(\.configurations)   // each sweep's, expanded once
    func label(_ s: Int, _ i: Int) -> String { "[\(i + 1)/\(configs[s].count)] \(specs[s].label(configs[s][i]))" }
    func fail(_ s: Int, _ i: Int, _ error: Error) {
        failed[s].append((i, plainMessage(error)))
        log?(s, label(s, i) + ": failed, and the sweep goes on without it: \(plainMessage(error))")
    }
    // Every configuration's job before the first attempt, so that one pool can run them all;
    // one job per distinct configuration, with the (sweep, configuration) pairs it answers.
    var jobs = [EMCJob](), owners = [[(sweep: Int, index: Int)]](), jobOf = [[String: String]: Int]()
    let total = specs.map { $0.owned(by: shard).count }.reduce(0, +)
    for (s, spec) in specs.enumerated() {
        for i in spec.owned(by: shard) {
            let settings = try EMCSettings(configs[s][i])
            if let j = jobOf[settings.values] { owners[j].append((s, i)); continue }
            if datasets[settings.dataKey] == nil { datasets[settings.dataKey] = try settings.data() }
            do {
                jobs.append(try settings.job(data: datasets[settings.dataKey], store: store))
                jobOf[settings.values] = jobs.count - 1
                owners.append([(s, i)])
            } catch where keepGoing { fail(s, i, error) }
        }
    }
    var ended = failed.map(\.count).reduce(0, +)
    if ended > 0 { finished?(ended, total) }
    let outcomes = try measureEMCs(jobs, workers: workers, keepGoing: keepGoing,
                                   started: { j in for o in owners[j] { log?(o.sweep, label(o.sweep, o.index)) } },
                                   progress: progress.map { p in { j, seed, r, lo, hi, replayed in
                                       p(owners[j][0].sweep, owners[j][0].index, seed, r, lo, hi, replayed) } }) { j, outcome in
        for o in owners[j] {
            switch outcome {
            case let .success(report): log?(o.sweep, label(o.sweep, o.index) + ": " + reportLine(report))
            case let .failure(error): if keepGoing { fail(o.sweep, o.index, error) }
            }
            ended += 1
            finished?(ended, total)
        }
    }
    var reports = specs.map { _ in [Int: EMCReport]() }
    for (j, outcome) in outcomes.enumerated() {
        if case let .success(report) = outcome { for o in owners[j] { reports[o.sweep][o.index] = report } }
    }
    return try specs.indices.map { s in
        let spec = specs[s]
        let rows = spec.owned(by: shard).compactMap { i in reports[s][i].map { SweepRow(settings: configs[s][i], report: $0) } }
        // Failures in configuration order, as the rows.
        let listed = failed[s].sorted { $0.index < $1.index }.map { (label: spec.label(configs[s][$0.index]), error: $0.error) }
        // A shard holds a slice: the tables and figures come from the merged store.
        guard shard == nil else { return SweepOutcome(rows: rows, failed: listed) }
        try writeSweepOutputs(spec, rows)
        let gap = try spec.generalizationSize.map { try relateGapToGeneralization(spec, rows, trainSize: $0, store: store, log: log.map { log in { log(s, $0) } }) }
        if let gap { log?(s, gap.summary) }
        return SweepOutcome(rows: rows, gap: gap, failed: listed)
    }
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
