import Capacity
import Datasets
import Foundation
import Linalg
import NeuralNets

/// One EMC experiment as named settings — the `overparam emc` options, also the keys of a
/// sweep file — turned into data, a fit procedure, a search plan and a store key.
public struct EMCSettings: Sendable {
    public static let defaults: [String: String] = [
        "arch": "mlp:64-32-10:relu", "data": "digits", "condition": "true", "downsample": "1", "classes": "all",
        "optimizer": "sgd", "lr": "0.01", "momentum": "0.9", "batch-size": "640", "steps": "5000", "max-steps": "0",
        "schedule": "cosine", "threshold": "1", "init": "torch", "seeds": "1", "start": "64", "precision": "0.02",
        "curvature": "off", "subspace": "off",
    ]
    /// Settings that steer the search but not any attempt's outcome: left out of the store key,
    /// so that changing them reuses finished attempts. The step budgets are among them: each
    /// attempt is stored with the budget it ran under.
    static let searchOnly: Set<String> = ["seeds", "start", "precision", "steps", "max-steps"]
    /// `max-steps` 0: undecided attempts escalate up to this many times `steps`.
    public static let defaultCapFactor = 16

    public private(set) var values: [String: String]

    /// Defaults overridden by `settings`; an unknown name is an error that lists the known ones.
    public init(_ settings: [String: String] = [:]) throws {
        for k in settings.keys where Self.defaults[k] == nil {
            throw ExperimentError("unknown setting '\(k)'; known: \(Self.defaults.keys.sorted().joined(separator: ", "))")
        }
        values = Self.defaults.merging(settings) { $1 }
    }

    public subscript(_ key: String) -> String { values[key]! }

    func number(_ key: String, _ valid: (Double) -> Bool, _ what: String) throws -> Double {
        guard let v = Double(self[key]), valid(v) else { throw ExperimentError("\(key) = '\(self[key])': \(what)") }
        return v
    }

    func integer(_ key: String, min: Int) throws -> Int {
        guard let v = Int(self[key]), v >= min else { throw ExperimentError("\(key) = '\(self[key])': expected an integer ≥ \(min)") }
        return v
    }

    public var seeds: Int { get throws { try integer("seeds", min: 1) } }

    /// Checks every setting's value without loading data or training.
    public func validate() throws {
        do { _ = try Condition.named(self["condition"]) } catch { throw ExperimentError("condition = '\(self["condition"])': \(error)") }
        _ = try integer("downsample", min: 1)
        if self["classes"] != "all" { _ = try integer("classes", min: 1) }
        _ = try seeds
        _ = try procedure()
        _ = try plan(maximum: 1)
    }

    /// What identifies the data an experiment trains on: experiments that share it can share
    /// one loaded copy.
    public var dataKey: String { ["data", "downsample", "classes", "condition"].map { self[$0] }.joined(separator: "|") }

    /// The data set under its condition, downsampled and with merged classes.
    public func data() throws -> LabeledData<Float> {
        let condition = try Condition.named(self["condition"])
        var d = try DataSpec.load(self["data"], seed: 0, as: Float.self).train.downsampled(by: try integer("downsample", min: 1))
        if self["classes"] != "all" { d = try d.mergingClasses(into: try integer("classes", min: 1)) }
        return d.applying(condition, seed: 0)
    }

    public func procedure() throws -> FitProcedure {
        var p = FitProcedure(arch: self["arch"])
        p.initialization = try parseInitialization(self["init"])
        p.threshold = try number("threshold", { $0 > 0 && $0 <= 1 }, "a train accuracy in (0, 1]")
        let momentum = try number("momentum", { $0 >= 0 && $0 < 1 }, "momentum in [0, 1)")
        do { p.train.optimizer = try parseOptimizer(self["optimizer"], momentum: momentum) } catch {
            throw ExperimentError("optimizer = '\(self["optimizer"])': use sgd, nesterov, adam or adamw")
        }
        p.train.learningRate = try number("lr", { $0 > 0 && $0.isFinite }, "a positive learning rate")
        let batch = try integer("batch-size", min: 0)
        p.train.batchSize = batch == 0 ? nil : batch
        p.train.maxSteps = try integer("steps", min: 1)
        let cap = try integer("max-steps", min: 0)
        p.stepCap = cap == 0 ? Self.defaultCapFactor * p.train.maxSteps : cap
        switch self["curvature"] {
        case "on": p.curvatureCheck = true
        case "off": p.curvatureCheck = false
        default: throw ExperimentError("curvature = '\(self["curvature"])': use on (check each no-fit's Hessian for a saddle) or off")
        }
        if self["subspace"] != "off" {
            p.subspace = try integer("subspace", min: 1)
            guard !p.curvatureCheck else { throw ExperimentError("curvature = on works in the full parameter space; it cannot be combined with subspace = \(self["subspace"])") }
        }
        switch self["schedule"] {
        case "cosine": p.train.schedule = .cosine(steps: p.train.maxSteps)
        case "constant": p.train.schedule = .constant
        default: throw ExperimentError("schedule = '\(self["schedule"])': use cosine or constant")
        }
        return p
    }

    public func plan(maximum: Int) throws -> SearchPlan {
        var plan = SearchPlan(maximum: maximum)
        plan.start = try integer("start", min: 1)
        plan.precision = try number("precision", { $0 > 0 }, "a positive relative precision")
        return plan
    }

