import Adaptivity
import ArgumentParser
import Foundation
import Lab
import Linalg

struct Adapt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Over-parameterized gradient descent vs fixed-kernel gradient flow in the Gaussian sequence model.",
        subcommands: [Rates.self], defaultSubcommand: Rates.self)

    struct Rates: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Error at the oracle stopping time against n, per method: fitted slopes beside the theory's.")

        @Option(help: "Signal decay p (k-th largest coefficient k^(−(p+1)/2)).") var p: Double = 1
        @Option(help: "Misalignment q (it sits at index ⌈k^q⌉; 1 = aligned).") var q: Double = 2
        @Option(help: "Eigenvalue decay γ (λ_j = j^(−γ)).") var gamma: Double = 1.5
        @Option(name: .customLong("N"), help: "Number of coordinates.") var coordinates: Int = 10_000
        @Option(help: "Comma-separated OpGD depths D.") var depths: String = "0,1,2,3"
        @Option(help: "Comma-separated sample sizes n (ε² = 1/n).") var n: String = "1000,2000,4000,8000,16000"
        @Option(help: "Monte Carlo repetitions.") var reps: Int = 32
        @Option(help: "Seed of the noise.") var seed: UInt64 = 0
        @Option(help: "b0 = c·ε^(1/(D+2)): the constant c.") var b0: Double = 1
        @Option(help: "Points per decade of the log-spaced time grid (1e-2 … 1e10) on which the oracle time is chosen.") var perDecade: Int = 24
        @Option(help: "Relative tolerance of the OpGD flow solver.") var tolerance: Double = 1e-8
        @Option(help: "Folder for rates.json and rates.svg (log-log error vs n).") var output: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            do { try execute() } catch { fail(error) }
        }

        func execute() throws {
            guard coordinates >= 1 else { throw AdaptivityError("--N must be at least 1") }
            let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: coordinates, p: p, q: q),
                                              eigenvalues: SequenceProblem.powerLawEigenvalues(coordinates, gamma: gamma),
                                              name: "p = \(p), q = \(q), γ = \(gamma), N = \(coordinates)")
            guard gamma > 1 else { throw AdaptivityError("--gamma must exceed 1") }
            var s = RateSettings(problem: problem, estimators: [.vanilla] + (try commaList(depths, option: "depths") { Int($0) }).map { .opgd(depth: $0) },
                                 sizes: try commaList(n, option: "n") { Int($0) }, repetitions: reps)
            s.seed = seed; s.b0Constant = b0; s.tolerance = tolerance; s.grid = TimeGrid(perDecade: perDecade); s.p = p; s.q = q; s.gamma = gamma
            let started = Date()
            let report = try measureRates(s) { done, total in
                guard !json else { return }
                FileHandle.standardError.write(Data(String(format: "\r[%d/%d] (n, repetition) units  %.1f s", done, total, Date().timeIntervalSince(started)).utf8))
            }
            if !json { FileHandle.standardError.write(Data("\n".utf8)) }
            func slopeObject(_ f: LineFit?) -> Any { f.map { [$0.slopeInterval.lowerBound, $0.slopeInterval.upperBound] as Any } ?? NSNull() }
            if let output {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                var plot = Plot(title: "Error at the oracle time vs n (\(problem.name), \(reps) reps)", xLabel: "n (ε² = 1/n)", yLabel: "mean squared error", logX: true, logY: true)
                plot.width = 900
                for e in report.estimators {
                    plot.series.append(.init("\(e.estimator) (slope \(String(format: "%.3f", e.slope?.slope ?? .nan)), theory \(String(format: "%.3f", e.theorySlope ?? .nan)))",
                                             zip(s.sizes, e.meanErrors).map { (Double($0), $1) }))
                }
                try plot.svg().write(toFile: (output as NSString).appendingPathComponent("rates.svg"), atomically: true, encoding: .utf8)
            }
            let methods: [[String: Any]] = report.estimators.map { e in
                ["method": e.estimator.description, "slope": e.slope?.slope ?? NSNull(), "slope_ci": slopeObject(e.slope),
                 "theory_slope": e.theorySlope ?? NSNull(), "errors": e.meanErrors, "error_std": e.errorStds,
                 "oracle_times": e.oracleTimes, "oracle_time_slope": e.timeSlope?.slope ?? NSNull(),
                 "theory_time_slope": e.theoryTimeSlope ?? NSNull(), "errors_at_theory_time": e.theoryTimeErrors ?? NSNull(),
                 "oracle_at_grid_edge": e.oracleAtGridEdge]
            }
            let object: [String: Any] = ["p": p, "q": q, "gamma": gamma, "N": coordinates, "n": s.sizes, "reps": reps, "seed": seed,
                                         "methods": methods, "seconds": report.seconds]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            if let output { try data.write(to: URL(fileURLWithPath: (output as NSString).appendingPathComponent("rates.json"))) }
            if json { print(String(decoding: data, as: UTF8.self)); return }
            print("Sequence model \(problem.name); n = \(s.sizes.map(String.init).joined(separator: ", ")); \(reps) repetitions; \(String(format: "%.1f", report.seconds)) s")
            print("method        " + s.sizes.map { String(format: "%11d", $0) }.joined() + "     slope [95% CI]        theory   time slope (theory)")
            for e in report.estimators {
                let errs = e.meanErrors.map { String(format: "%11.3e", $0) }.joined()
                let ci = e.slope.map { String(format: "%6.3f [%6.3f, %6.3f]", $0.slope, $0.slopeInterval.lowerBound, $0.slopeInterval.upperBound) } ?? "–"
                let ts = e.timeSlope.map { String(format: "%5.2f", $0.slope) } ?? "–"
                print(e.estimator.description.padding(toLength: 14, withPad: " ", startingAt: 0) + errs + "   " + ci + String(format: "   %6.3f", e.theorySlope ?? .nan) + "   \(ts) (\(String(format: "%.2f", e.theoryTimeSlope ?? .nan)))")
                if e.oracleAtGridEdge.contains(true) { print("  warning: the oracle time sits at the edge of the time grid for some n") }
            }
            if let output { print("wrote \(output)/rates.json and \(output)/rates.svg") }
        }
    }
}
