import ArgumentParser
import Capacity
import Datasets
import Foundation
import Lab
import Linalg
import NeuralNets

struct EMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emc",
        abstract: "Effective model complexity: the largest n a training procedure fits (bracket, then bisection).")

    @Option(help: "Model spec.") var arch: String = "mlp:64-32-10:relu"
    @Option(help: "Data set: \(DataSpec.help).") var data: String = "digits"
    @Option(help: "Condition: \(Condition.allCases.map(\.rawValue).joined(separator: ", ")).") var condition: String = "true"
    @Option(help: "Average-pool images by this factor.") var downsample: Int = 1
    @Option(help: "Merge the classes into this many.") var classes: Int?
    @Option(help: "Optimizer: sgd, nesterov, adam or adamw.") var optimizer: String = "sgd"
    @Option(help: "Learning rate.") var lr: Double = 0.01
    @Option(help: "Momentum (sgd).") var momentum: Double = 0.9
    @Option(help: "Mini-batch size; 0 means full batch.") var batchSize: Int = 640
    @Option(help: "Step budget per attempt.") var steps: Int = 5000
    @Option(help: "Schedule: cosine (to 0 over the budget) or constant.") var schedule: String = "cosine"
    @Option(help: "Train accuracy that counts as a fit.") var threshold: Double = 1
    @Option(help: "Initialization: he, xavier, torch or gaussian:STD.") var initialization: String = "torch"
    @Option(help: "Number of seeds (0, 1, …).") var seeds: Int = 1
    @Option(help: "First n tried.") var start: Int = 64
    @Option(help: "Relative precision of the bisection.") var precision: Double = 0.02
    @Flag(help: "Print one JSON object with the results.") var json = false
    @Option(help: "SQLite file every finished attempt is written to; a re-run resumes from it.") var store: String = "overparam-results.sqlite"
    @Flag(help: "Keep nothing on disk.") var noStore = false

    func run() throws {
        do { try execute() } catch { fail(error) }
    }

    func execute() throws {
        guard let cond = Condition(rawValue: condition) else {
            throw ValidationError("unknown condition '\(condition)'; use \(Condition.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard seeds >= 1, steps >= 1, threshold > 0, threshold <= 1, precision > 0 else {
            throw ValidationError("--seeds and --steps must be ≥ 1, --threshold in (0, 1], --precision > 0")
        }
        var d = try DataSpec.load(data, seed: 0, as: Float.self).train.downsampled(by: downsample)
        if let classes { d = try d.mergingClasses(into: classes) }
        d = d.applying(cond, seed: 0)
        var p = FitProcedure(arch: arch)
        p.initialization = try parseInitialization(initialization)
        p.threshold = threshold
        p.train.optimizer = try parseOptimizer(optimizer, momentum: momentum)
        p.train.learningRate = lr
        p.train.batchSize = batchSize == 0 ? nil : batchSize
        p.train.maxSteps = steps
        switch schedule {
        case "cosine": p.train.schedule = .cosine(steps: steps)
        case "constant": p.train.schedule = .constant
        default: throw ValidationError("unknown schedule '\(schedule)'; use cosine or constant")
        }
        var plan = SearchPlan(maximum: d.count)
        plan.start = start
        plan.precision = precision
        // Everything that changes an attempt's outcome keys it in the store; the search's start
        // and precision do not, so changing them reuses finished attempts.
        let config: [String: String] = [
            "instrument": "emc/1", "arch": arch, "data": data, "condition": condition, "downsample": "\(downsample)",
            "classes": classes.map(String.init) ?? "all", "optimizer": "\(p.train.optimizer)", "lr": "\(lr)",
            "batch": batchSize == 0 ? "full" : "\(batchSize)", "steps": "\(steps)", "schedule": schedule,
            "threshold": "\(threshold)", "init": "\(p.initialization)", "plateau": "\(p.plateauTolerance)",
            "gradient": "\(p.gradientTolerance)",
        ]
        let cache = noStore ? nil : try ResultStore(path: store).experiment(instrument: "emc", config: config)
        let started = DispatchTime.now().uptimeNanoseconds
        if !json {
            let params = try Network<Float>(spec: arch, inputShape: d.sampleShape).parameterCount
            print("EMC of \(arch) (\(params) parameters) on \(data) [\(condition)], \(d.count) samples available; \(p.train.optimizer), lr \(lr), batch \(batchSize == 0 ? "full" : String(batchSize)), budget \(steps) steps")
        }
        let report = try measureEMC(d, procedure: p, seeds: (0..<seeds).map(UInt64.init), plan: plan, cache: cache) { seed, r, lo, hi in
            guard !json else { return }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            print(String(format: "  seed %llu  n %6d  %-9@ acc %6.2f%%  loss %.4f  |g| %.2e  %5d steps %6.1f s   bracket [%d, %@]  (%.0f s)",
                         seed, r.n, r.verdict.rawValue, 100 * r.trainAccuracy, r.trainLoss, r.gradientNorm, r.steps, r.seconds,
                         lo, hi.map(String.init) ?? "–", elapsed))
            fflush(stdout)
        }
        if json {
            let out: [String: Any] = [
                "arch": arch, "data": data, "condition": condition, "parameters": report.parameters,
                "emc_mean": report.mean, "emc_std": report.std, "emc_per_seed": report.perSeed,
                "emc_per_parameter": report.emcPerParameter, "undecided": report.undecided,
                "attempts": report.searches.map(\.attempts.count).reduce(0, +),
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "EMC %.1f ± %.1f over %d seed(s) (per seed: %@); %.3f per parameter; %d undecided attempt(s)",
                         report.mean, report.std, seeds, report.perSeed.map(String.init).joined(separator: ", "),
                         report.emcPerParameter, report.undecided))
            if report.undecided > 0 {
                print("note: undecided attempts ran out of budget while improving; they bound the search like failures. Raise --steps to decide them.")
            }
        }
    }
}
