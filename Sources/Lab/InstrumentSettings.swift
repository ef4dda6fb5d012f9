import Adaptivity
import Datasets
import Foundation
import Recovery

/// Settings by name — the option names of `overparam recover` and `overparam adapt rates`, also
/// the keys of a sweep file — parsed in one place, so the command and a sweep run an experiment
/// the same way.
struct NamedSettings {
    let values: [String: String]
    let command: String

    init(_ settings: [String: String], known: [String], command: String) throws {
        for k in settings.keys where !known.contains(k) {
            throw ExperimentError("unknown setting '\(k)' for \(command); known: \(known.sorted().joined(separator: ", "))")
        }
        values = settings; self.command = command
    }

    subscript(_ key: String) -> String? { values[key] }

    func number(_ key: String, _ valid: (Double) -> Bool, _ what: String) throws -> Double? {
        guard let s = values[key] else { return nil }
        guard let v = Double(s), valid(v) else { throw ExperimentError("\(key) = '\(s)': \(what)") }
        return v
    }

    func integer(_ key: String, min: Int) throws -> Int? {
        guard let s = values[key] else { return nil }
        guard let v = Int(s), v >= min else { throw ExperimentError("\(key) = '\(s)': expected an integer ≥ \(min)") }
        return v
    }

    /// A comma-separated list, each item parsed by `parse`.
    func list<T>(_ key: String, _ what: String, _ parse: (String) -> T?) throws -> [T]? {
        guard let s = values[key] else { return nil }
        let items = s.split(separator: ",").map { parse($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { throw ExperimentError("\(key) = '\(s)': expected a comma-separated list of \(what)") }
        return items.map { $0! }
    }
}

/// A recovery grid as named settings: a preset with the students, sizes, seeds and training
/// overridden. Settings left out keep the preset's.
public struct RecoverySettings: Sendable {
    public static let names = ["preset", "students", "sizes", "seeds", "method", "lr", "steps", "init-std", "dropout", "target-mse",
                               "training-inputs", "finish-below", "data-seed"]
    public let values: [String: String]

    public init(_ settings: [String: String]) throws {
        values = try NamedSettings(settings, known: Self.names, command: "recover").values
    }

    public func preset() throws -> RecoveryPreset {
        let s = try NamedSettings(values, known: Self.names, command: "recover")
        var p = try RecoveryPreset.named(s["preset"] ?? "quick")
        switch s["training-inputs"] {
        case nil, "random": break
        case "grid":
            guard p.target.inputRange != nil, p.target.inputWidth == 1 else {
                throw ExperimentError("training-inputs = 'grid' needs a target of one input on an interval (the dropout preset's)")
            }
            p.target.gridTraining = true
        case let other?: throw ExperimentError("training-inputs = '\(other)': use random or grid")
        }
        if let seeds = try s.integer("seeds", min: 1) { p.seeds = seeds }
        if let sizes = try s.list("sizes", "sizes ≥ 1", { Int($0).flatMap { $0 >= 1 ? $0 : nil } }) { p.sizes = sizes }
        if let students = try s.list("students", "student specs", { $0.isEmpty ? nil : $0 }) {
            let base = p.rows[0].procedure
            // A student keeps the target written in its family (its O) from a preset row of the
            // same family, named by the spec's kind (conv1d, local1d, mlp, …).
            func kind(_ spec: String) -> Substring { spec.prefix { $0 != ":" } }
            p.rows = students.map { spec in
                RecoveryRow(label: spec, student: spec, procedure: base,
                            familyTarget: p.rows.first { kind($0.student) == kind(spec) }?.familyTarget)
            }
            // Each student is built here, so that a bad one is refused before anything is announced.
            for spec in students {
                do { _ = try studentNetwork(spec, for: p.target) } catch { throw ExperimentError("students = '\(spec)': \(error)") }
            }
        }
        let method = try s["method"].map { m in
            guard let v = RecoveryProcedure.Method(rawValue: m) else { throw ExperimentError("method = '\(m)': use gd, sgd, adam or gd-adaptive") }
            return v
        }
        let lr = try s.number("lr", { $0 > 0 && $0.isFinite }, "a positive learning rate")
        let steps = try s.integer("steps", min: 1)
        let initStd = try s.number("init-std", { $0 > 0 && $0.isFinite }, "a positive standard deviation")
        let dropout = try s.number("dropout", { $0 >= 0 && $0 < 1 }, "a rate in [0, 1)")
        let target = try s.number("target-mse", { $0 >= 0 && $0.isFinite }, "a train MSE ≥ 0")
        // "none": GD to the end, where the preset hands over to Gauss–Newton.
        let finish: Double?? = s["finish-below"] == "none" ? .some(nil)
            : try s.number("finish-below", { $0 > 0 && $0.isFinite }, "a positive train MSE, or none").map { .some($0) }
        let dataSeed = try s.integer("data-seed", min: 0)
        if dataSeed != nil, p.target.gridTraining {
            throw ExperimentError("data-seed picks a draw of random training inputs; with training-inputs = 'grid' there is none")
        }
        for i in p.rows.indices {
            if let dataSeed { p.rows[i].procedure.dataSeed = UInt64(dataSeed) }
            if let target { p.rows[i].procedure.targetTrainMSE = target }
            if let method { p.rows[i].procedure.method = method }
            if let lr { p.rows[i].procedure.learningRate = lr }
            if let steps { p.rows[i].procedure.steps = steps }
            if let initStd { p.rows[i].procedure.initStd = initStd }
            if let dropout { p.rows[i].procedure.dropout = dropout }
            if let finish {
                guard finish == nil || p.rows[i].procedure.method == .gdAdaptive else {
                    throw ExperimentError("finish-below hands gd-adaptive over to Gauss–Newton; row '\(p.rows[i].label)' trains by \(p.rows[i].procedure.method.rawValue)")
                }
                p.rows[i].procedure.finishBelow = finish
            }
        }
        return p
    }
}

/// A rate experiment of the sequence model as named settings (`overparam adapt rates`).
public struct AdaptSettings: Sendable {
    /// The problem's settings (shared with `adapt trajectory`), then the experiment's.
    public static let problemNames = ["p", "q", "gamma", "N", "signal", "eigenvalues"]
    public static let names = problemNames + ["depths", "n", "reps", "seed", "b0", "per-decade", "tolerance", "gd-step", "t-max"]
    public let values: [String: String]

    public init(_ settings: [String: String]) throws {
        values = try NamedSettings(settings, known: Self.names, command: "adapt rates").values
    }

    var named: NamedSettings { try! NamedSettings(values, known: Self.names, command: "adapt rates") }

    var isPowerLaw: Bool { (values["signal"] ?? "misaligned") == "misaligned" && values["eigenvalues"] == nil }

    /// The paper's misaligned power-law signal (p, q), a sparse one or a file; eigenvalues
    /// j^(−γ) or a file.
    /// p, q and γ (defaults 1, 2, 1.5).
    func exponents() throws -> (p: Double, q: Double, gamma: Double) {
        let s = named
        return (try s.number("p", { $0.isFinite }, "a number") ?? 1, try s.number("q", { $0.isFinite }, "a number") ?? 2,
                try s.number("gamma", { $0.isFinite }, "a number") ?? 1.5)
    }

    public func problem() throws -> SequenceProblem {
        let s = named
        let (p, q, gamma) = try exponents()
        let signal = s["signal"] ?? "misaligned", eigenvalues = s["eigenvalues"]
        let lambda = try eigenvalues.map { try readVector($0) }
        let fileSignal = signal == "misaligned" || signal.hasPrefix("sparse:") ? nil : try readVector(signal)
        let count = try fileSignal?.count ?? lambda?.count ?? s.integer("N", min: 1) ?? 10_000
        guard count >= 1 else { throw AdaptivityError("N must be at least 1") }
        if lambda == nil { guard gamma > 1 else { throw AdaptivityError("gamma must exceed 1") } }
        let truth: [Double]
        var name: String
        if let fileSignal {
            truth = fileSignal; name = "signal \((signal as NSString).lastPathComponent)"
        } else if signal.hasPrefix("sparse:") {
            guard let k = Int(signal.dropFirst("sparse:".count)) else { throw ExperimentError("signal = '\(signal)': expected sparse:S with S an integer") }
            truth = try SequenceProblem.sparse(count: count, nonzeros: k); name = "sparse s = \(k)"
        } else {
            truth = try SequenceProblem.misaligned(count: count, p: p, q: q); name = "p = \(p), q = \(q)"
        }
        name += lambda == nil ? ", γ = \(gamma), N = \(count)" : ", eigenvalues \((eigenvalues! as NSString).lastPathComponent), N = \(count)"
        return try SequenceProblem(truth: truth, eigenvalues: lambda ?? SequenceProblem.powerLawEigenvalues(count, gamma: gamma), name: name)
    }

    public func rateSettings() throws -> RateSettings {
        let s = named
        let problem = try problem()
        let depths = try s.list("depths", "depths ≥ 0", { Int($0).flatMap { $0 >= 0 ? $0 : nil } }) ?? [0, 1, 2, 3]
        let step = try s.number("gd-step", { $0 > 0 && $0.isFinite }, "a positive step")
        let perDecade = try s.integer("per-decade", min: 1) ?? 24
        let tMax = try s.number("t-max", { $0 > 0.01 && $0.isFinite }, "above the grid's start, 0.01") ?? 1e10
        var r = RateSettings(problem: problem, estimators: [.vanilla] + depths.map { d in step.map { .opgdDescent(depth: d, step: $0) } ?? .opgd(depth: d) },
                             sizes: try s.list("n", "sample sizes ≥ 1", { Int($0).flatMap { $0 >= 1 ? $0 : nil } }) ?? [1000, 2000, 4000, 8000, 16000],
                             repetitions: try s.integer("reps", min: 1) ?? 32)
        r.seed = try s["seed"].map { v in
            guard let x = UInt64(v) else { throw ExperimentError("seed = '\(v)': expected an integer ≥ 0") }
            return x
        } ?? 0
        r.b0Constant = try s.number("b0", { $0 > 0 && $0.isFinite }, "a positive constant") ?? 1
        r.tolerance = try s.number("tolerance", { $0 > 0 && $0 < 1 }, "a relative tolerance in (0, 1)") ?? 1e-8
        r.grid = TimeGrid(to: tMax, perDecade: perDecade)
        // The theory columns: p, q, γ for the paper's problem; γ alone when the eigenvalues are j^(−γ).
        let (p, q, gamma) = try exponents()
        (r.p, r.q, r.gamma) = (isPowerLaw ? p : nil, isPowerLaw ? q : nil, values["eigenvalues"] == nil ? gamma : nil)
        return r
    }
}
