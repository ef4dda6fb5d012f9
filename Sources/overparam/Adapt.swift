import Adaptivity
import ArgumentParser
import Datasets
import Foundation
import Lab
import Linalg

struct Adapt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Over-parameterized gradient descent vs fixed-kernel gradient flow in the Gaussian sequence model.",
        subcommands: [Rates.self, Trajectory.self, Kernel.self], defaultSubcommand: Rates.self)

    struct Kernel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The diagonal adaptive kernel: the paper's Fig. 5 (sin(ωπx₁) on the torus [−1, 1)^d, error at the oracle stopping time against n), or, with --data, your regression data (held-out error against training time, stopped on a validation split, and the learned kernel weights against frequency).",
            discussion: """
                The model f(x) = Σ_j a_j b_j^D β_j e_j(x) over the Fourier basis with |m_k| ≤ cutoff, λ_m = (1 + ‖m‖²)^(−r), a_j(0) = λ_j^(1/2), b_j(0) = b0, β_j(0) = 0, trained by gradient descent on n samples, against the fixed kernel (β alone). On the sine target the errors ‖f − f*‖² are exact (its Fourier coefficients in closed form).
                With --data csv:FILE (inputs, then the target in the last column; a header line is skipped) or npy:X.npy,Y.npy, each input coordinate's training range is mapped onto [−0.9, 0.9] (unless --no-scaling), targets are standardized on the training split, and each of --splits random train/validation/test splits is trained from scratch; the stopping time is the first minimum of the validation error, and the test error there is reported with its 95% interval over splits.
                """)

        @Option(help: "Your regression data: csv:FILE (inputs, then the target in the last column) or npy:X.npy,Y.npy. Without it: the paper's sine target.") var data: String?
        @Option(parsing: .unconditional, help: "Input dimension d of the sine target (with --data: the file's).") var dimension: Int?
        @Option(parsing: .unconditional, help: "Frequency cutoff: |m_k| ≤ this, (2·cutoff + 1)^d basis functions.") var cutoff: Int = 8
        @Option(parsing: .unconditional, help: "Eigenvalue decay: λ_m = (1 + ‖m‖²)^(−r).") var r: Double = 1
        @Option(parsing: .unconditional, help: "The sine target sin(ωπx₁): ω (default 7.5).") var omega: Double?
        @Option(parsing: .unconditional, help: "Noise standard deviation on the sine target's y (default 0.5).") var noise: Double?
        @Option(help: "Comma-separated sample sizes n of the sine target (default 160,190,…,400).") var n: String?
        @Option(parsing: .unconditional, help: "Repetitions (data sets) per n of the sine target (default 8).") var reps: Int?
        @Option(parsing: .unconditional, help: "With --data: at most this many inputs per frequency (1: a sum of functions of one input; 2: with pairwise interactions; default all), for data with many inputs.") var order: Int?
        @Option(parsing: .unconditional, help: "With --data: random train/validation/test splits, each trained from scratch (default 5).") var splits: Int?
        @Option(parsing: .unconditional, help: "With --data: the share of the data that chooses the stopping time (default 0.2).") var validation: Double?
        @Option(parsing: .unconditional, help: "With --data: the share held out for the reported error (default 0.2).") var test: Double?
        @Flag(help: "With --data: use the inputs as given (the basis has period 2 in each coordinate) instead of mapping each coordinate's training range onto [−0.9, 0.9].") var noScaling = false
        @Option(parsing: .unconditional, help: "b0 = c·ε^(1/(D+2)) (ε = σ/√n on the sine target, 1/√n_train on standardized data): the constant c.") var b0: Double = 1
        @Option(parsing: .unconditional, help: "Step size as a fraction of the fixed kernel's stability limit 2/λ_max(H) (halved for a method whose loss rises).") var stepFraction: Double = 0.5
        @Option(parsing: .unconditional, help: "End of the log-spaced time grid (from 1).") var tMax: Double = 2000
        @Option(parsing: .unconditional, help: "Points per decade of the time grid.") var perDecade: Int = 8
        @Option(help: "Seed of the data (sine target) or of the splits (--data).") var seed: UInt64 = 0
        @Option(parsing: .unconditional, help: "Threads (default: one per core).") var workers: Int = ProcessInfo.processInfo.activeProcessorCount
        @Option(help: "The result store (a SQLite file or a postgres:// URL); every finished unit (an (n, repetition), or a split) is written to it, and a re-run resumes from it.")
        var store: String = "overparam-results.sqlite"
        @Flag(help: "Keep nothing on disk but the outputs.") var noStore = false
        @Option(help: "Folder for the figures and tables (kernel*.json, .csv, .svg).") var output: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            do { try execute() } catch { fail(error) }
        }

        func execute() throws {
            guard tMax > 1, perDecade >= 1 else { throw OptionError(description: "--t-max must exceed 1 and --per-decade be at least 1") }
            guard workers >= 1 else { throw OptionError(description: "--workers must be at least 1") }
            if let data { return try onData(data) }
            let dataOnly = [("--order", order != nil), ("--splits", splits != nil), ("--validation", validation != nil), ("--test", test != nil),
                            ("--no-scaling", noScaling)]
            if let (name, _) = dataOnly.first(where: { $0.1 }) {
                throw OptionError(description: "\(name) goes with --data (the sine target has its own samples, repetitions and the full grid of frequencies)")
            }
            var s = KernelSettings()
            s.dimension = dimension ?? 2; s.cutoff = cutoff; s.r = r; s.omega = omega ?? 7.5; s.noise = noise ?? 0.5
            s.sizes = try commaList(n ?? "160,190,220,250,280,310,340,370,400", option: "n") { Int($0) }
            s.repetitions = reps ?? 8; s.b0Constant = b0; s.stepFraction = stepFraction; s.seed = seed
            s.times = TimeGrid(from: 1, to: tMax, perDecade: perDecade)
            try s.validate()
            try output.map(prepareOutputFolder)   // before any work
            let started = Date()
            let progress = ProgressLine()
            let rates = try runKernelRates(s, store: try openStore(store, unless: noStore), workers: workers) { done, total in
                progress.update(String(format: "[%d/%d] (n, repetition) units  %.1f s", done, total, Date().timeIntervalSince(started)), final: done == total)
            }
            progress.finish()
            let seconds = Date().timeIntervalSince(started)
            let paths = try output.map { try writeKernelOutputs(rates, settings: s, seconds: seconds, to: $0) }
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: kernelReportObject(rates, settings: s, seconds: seconds), options: [.sortedKeys]), as: UTF8.self))
                return
            }
            let J = Int(Foundation.pow(Double(2 * cutoff + 1), Double(s.dimension)))
            print("sin(\(s.omega)πx₁) on [−1, 1)^\(s.dimension): \(J) Fourier functions (cutoff \(cutoff)), λ = (1 + ‖m‖²)^(−\(r)), noise \(s.noise), \(s.repetitions) repetitions; \(String(format: "%.1f", seconds)) s")
            print(String(format: "error ‖f − f*‖² at the oracle time, mean over repetitions; %.4f of it is outside the basis (the truncation), slopes are of the rest:", rates.first?.truncationError ?? 0))
            print("method".padding(toLength: 14, withPad: " ", startingAt: 0) + s.sizes.map { String(format: "%10d", $0) }.joined() + "     slope [95% CI]")
            for m in rates {
                let ci = m.slope.map { String(format: "%6.3f [%6.3f, %6.3f]", $0.slope, $0.slopeInterval.lowerBound, $0.slopeInterval.upperBound) } ?? "–"
                print("\(m.method)".padding(toLength: 14, withPad: " ", startingAt: 0) + m.meanErrors.map { String(format: "%10.2e", $0) }.joined() + "     " + ci)
                print("  oracle time".padding(toLength: 14, withPad: " ", startingAt: 0) + m.oracleTimes.map { String(format: "%10.3g", $0) }.joined())
                if m.oracleAtGridEdge.contains(true) { print("  warning: the oracle time sits at an end of the time grid for some n (widen it: --t-max)") }
                if m.halvings > 0 { print("  note: the step was halved on \(m.halvings) data set(s) to keep it stable") }
            }
            if let paths { print("wrote " + paths.joined(separator: ", ")) }
        }

        /// `--data`: the user's regression data, stopped on validation.
        func onData(_ spec: String) throws {
            let sineOnly = [("--omega", omega != nil), ("--noise", noise != nil), ("--n", n != nil), ("--reps", reps != nil), ("--dimension", dimension != nil)]
            if let (name, _) = sineOnly.first(where: { $0.1 }) {
                throw OptionError(description: "\(name) sets the sine target; with --data the samples, their dimension and their targets are the file's (use --splits for repetitions)")
            }
            var s = KernelDataSettings()
            s.cutoff = cutoff; s.maxOrder = order; s.r = r; s.b0Constant = b0; s.stepFraction = stepFraction; s.seed = seed
            s.times = TimeGrid(from: 1, to: tMax, perDecade: perDecade)
            s.splits = splits ?? 5; s.validationFraction = validation ?? 0.2; s.testFraction = test ?? 0.2; s.scaleInputs = !noScaling
            let data = try RegressionData.load(spec)
            try s.validate(count: data.count, dimension: data.dimension)
            try output.map(prepareOutputFolder)   // before any work
            let started = Date()
            let progress = ProgressLine()
            let report = try runKernelOnData(data, spec: spec, settings: s, store: try openStore(store, unless: noStore), workers: workers) { done, total in
                progress.update(String(format: "[%d/%d] splits  %.1f s", done, total, Date().timeIntervalSince(started)), final: done == total)
            }
            progress.finish()
            let paths = try output.map { try writeKernelDataOutputs(report, to: $0) }
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: kernelDataReportObject(report), options: [.sortedKeys]), as: UTF8.self))
                return
            }
            print(kernelDataSummary(report, spec: spec, store: noStore ? nil : store).joined(separator: "\n"))
            if let paths { print("wrote " + paths.joined(separator: ", ")) }
        }
    }

    struct Rates: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Error at the oracle stopping time against n, per method: fitted slopes beside the theory's.")

        @OptionGroup var problemOptions: ProblemOptions
        @Option(help: "Comma-separated OpGD depths D.") var depths: String = "0,1,2,3"
        @Option(help: "Comma-separated sample sizes n (ε² = 1/n).") var n: String = "1000,2000,4000,8000,16000"
        @Option(parsing: .unconditional, help: "Monte Carlo repetitions.") var reps: Int = 32
        @Option(help: "Seed of the noise.") var seed: UInt64 = 0
        @Option(help: "b0 = c·ε^(1/(D+2)): the constant c.") var b0: Double = 1
        @Option(parsing: .unconditional, help: "Points per decade of the log-spaced time grid (1e-2 … --t-max) on which the oracle time is chosen.") var perDecade: Int = 24
        @Option(parsing: .unconditional, help: "Relative tolerance of the OpGD flow solver.") var tolerance: Double = 1e-8
        @Option(parsing: .unconditional, help: "Run OpGD by gradient descent with this step instead of solving the flow (a reference; needs a short grid, see --t-max).") var gdStep: Double?
        @Option(parsing: .unconditional, help: "End of the time grid.") var tMax: Double = 1e10
        @Option(help: "The result store (a SQLite file or a postgres:// URL); every finished (n, repetition) unit is written to it, and a re-run resumes from it.")
        var store: String = "overparam-results.sqlite"
        @Flag(help: "Keep nothing on disk but the outputs.") var noStore = false
        @Option(help: "Folder for rates.json and rates.svg (log-log error vs n).") var output: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            do { try execute() } catch { fail(error) }
        }

        func execute() throws {
            var settings = problemOptions.settings
            for (k, v) in ["depths": depths, "n": n, "reps": "\(reps)", "seed": "\(seed)", "b0": "\(b0)", "per-decade": "\(perDecade)",
                           "tolerance": "\(tolerance)", "t-max": "\(tMax)"] { settings[k] = v }
            settings["gd-step"] = gdStep.map { "\($0)" }
            let s = try AdaptSettings(settings).rateSettings()
            let problem = s.problem
            try output.map(prepareOutputFolder)   // before any work
            let started = Date()
            let progress = ProgressLine()
            let report = try runRates(s, store: try openStore(store, unless: noStore)) { done, total in
                progress.update(String(format: "[%d/%d] (n, repetition) units  %.1f s", done, total, Date().timeIntervalSince(started)), final: done == total)
            }
            progress.finish()
            if let output { try writeRateOutputs(report, to: output) }
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: rateReportObject(report), options: [.sortedKeys]), as: UTF8.self))
                return
            }
            let reused = s.sizes.count * reps - report.computedUnits
            print("Sequence model \(problem.name); n = \(s.sizes.map(String.init).joined(separator: ", ")); \(reps) repetitions; \(String(format: "%.1f", report.seconds)) s"
                  + (reused > 0 ? " (\(reused) of \(s.sizes.count * reps) units read from \(store))" : ""))
            let nameWidth = max(14, (report.estimators.map(\.estimator.description.count).max() ?? 0) + 2)
            print("method".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + s.sizes.map { String(format: "%11d", $0) }.joined() + "     slope [95% CI]        theory   time slope (theory)")
            for e in report.estimators {
                let errs = e.meanErrors.map { String(format: "%11.3e", $0) }.joined()
                let ci = e.slope.map { String(format: "%6.3f [%6.3f, %6.3f]", $0.slope, $0.slopeInterval.lowerBound, $0.slopeInterval.upperBound) } ?? "–"
                let ts = e.timeSlope.map { String(format: "%5.2f", $0.slope) } ?? "–"
                print(e.estimator.description.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + errs + "   " + ci + String(format: "   %6.3f", e.theorySlope ?? .nan) + "   \(ts) (\(String(format: "%.2f", e.theoryTimeSlope ?? .nan)))")
                if e.oracleAtGridEdge.contains(true) { print("  warning: the oracle time sits at the edge of the time grid for some n") }
            }
            if let output { print("wrote \(output)/rates.json and \(output)/rates.svg") }
        }
    }

    struct Trajectory: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "a_j b_j^D along OpGD for a range of j at chosen times (the paper's Figs. 2 and 4), and Proposition 3.4 as quantiles.")

        @OptionGroup var problemOptions: ProblemOptions
        @Option(parsing: .unconditional, help: "Sample size n (ε² = 1/n).") var n: Int = 4000
        @Option(help: "Comma-separated OpGD depths D.") var depths: String = "0,1,3"
        @Option(help: "Coordinates to draw, FROM-TO (1-based).") var j: String = "100-200"
        @Option(help: "Comma-separated times (default: the theory's stopping time T for each D times 0.01, 0.1, 1, 10).") var times: String?
        @Option(parsing: .unconditional, help: "Repetitions for the Proposition 3.4 quantiles.") var reps: Int = 8
        @Option(help: "Seed of the noise (the trajectories use repetition 0).") var seed: UInt64 = 0
        @Option(help: "b0 = c·ε^(1/(D+2)): the constant c.") var b0: Double = 1
        @Option(help: "Folder for trajectory-D<d>.svg, trajectory.csv and trajectory.json.") var output: String = "adapt-trajectory"
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            do { try execute() } catch { fail(error) }
        }

        func execute() throws {
            let problem = try AdaptSettings(problemOptions.settings).problem()
            try prepareOutputFolder(output)   // before any work
            let parts = j.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo <= hi else { throw OptionError(description: "--j '\(j)': expected FROM-TO, e.g. 100-200") }
            let ds = try commaList(depths, option: "depths") { Int($0) }
            let fixed = try times.map { try commaList($0, option: "times") { Double($0) } }
            let paths = try trajectories(problem: problem, depths: ds, n: n, indices: lo...hi,
                                         times: { d in fixed ?? [0.01, 0.1, 1, 10].map { $0 * opgdStoppingTime(depth: d, n: max(n, 1)) } }, seed: seed, b0Constant: b0)
            let checks = try ds.map { try propositionCheck(problem: problem, depth: $0, n: n, repetitions: reps, seed: seed, b0Constant: b0) }
            var csv = "depth,time,j,feature,target,initial\n"
            for t in paths {
                try trajectoryPlot(t, problemName: problem.name, n: n).svg()
                    .write(toFile: (output as NSString).appendingPathComponent("trajectory-D\(t.depth).svg"), atomically: true, encoding: .utf8)
                for (k, time) in t.times.enumerated() {
                    for (i, jj) in t.indices.enumerated() {
                        csv += "\(t.depth),\(time),\(jj),\(t.features[k][i]),\(t.target[i].map { "\($0)" } ?? ""),\(t.initial[i])\n"
                    }
                }
            }
            try csv.write(toFile: (output as NSString).appendingPathComponent("trajectory.csv"), atomically: true, encoding: .utf8)
            func quantiles(_ q: Quantiles?) -> Any {
                q.map { ["min": $0.min, "p5": $0.p5, "median": $0.median, "p95": $0.p95, "max": $0.max, "count": $0.count] as [String: Any] } ?? NSNull()
            }
            let object: [String: Any] = [
                "problem": problem.name, "N": problem.count, "n": n, "seed": seed,
                "trajectories": paths.map { ["depth": $0.depth, "b0": $0.b0, "times": $0.times, "j": $0.indices, "features": $0.features,
                                             "target": $0.target.map { $0 ?? NSNull() as Any }, "initial": $0.initial] as [String: Any] },
                "proposition_3_4": checks.map { ["depth": $0.depth, "stopping_time": $0.stoppingTime, "signal_ratio": quantiles($0.signal),
                                                 "noise_ratio": quantiles($0.noise), "decreases": $0.decreases, "followed": $0.followed] as [String: Any] }]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: (output as NSString).appendingPathComponent("trajectory.json")))
            if json { print(String(decoding: data, as: UTF8.self)); return }
            print("OpGD trajectories, \(problem.name), n = \(n): wrote \(output)/trajectory-D*.svg, trajectory.csv, trajectory.json")
            print("Proposition 3.4 at the theory's stopping time T, \(reps) repetitions (quantiles min / 5% / median / 95% / max):")
            func row(_ q: Quantiles?) -> String {
                q.map { String(format: "%8.3g %8.3g %8.3g %8.3g %8.3g  (%d)", $0.min, $0.p5, $0.median, $0.p95, $0.max, $0.count) } ?? "  none"
            }
            for c in checks {
                print(String(format: "D = %d, T = %.3g", c.depth, c.stoppingTime))
                print("  signal  a b^D / |θ*|^((D+1)/(D+2)):  " + row(c.signal))
                print("  noise   a b^D / (λ^(1/2) b0^D):      " + row(c.noise))
                print("  a b^D decreased along t on \(c.decreases) of \(c.followed) followed coordinates")
            }
        }
    }
}

