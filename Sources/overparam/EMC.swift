import ArgumentParser
import Capacity
import Datasets
import Foundation
import Lab
import Recovery

/// `overparam emc [options]` measures; its help lists the measurement's options (they live on
/// the command itself, not only under a default subcommand).
struct EMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emc",
        abstract: "Effective model complexity: the largest n a training procedure fits (bracket, then bisection).",
        subcommands: [Measure.self, Sweep.self])

    @OptionGroup var options: MeasureOptions
    func run() throws { options.run() }

    /// The same as `overparam emc` (kept for the commands already written down).
    struct Measure: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Same as `overparam emc`.", shouldDisplay: false)
        @OptionGroup var options: MeasureOptions
        func run() throws { options.run() }
    }

    /// The same as `overparam sweep run` (kept for the commands already written down).
    struct Sweep: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Same as `overparam sweep run`.")
        @OptionGroup var options: SweepRunOptions
        func run() throws { options.execute() }
    }
}

struct MeasureOptions: ParsableArguments {
        @Option(help: "Model spec.") var arch: String = EMCSettings.defaults["arch"]!
        @Option(help: "Data set: \(DataSpec.help).") var data: String = EMCSettings.defaults["data"]!
        @Option(help: "Condition: \(Condition.allCases.map(\.rawValue).joined(separator: ", ")).") var condition: String = "true"
        @Option(parsing: .unconditional, help: "Average-pool images by this factor.") var downsample: Int = 1
        @Option(parsing: .unconditional, help: "Merge the classes into this many.") var classes: Int?
        @Option(help: "Optimizer: sgd, nesterov, adam or adamw.") var optimizer: String = EMCSettings.defaults["optimizer"]!
        @Option(parsing: .unconditional, help: "Learning rate.") var lr: Double = 0.01
        @Option(parsing: .unconditional, help: "Momentum (sgd).") var momentum: Double = 0.9
        @Option(parsing: .unconditional, help: "Mini-batch size; 0 means full batch.") var batchSize: Int = 640
        @Option(parsing: .unconditional, help: "Step budget per attempt.") var steps: Int = 5000
        @Flag(help: "Check each no-fit for curvature: the training loss's extreme Hessian eigenvalues (Lanczos); a clearly negative one marks a saddle, and the attempt is run again under a larger budget.")
        var curvature = false
        @Option(parsing: .unconditional, help: "Largest budget an undecided attempt is trained to, doubling from --steps (0: \(EMCSettings.defaultCapFactor) × --steps); under a constant schedule it goes on from where it stopped, under cosine it starts again.")
        var maxSteps: Int = 0
        @Option(parsing: .unconditional, help: "Train only d coordinates of a random subspace through the initialization, θ = θ₀ + P z (P: d random unit columns); EMC per parameter is then per trained parameter.")
        var subspace: Int?
        @Option(help: "Schedule: cosine (to 0 over the budget) or constant.") var schedule: String = "cosine"
        @Option(parsing: .unconditional, help: "Train accuracy that counts as a fit.") var threshold: Double = 1
        @Option(help: "Initialization: he, xavier, torch or gaussian:STD.") var initialization: String = "torch"
        @Option(parsing: .unconditional, help: "Number of seeds (0, 1, …), run side by side on all cores.") var seeds: Int = 1
        @Option(parsing: .unconditional, help: "Threads running seeds side by side (default: one per core).") var workers: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(parsing: .unconditional, help: "First n tried.") var start: Int = 64
        @Option(parsing: .unconditional, help: "Relative precision of the bisection.") var precision: Double = 0.02
        @Flag(help: "Print one JSON object with the results.") var json = false
        @Option(help: "The result store (a SQLite file or a postgres:// URL); every finished attempt is written to it, and a re-run resumes from it.")
        var store: String = "overparam-results.sqlite"
        @Flag(help: "Keep nothing on disk.") var noStore = false
        @Flag(help: "After the search, train each seed's largest fitted attempt again and report the rank of its tangent matrix on the samples it fit (one logit's, and all classes' stacked), in Double.")
        var endRank = false

        func run() {
            do { try execute() } catch { fail(error) }
        }

