import ArgumentParser
import Foundation
import Lab
import Linalg
import Recovery

struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Model rank at a target point: rank of the tangent features, the optimistic sample size, against theory.",
        discussion: """
        Models: \(RecoveryModel.examples) (any mlp/cnn/vit spec with one output).
        Targets: \(TargetKind.examples).
        The tangent matrix J[i, j] = ∂f(x_i)/∂θ_j is built in Double on N standard Gaussian inputs
        (matrix factorization: N distinct entries); its singular values above the tolerance
        (default max(N, M)·ε·σ_max) give the rank.
        """)

    @Option(help: "Model spec with one output.") var arch: String = "mlp:5-20-1:tanh:nobias"
    @Option(help: "Target point: \(TargetKind.examples).") var target: String = "teacher:3"
    @Option(parsing: .unconditional, help: "Number of random inputs N (default: enough to exceed the theory's value, else the parameter count).") var inputs: Int?
    @Option(help: "Seed of the target point and the inputs.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Singular values above this count toward the rank (default max(N, M)·ε·σ_max).") var tolerance: Double?
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Run a study instead of one rank: 'deep' (random narrow teachers of 2 and 3 hidden layers in width-12 students, tanh and sigmoid, with and without biases: rank against the parameter-count bound).") var study: String?
    @Option(parsing: .unconditional, help: "Teachers per configuration in --study (default 5).") var seeds: Int?
    @Option(help: "Write the spectrum as an SVG (log scale, cut marked) to this file.") var plot: String?

    func run() throws {
        do { try execute() } catch { fail(error) }
    }

    func execute() throws {
        if let study { return try runStudy(study) }
        if seeds != nil { throw RecoveryError("--seeds goes with --study") }
        if let inputs, inputs < 1 { throw RecoveryError("--inputs must be at least 1") }
        let threads = ProcessInfo.processInfo.environment["OVERPARAM_BLAS_THREADS"] == nil ? ProcessInfo.processInfo.activeProcessorCount : nil
        let r = try modelRank(spec: arch, target: target, inputs: inputs, seed: seed, tolerance: tolerance, largeProblemThreads: threads)
        var warnings = [String]()
        if let g = r.gap, g < RankReport.smallGap {
            warnings.append(String(format: "the gap σ_r/σ_{r+1} is only %.3g: the rank is a judgement call here; look at the spectrum (--plot) or set --tolerance", g))
        }
        if r.inputLimited {
            warnings.append("the rank equals the number of inputs: the model rank may be larger; rerun with more --inputs")
        }
        if let plot {
            try spectrumPlot(r).svg().write(toFile: plot, atomically: true, encoding: .utf8)
        }
        if json {
            var out: [String: Any] = [
                "model": r.model, "target": r.target, "seed": r.seed, "model_rank": r.modelRank, "parameters": r.parameters,
                "inputs": r.inputs, "tolerance": r.tolerance, "singular_values": r.singularValues, "rank_curve": r.rankCurve,
                "seconds": r.seconds, "warnings": warnings,
            ]
            out["gap"] = r.gap.map { $0.isFinite ? $0 as Any : "inf" as Any } ?? NSNull()
            out["theory"] = r.theory?.value ?? NSNull() as Any
            out["theory_kind"] = r.theory?.kind.rawValue ?? NSNull() as Any
            out["theory_formula"] = r.theory?.formula ?? NSNull() as Any
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
            for w in warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            return
        }
        print("Model rank of \(r.model) at \(r.target) (seed \(r.seed)): \(r.modelRank)")
        print("  parameters M = \(r.parameters), inputs N = \(r.inputs), tolerance \(fmt(r.tolerance)), \(String(format: "%.2f", r.seconds)) s")
        if let g = r.gap {
            print("  gap σ_\(r.modelRank)/σ_\(r.modelRank + 1) = \(g.isFinite ? fmt(g) : "∞")")
        } else {
            print("  every singular value is above the tolerance (no gap to show)")
        }
        if let t = r.theory {
            let verdict = t.kind == .exact ? (t.value == r.modelRank ? "matches" : "DIFFERS") : (r.modelRank <= t.value ? "within the bound" : "ABOVE THE BOUND")
            print("  theory: \(t.kind == .exact ? "" : "≤ ")\(t.value) — \(t.formula): \(verdict)")
        } else {
            print("  theory: no closed form for this model and point")
        }
        if !r.inputLimited {
            print("  optimistic sample size (if θ* has the least rank of its target set): \(r.modelRank) samples, \(String(format: "%.1f", Double(r.parameters) / Double(max(r.modelRank, 1))))× fewer than the parameters")
        }
        let s = r.singularValues
        let lo = max(0, r.modelRank - 3), hi = min(s.count, r.modelRank + 3)
        if lo < hi {
            print("  singular values around the cut: " + (lo..<hi).map { "σ_\($0 + 1) = \(fmt(s[$0]))\($0 + 1 == r.modelRank ? " |" : "")" }.joined(separator: ", "))
        }
        let linear = r.rankCurve.enumerated().allSatisfy { $0.element == min($0.offset + 1, r.modelRank) }
        if linear {
            print("  rank curve rank(J[:n]), n = 1…\(r.inputs): min(n, \(r.modelRank)) (every input adds a direction until the rank)")
        } else {
            let full = (r.rankCurve.firstIndex(of: r.modelRank) ?? r.rankCurve.count - 1) + 1
            print("  rank curve rank(J[:n]), n = 1…\(full): \(r.rankCurve.prefix(full).map(String.init).joined(separator: " "))\(full < r.inputs ? ", then \(r.modelRank)" : "") (not min(n, rank): some inputs add no direction)")
        }
        if let plot { print("  spectrum written to \(plot)") }
        for w in warnings { print("warning: \(w)") }
    }

    func fmt(_ v: Double) -> String { String(format: "%.3g", v) }
}