/// The problem: the paper's misaligned power-law signal (p, q) or a sparse one or a file, and
/// eigenvalues j^(−γ) or a file.
struct ProblemOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Signal decay p (k-th largest coefficient k^(−(p+1)/2)).") var p: Double = 1
    @Option(parsing: .unconditional, help: "Misalignment q (it sits at index ⌈k^q⌉; 1 = aligned).") var q: Double = 2
    @Option(parsing: .unconditional, help: "Eigenvalue decay γ (λ_j = j^(−γ)).") var gamma: Double = 1.5
    @Option(name: .customLong("N"), help: "Number of coordinates (taken from the file when --signal or --eigenvalues is one).") var coordinates: Int = 10_000
    @Option(help: "The signal θ*: 'misaligned' (p, q), 'sparse:S' (S coefficients of size 1 spread over 1…N), or a .npy / text file of coefficients.")
    var signal: String = "misaligned"
    @Option(help: "A .npy / text file of eigenvalues λ_j (default j^(−γ)).") var eigenvalues: String?

    /// The `AdaptSettings` names these options set.
    var settings: [String: String] {
        var s = ["p": "\(p)", "q": "\(q)", "gamma": "\(gamma)", "N": "\(coordinates)", "signal": signal]
        s["eigenvalues"] = eigenvalues
        return s
    }
}