        func execute() throws {
            let settings = try EMCSettings([
                "arch": arch, "data": data, "condition": condition, "downsample": "\(downsample)",
                "classes": classes.map(String.init) ?? "all", "optimizer": optimizer, "lr": "\(lr)", "momentum": "\(momentum)",
                "batch-size": "\(batchSize)", "steps": "\(steps)", "max-steps": "\(maxSteps)", "curvature": curvature ? "on" : "off", "schedule": schedule, "threshold": "\(threshold)",
                "init": initialization, "seeds": "\(seeds)", "start": "\(start)", "precision": "\(precision)",
                "subspace": subspace.map(String.init) ?? "off",
            ])
            try settings.validate()  // settings errors before any data is loaded
            guard workers >= 1 else { throw ExperimentError("--workers must be at least 1") }
            let started = DispatchTime.now().uptimeNanoseconds
            let d = try settings.data()
            let tracker = ProgressTracker(seeds: seeds, plan: try settings.plan(maximum: d.count))
            let procedure = try settings.procedure()
            try procedure.check(d)  // a model that cannot be built or cannot take the data fails before the header
            let cap = procedure.budgets.cap
            if !json {
                print("EMC of \(arch)\(subspace.map { " in a random \($0)-dimensional subspace" } ?? "") on \(data) [\(condition)]; \(optimizer), lr \(lr), batch \(batchSize == 0 ? "full" : String(batchSize)), budget \(steps) steps (doubled up to \(cap) while undecided), \(seeds) seed(s)")
            }
            let report = try settings.run(data: d, store: try openStore(store, unless: noStore), workers: workers) { seed, r, lo, hi, replayed in
                // With --json, standard output is the JSON alone: the attempts go to standard error.
                let line = attemptLine(seed, r, lo, hi, since: started, tracker: tracker, replayed: replayed)
                if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line); fflush(stdout) }
            }
            let ranks = endRank ? try endRanks(of: report, data: d, procedure: try settings.procedure()) : []
            if json {
                var out: [String: Any] = [
                    "arch": arch, "data": data, "condition": condition, "parameters": report.parameters,
                    "emc_mean": report.mean, "emc_std": report.std, "emc_per_seed": report.perSeed,
                    "emc_per_parameter": report.emcPerParameter, "undecided": report.undecided, "escalated": report.escalated,
                    "runs": report.runs, "max_steps": cap,
                    // With a subspace, `parameters` counts the trained ones (its dimension).
                    "subspace": subspace.map { $0 as Any } ?? NSNull(),
                    "emc_interval": report.interval.map { [$0.lowerBound, $0.upperBound] as Any } ?? NSNull(),
                    // What the numbers are: where not "measured", emc_mean is only a lower bound.
                    "status": report.status, "status_per_seed": report.searches.map(\.status.rawValue),
                    "censored": report.censored > 0, "budget_bounded": report.budgetBounded > 0, "data_size": d.count,
                    "collapsed": report.collapsed, "collapsed_per_seed": report.searches.map(\.collapsed), "diverged": report.diverged,
                    "attempts": report.searches.map(\.attempts.count).reduce(0, +),
                    // What computed the attempts (read back from the store, they may be another machine's).
                    "arithmetic": Array(Set(report.searches.flatMap { $0.attempts.compactMap(\.arithmetic) })).sorted(),
                    "seconds": Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                ]
                if endRank { out["end_rank"] = ranks.map(endRankObject) }
                print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
            } else {
                let interval = report.interval.map { String(format: ", 95%% interval %@[%.1f, %.1f]", report.isMeasured ? "" : "of lower bounds ", $0.lowerBound, $0.upperBound) } ?? ""
                print("EMC \(report.text) over \(seeds) seed(s)\(interval) (per seed: \(report.searches.map(\.text).joined(separator: ", "))); "
                      + String(format: "%d %@parameters, %@%.3f EMC per %@parameter", report.parameters, subspace == nil ? "" : "trained ",
                               report.isMeasured ? "" : "≥ ", report.emcPerParameter, subspace == nil ? "" : "trained "))
                print("\(report.searches.map(\.attempts.count).reduce(0, +)) attempts in \(report.runs) training runs: \(report.escalated) decided only under a larger budget, \(report.undecided) still undecided at \(cap) steps")
                if report.censored > 0 {
                    print("censored: \(report.censored) of \(seeds) seed(s) fit all \(d.count) samples, so the EMC is at least the data set's size, not a measurement. Use more data (or a smaller model).")
                }
                if report.budgetBounded > 0 {
                    print("budget-bounded: for \(report.budgetBounded) of \(seeds) seed(s) the smallest size that did not fit was still improving at \(cap) steps (undecided), so the EMC is that of the procedure capped at \(cap) steps, and only a lower bound on what more steps would fit. Raise --max-steps to decide it.")
                }
                if report.collapsed > 0 {
                    print("collapsed: for \(report.collapsed) of \(seeds) seed(s) the smallest size that did not fit ended having learned nothing beyond the class frequencies (training loss within \(Int(collapseTolerance * 100))% of the labels' entropy) under every budget up to \(cap) steps: the optimization failed there (a learning rate too large, dead or saturated units), not the model's capacity. Another --lr or --initialization may fit more.")
                }
                if report.diverged > 0 {
                    print("diverged: for \(report.diverged) of \(seeds) seed(s) the smallest size that did not fit diverged (the training loss became NaN or infinite), so the EMC is the procedure's, ended by its instability rather than by a converged failure. A smaller --lr may fit more.")
                }
                if endRank { printEndRanks(ranks, seeds: seeds) }
            }
        }
}