    /// What keys this experiment's attempts in the store: every setting that changes an outcome,
    /// each in one canonical spelling ("1e-2" and "0.01", "1.0" and "1", "kaiming" and "he" are
    /// one value; defaults are filled in), and the data as its contents' fingerprint rather than
    /// its path — so one experiment has one key whichever command, sweep or spelling asked for
    /// it, and an edited data file is a new experiment. `fingerprint` is the data's, where the
    /// caller has it already.
    public func storeKey(fingerprint: String? = nil) throws -> [String: String] {
        var k = values.filter { !Self.searchOnly.contains($0.key) }
        // Added after results were stored: absent from the key at its default, so those keep theirs.
        if self["subspace"] == "off" { k["subspace"] = nil } else { k["subspace"] = "\(try integer("subspace", min: 1))" }
        for name in ["lr", "momentum", "threshold"] { k[name] = "\(try number(name, { $0.isFinite }, "a number"))" }
        for name in ["downsample", "batch-size"] { k[name] = "\(try integer(name, min: 0))" }
        if self["classes"] != "all" { k["classes"] = "\(try integer("classes", min: 1))" }
        k["condition"] = try Condition.named(self["condition"]).rawValue
        k["optimizer"] = try canonicalOptimizer(self["optimizer"])
        k["init"] = canonicalInitialization(try parseInitialization(self["init"]))
        k["data"] = try fingerprint ?? DataSpec.fingerprint(self["data"])
        k["instrument"] = "emc/1"
        return k
    }

    /// What the store shows beside the key: the data set as it was named.
    var storeDescription: [String: String] { ["data-source": self["data"]] }

    /// The measurement as a job for `measureEMCs`, on `data` when it is already loaded; with a
    /// store, its attempts are kept under this experiment's key.
    public func job(data preloaded: LabeledData<Float>? = nil, store: (any Store)?) throws -> EMCJob {
        let d = try preloaded ?? data()
        return EMCJob(data: d, procedure: try procedure(), seeds: (0..<(try seeds)).map(UInt64.init), plan: try plan(maximum: d.count),
                      cache: try store?.cache(instrument: "emc", config: try storeKey(), description: storeDescription))
    }

    /// Runs (or resumes, with a store) the measurement, on `data` when it is already loaded.
    /// Seeds run side by side on `workers` threads (default: one per core).
    public func run(data preloaded: LabeledData<Float>? = nil, store: (any Store)?,
                    workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: ((UInt64, FitResult, Int, Int?, Bool) -> Void)? = nil) throws -> EMCReport {
        let j = try job(data: preloaded, store: store)
        return try measureEMC(j.data, procedure: j.procedure, seeds: j.seeds, plan: j.plan, cache: j.cache, workers: workers, progress: progress)
    }
}

extension EMCSettings {
    /// Generalization at a fixed training size under true labels (whatever this setting's
    /// condition), averaged over the seeds; runs already in the store are read back.
    public func generalization(trainSize: Int, store: (any Store)? = nil) throws -> (testAccuracy: Double, gap: Double) {
        var trueLabels = self
        trueLabels.values["condition"] = "true"
        // Generalization runs train under the first budget alone, so it is part of their key.
        var key = try trueLabels.storeKey()
        key["steps"] = "\(try integer("steps", min: 1))"
        let cache = try store?.cache(instrument: "emc", config: key, description: trueLabels.storeDescription)
        var data: LabeledData<Float>? = nil
        let p = try procedure()
        let runs = try (0..<(try seeds)).map { seed in
            if let done = try cache?.cachedGeneralization(seed: UInt64(seed), trainSize: trainSize) { return done }
            if data == nil { data = try trueLabels.data() }
            let r = try measureGeneralization(data!, procedure: p, trainSize: trainSize, seed: UInt64(seed))
            try cache?.saveGeneralization(r, seed: UInt64(seed))
            return r
        }
        let n = Double(runs.count)
        return (runs.map(\.testAccuracy).reduce(0, +) / n, runs.map(\.gap).reduce(0, +) / n)
    }
}

public struct ExperimentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public func parseInitialization(_ s: String) throws -> Initialization {
    switch s.lowercased() {
    case "he", "kaiming": return .he
    case "xavier", "glorot": return .xavier
    case "torch", "pytorch": return .torch
    default:
        if s.lowercased().hasPrefix("gaussian:"), let std = Double(s.dropFirst(9)), std >= 0, std.isFinite {
            return .gaussian(std: std)
        }
        throw ExperimentError("unknown initialization '\(s)'; use he, xavier, torch or gaussian:STD (e.g. gaussian:1e-3)")
    }
}

/// The optimizer's one spelling in store keys ("gd" is "sgd").
func canonicalOptimizer(_ s: String) throws -> String {
    _ = try parseOptimizer(s, momentum: 0)
    return s.lowercased() == "gd" ? "sgd" : s.lowercased()
}

/// An initialization's one spelling in store keys: he, xavier, torch or gaussian:STD.
func canonicalInitialization(_ i: Initialization) -> String {
    if case let .gaussian(std) = i { return "gaussian:\(std)" }
    return i.description
}

public func parseOptimizer(_ s: String, momentum: Double) throws -> OptimizerKind {
    switch s.lowercased() {
    case "sgd", "gd": return .sgd(momentum: momentum)
    case "nesterov": return .sgd(momentum: momentum, nesterov: true)
    case "adam": return .adam()
    case "adamw": return .adamW()
    default: throw ExperimentError("unknown optimizer '\(s)'; use sgd, nesterov, adam or adamw")
    }
}