extension Rank {
    /// `--study deep`: a table of ranks against the bound, one row per configuration.
    func runStudy(_ name: String) throws {
        guard name == "deep" else { throw RecoveryError("--study '\(name)': the study is 'deep'") }
        let rows = try deepRankStudy(seeds: seeds ?? 5)
        if json {
            print(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self))
            return
        }
        print("Model rank at random narrow teachers null-embedded in wider students (\(seeds ?? 5) teachers each):")
        print("  teacher  activation  biases  student                        bound  +later biases  ranks")
        for r in rows {
            let t = r.teacher.map(String.init).joined(separator: "-")
            let ranks = Set(r.ranks).sorted().map(String.init).joined(separator: ", ") + (r.unclear > 0 ? " (\(r.unclear) unclear)" : "")
            print("  " + t.padding(toLength: 9, withPad: " ", startingAt: 0) + r.activation.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + (r.bias ? "yes" : "no").padding(toLength: 8, withPad: " ", startingAt: 0) + r.student.padding(toLength: 31, withPad: " ", startingAt: 0)
                  + String(format: "%5d  %13d  ", r.bound, r.boundWithLaterBiases) + ranks)
        }
        // Per activation and bias setting: how many teachers sit at, above or below each count.
        for activation in ["tanh", "sigmoid"] {
            for bias in [true, false] {
                let group = rows.filter { $0.activation == activation && $0.bias == bias }
                func count(_ test: (Int, DeepRankRow) -> Bool) -> Int { group.reduce(0) { n, row in n + row.ranks.filter { test($0, row) }.count } }
                let total = count { _, _ in true }
                var parts = ["\(count { $0 == $1.bound }) at the bound", "\(count { $0 > $1.bound }) above", "\(count { $0 < $1.bound }) below"]
                if !bias { parts.append("\(count { $0 == $1.boundWithLaterBiases }) at the bound with later biases") }
                let unclear = group.reduce(0) { $0 + $1.unclear }
                print("  \(activation), \(bias ? "biases" : "no biases"): of \(total) teachers " + parts.joined(separator: ", ")
                      + (unclear > 0 ? "; \(unclear) a judgement call (gap σ_r/σ_r+1 < \(Int(RankReport.smallGap)))" : ""))
            }
        }
    }
}