/// `--end-rank`: per seed, the tangent ranks of its largest fit at σ > 1e-3·σ₁ and 1e-6·σ₁.
func printEndRanks(_ ranks: [ClassifierEndRank], seeds: Int) {
    print("tangent rank of each seed's largest fit, trained again (σ > 1e-3·σ₁ / 1e-6·σ₁, in Double):")
    for r in ranks {
        let l = r.logit, s = r.stacked
        print("  seed \(r.seed)  n \(r.n) (budget \(r.budget)): logit 0 on \(l.inputs) samples \(l.rank(relative: 1e-3)) / \(l.rank(relative: 1e-6)) of ≤ \(min(l.inputs, r.parameters)); "
              + "\(r.classes) classes stacked (\(s.inputs) rows) \(s.rank(relative: 1e-3)) / \(s.rank(relative: 1e-6)) of ≤ \(min(s.inputs, r.parameters)); M = \(r.parameters)")
    }
    if ranks.count < seeds { print("  (\(seeds - ranks.count) seed(s) fitted no size: nothing to measure)") }
}

func endRankObject(_ r: ClassifierEndRank) -> [String: Any] {
    ["seed": r.seed, "n": r.n, "budget": r.budget, "parameters": r.parameters, "classes": r.classes, "inputs": r.logit.inputs,
     "logit_rank_1e-3": r.logit.rank(relative: 1e-3), "logit_rank_1e-6": r.logit.rank(relative: 1e-6),
     "stacked_rank_1e-3": r.stacked.rank(relative: 1e-3), "stacked_rank_1e-6": r.stacked.rank(relative: 1e-6),
     "logit_singular_values": r.logit.singularValues, "stacked_singular_values": r.stacked.singularValues]
}

/// One attempt's progress line: size, verdict, accuracy, loss, gradient norm, steps, bracket;
/// an attempt read back from the store (a resumed run) says so.
func attemptLine(_ seed: UInt64, _ r: FitResult, _ lo: Int, _ hi: Int?, since start: UInt64, tracker: ProgressTracker? = nil,
                 replayed: Bool = false) -> String {
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var status = String(format: "%.0f s", elapsed)
    if let tracker {
        let (done, eta) = tracker.record(seed: seed, lo: lo, hi: hi, elapsed: elapsed)
        status = "attempt \(done), \(status)" + (eta.map { String(format: ", ETA ≥ %.0f s", $0) } ?? "")
    }
    return String(format: "  seed %llu  n %6d  %-9@ acc %6.2f%%  loss %.4f  |g| %.2e  %@ steps %6.1f s   bracket [%d, %@]  (%@)",
                  seed, r.n, r.verdict.rawValue, 100 * r.trainAccuracy, r.trainLoss, r.gradientNorm,
                  "\(r.steps)/\(r.budget)".leftPadded(to: 12), r.seconds,
                  lo, hi.map(String.init) ?? "–", status)
        + (r.hessianMin.map { String(format: "  Hessian eigenvalues [%.2e, %.2e]", $0, r.hessianMax ?? .nan) } ?? "")
        + (replayed ? "  replayed from the store" : "")
}

/// Attempts done and a lower-bound ETA: the attempts each seed's bracket still needs (seeds not
/// started count as the average finished search), at the mean time per attempt so far, shared
/// by the cores.
final class ProgressTracker {
    let seeds: Int
    let plan: SearchPlan
    var done = 0
    var brackets = [UInt64: (lo: Int, hi: Int?)]()

    init(seeds: Int, plan: SearchPlan) { self.seeds = seeds; self.plan = plan }

    func record(seed: UInt64, lo: Int, hi: Int?, elapsed: Double) -> (Int, Double?) {
        done += 1
        brackets[seed] = (lo, hi)
        let open = brackets.values.map { remainingAttempts(plan: plan, lo: $0.lo, hi: $0.hi) }.reduce(0, +)
        let perSeed = Double(done + open) / Double(max(brackets.count, 1))
        let pending = Double(seeds - brackets.count) * perSeed
        let workers = Double(min(seeds, ProcessInfo.processInfo.activeProcessorCount))
        let left = Double(open) + pending
        return (done, left > 0 ? elapsed / Double(done) * left / workers : nil)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
