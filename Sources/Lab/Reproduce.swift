import Adaptivity
import Capacity
import Foundation
import Linalg
import Recovery

/// A headline finding of one of the papers, and whether this run reproduced it.
public struct Finding: Sendable {
    public enum Verdict: String, Sendable { case held, notReproduced = "not reproduced", inconclusive }
    public var instrument: String
    public var claim: String
    public var verdict: Verdict
    public var evidence: String
    public var held: Bool { verdict == .held }

    /// `held` nil: the evidence cannot decide (a comparison resting on lower bounds).
    public init(instrument: String, claim: String, held: Bool?, evidence: String) {
        self.instrument = instrument; self.claim = claim; self.evidence = evidence
        verdict = held.map { $0 ? .held : .notReproduced } ?? .inconclusive
    }
}

/// One part of the report: its figures (SVG text), tables (HTML), the commands that give the
/// same numbers one by one, and its findings.
public struct ReportSection: Sendable {
    public var title: String
    public var intro: String
    public var figures: [(caption: String, svg: String)] = []
    public var tables: [String] = []
    public var commands: [String] = []
    public var findings: [Finding] = []
    public var seconds = 0.0
}

public struct ReproduceReport: Sendable {
    public var sections: [ReportSection]
    public var seconds: Double
    public var htmlPath: String
    /// What computed the numbers (`computedByText`), as the report's header gives it.
    public var computedBy: String
    public var findings: [Finding] { sections.flatMap(\.findings) }
}

/// The presets of `overparam reproduce`: quick (minutes on a laptop) or full (the CPU-scale
/// version of each paper's figures).
public struct ReproducePreset: Sendable {
    /// smoke: every step at toy budgets, seconds (what the tests run); quick: minutes; full.
    public enum Level: String, Sendable { case smoke, quick, full }
    public var level: Level
    public init(_ level: Level) { self.level = level }
    var quick: Bool { level != .full }
    var smoke: Bool { level == .smoke }

    /// What a run from an empty store takes on two cores, as measured (BENCHMARKS.md).
    public var expectedTime: String {
        switch level {
        case .smoke: return "about 10 seconds"
        case .quick: return "about 3 minutes on two cores with AVX-512 (138–163 s measured on a 2-core Xeon, 2026-12-04; 137 s on a 2-core AMD EPYC, 2026-12-06), about 4 without (229 s on a 2-core AMD EPYC with AVX2 only, 2026-12-07)"
        case .full: return "about 2 hours 30 minutes on two cores with AVX-512 (141 minutes measured on a 2-core AMD EPYC, 2026-12-06, and up to 11 more to run again the failures that learned nothing); without AVX-512 about 4 hours, estimated (the quick preset takes 1.7× as long on a 2-core AMD EPYC with AVX2 only) — `--sweeps DIR` writes its sweep files to spread over machines"
        }
    }

    /// How far undecided attempts escalate: not at all at toy budgets, 4× in the quick preset
    /// (minutes), 8× in the full one.
    func maxSteps(_ steps: Int) -> Int { smoke ? steps : quick ? 4 * steps : 8 * steps }

    /// Tangent ranks with closed forms (RESULTS.md's table, the fast rows).
    var rankCases: [(spec: String, target: String)] {
        [("mlp:5-20-1:tanh:nobias", "teacher:3"), ("mlp:5-20-1:tanh:nobias", "output-ineffective:3"),
         ("mlp:5-20-1:tanh:nobias", "input-ineffective:3"), ("mlp:5-20-1:tanh", "teacher:3"),
         ("mlp:3-8-8-1:tanh:nobias", "teacher:2-2"), ("cnn:5x5x1-c2k3p0-1:tanh:nobias", "random"),
         ("cnn:5x5x1-l2k3-1:tanh:nobias", "random"), ("mf:4-4", "teacher:2")]
    }

    var rankCasesForLevel: [(spec: String, target: String)] {
        switch level {
        case .smoke: return Array(rankCases.prefix(3))
        case .quick: return rankCases
        case .full: return rankCases + [("mlp:25-18-1:tanh:nobias", "random"), ("mlp:100-200-1:tanh:nobias", "teacher:15")]
        }
    }

    var adaptivityRepetitions: Int { smoke ? 2 : quick ? 8 : 32 }
    var adaptivityCoordinates: Int { smoke ? 1000 : 10_000 }
}

/// Runs every instrument's preset (resuming from the store), writes `report.html` with inline
/// figures into `output`, and returns the findings for the terminal.
public func reproduce(_ preset: ReproducePreset, output: String, store: (any Store)?, commandLine: String,
                      workers: Int = ProcessInfo.processInfo.activeProcessorCount, log: @escaping (String) -> Void) throws -> ReproduceReport {
    let started = Date()
    try prepareOutputFolder(output)
    var sections = [ReportSection]()
    for build in [capacitySection, recoverySection, adaptivitySection] {
        let t0 = Date()
        var s = try build(preset, output, store, workers, log)
        s.seconds = Date().timeIntervalSince(t0)
        log(String(format: "  %@: %.0f s", s.title, s.seconds))
        sections.append(s)
    }
    let seconds = Date().timeIntervalSince(started)
    let computedBy = computedByText(try store?.arithmetics() ?? [])
    let html = reportHTML(sections, preset: preset, commandLine: commandLine, seconds: seconds, computedBy: computedBy)
    let path = (output as NSString).appendingPathComponent("report.html")
    try html.write(toFile: path, atomically: true, encoding: .utf8)
    return ReproduceReport(sections: sections, seconds: seconds, htmlPath: path, computedBy: computedBy)
}

// MARK: - Recovery

func recoverySection(_ preset: ReproducePreset, _ output: String, _ store: (any Store)?, _ workers: Int,
                     _ log: @escaping (String) -> Void) throws -> ReportSection {
    var section = ReportSection(title: "Recovery: model rank and local linear recovery",
                                intro: "The model rank is the rank of the tangent features at a target parameter; it is the optimistic sample size O. Recovery experiments train a student on n samples of the target.")
    log("recovery: \(preset.rankCasesForLevel.count) model ranks")
    var table = "<table><tr><th>model</th><th>target point</th><th>parameters M</th><th>numerical rank</th><th>gap σ<sub>r</sub>/σ<sub>r+1</sub></th><th>theory</th></tr>"
    var met = 0, withTheory = 0
    for c in preset.rankCasesForLevel {
        let r = try modelRank(spec: c.spec, target: c.target)
        section.commands.append("overparam rank --arch \(c.spec) --target \(c.target)")
        var theory = "–"
        if let t = r.theory {
            withTheory += 1
            let ok = t.kind == .exact ? r.modelRank == t.value : r.modelRank <= t.value
            if ok { met += 1 }
            theory = "\(t.kind == .exact ? "" : "≤ ")\(t.value) (\(Plot.escape(t.formula))) \(ok ? "✓" : "✗")"
        }
        table += "<tr><td><code>\(Plot.escape(c.spec))</code></td><td><code>\(Plot.escape(c.target))</code></td><td>\(r.parameters)</td><td>\(r.modelRank)</td><td>\(r.gap.map { String(format: "%.1e", $0) } ?? "–")</td><td>\(theory)</td></tr>"
    }
    section.tables.append(table + "</table>")
    section.findings.append(Finding(instrument: "recovery", claim: "The numerical model rank equals the closed form",
                                    held: met == withTheory && withTheory > 0, evidence: "\(met) of \(withTheory) closed forms met"))
    var p = try RecoveryPreset.named("quick")
    if preset.smoke { p.sizes = [4, 12]; p.seeds = 1 }
    log("recovery: preset quick, \(p.rows.count) students × \(p.sizes.count) sizes × \(p.seeds) seeds")
    let r = try runRecovery(target: p.target, rows: p.rows, sizes: p.sizes, seeds: p.seeds, store: store, workers: workers)
    _ = try writeRecoveryOutputs(r, to: (output as NSString).appendingPathComponent("recovery"))
    section.commands.append("overparam recover --preset quick")
    section.figures.append(("Median test MSE of students trained on n samples of the target (\(Plot.escape(p.summary))); dashed: O, marks: M.", try recoveryHeatmap(r).svg()))
    if let O = r.optimisticSizes.first {
        let from = (0..<r.rows.count).compactMap { r.recoveredFrom(row: $0, threshold: 1e-3) }
        let M = r.parameters.min() ?? 0
        section.findings.append(Finding(instrument: "recovery", claim: "Test error collapses near the optimistic sample size O, far below the parameter count M",
                                        held: from.count == r.rows.count && from.allSatisfy { $0 <= 2 * O && $0 < M },
                                        evidence: "O = \(O), M ≥ \(M); median test MSE ≤ 1e-3 from n = \(from.map(String.init).joined(separator: ", ")) (per student)"))
    }
    return section
}

// MARK: - Adaptivity

func adaptivitySection(_ preset: ReproducePreset, _ output: String, _ store: (any Store)?, _ workers: Int,
                       _ log: @escaping (String) -> Void) throws -> ReportSection {
    var section = ReportSection(title: "Adaptivity: over-parameterized gradient descent in the sequence model",
                                intro: "Misaligned signal p = 1, q = 2, eigenvalues j^(−1.5), N = \(preset.adaptivityCoordinates); error at the oracle stopping time against n, for fixed-kernel gradient flow (vanilla) and OpGD of depth D.")
    let N = preset.adaptivityCoordinates
    let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: 1, q: 2),
                                      eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 1.5), name: "p = 1.0, q = 2.0, γ = 1.5, N = \(N)")
    var s = RateSettings(problem: problem, estimators: [.vanilla] + (0...3).map { .opgd(depth: $0) },
                         sizes: [1000, 2000, 4000, 8000, 16000], repetitions: preset.adaptivityRepetitions)
    s.p = 1; s.q = 2; s.gamma = 1.5
    log("adaptivity: configuration A, \(s.repetitions) repetitions")
    let r = try runRates(s, store: store, workers: workers)
    section.commands.append("overparam adapt rates --p 1 --q 2 --gamma 1.5 --depths 0,1,2,3 --n 1000,2000,4000,8000,16000 --reps \(s.repetitions)")
    section.figures.append(("Mean error at the oracle time against n, log-log, with fitted and theoretical slopes.", try ratesPlot(r).svg()))
    var table = "<table><tr><th>method</th>" + s.sizes.map { "<th>n = \($0)</th>" }.joined() + "<th>slope [95% CI]</th><th>theory</th></tr>"
    for e in r.estimators {
        table += "<tr><td>\(e.estimator)</td>" + e.meanErrors.map { "<td>\(String(format: "%.4f", $0))</td>" }.joined()
        table += "<td>\(e.slope.map { String(format: "%.3f [%.3f, %.3f]", $0.slope, $0.slopeInterval.lowerBound, $0.slopeInterval.upperBound) } ?? "–")</td><td>\(String(format: "%.3f", e.theorySlope ?? .nan))</td></tr>"
    }
    section.tables.append(table + "</table>")
    let vanilla = r.estimators[0], opgd = r.estimators.dropFirst()
    if let v = vanilla.slope?.slope {
        section.findings.append(Finding(instrument: "adaptivity", claim: "Vanilla gradient flow converges at the slow rate p/(p+q) = 1/3",
                                        held: abs(v + 1.0 / 3) < 0.08, evidence: String(format: "fitted slope %.3f (paper −0.374)", v)))
    }
    let slopes = opgd.compactMap { $0.slope?.slope }
    section.findings.append(Finding(instrument: "adaptivity", claim: "OpGD reaches the near-optimal rate 1/2 at every depth",
                                    held: slopes.count == opgd.count && slopes.allSatisfy { abs($0 + 0.5) < 0.08 },
                                    evidence: "fitted slopes " + slopes.map { String(format: "%.3f", $0) }.joined(separator: ", ") + " (paper −0.533)"))
    let below = opgd.allSatisfy { e in zip(e.meanErrors, vanilla.meanErrors).enumerated().allSatisfy { s.sizes[$0.offset] < 2000 || $0.element.0 < $0.element.1 } }
    section.findings.append(Finding(instrument: "adaptivity", claim: "OpGD's error is below vanilla's at every n ≥ 2,000", held: below,
                                    evidence: String(format: "at n = 16,000: vanilla %.4f, OpGD %@", vanilla.meanErrors.last!, opgd.map { String(format: "%.4f", $0.meanErrors.last!) }.joined(separator: ", "))))
    return section
}

// MARK: - HTML

/// A comparison's 95% interval of the difference, or why there is none.
func differenceText(_ i: ClosedRange<Double>?, format: String = "%.1f") -> String {
    guard let i else { return "no interval (one seed a side)" }
    return "difference 95% interval [" + String(format: format, i.lowerBound) + ", " + String(format: format, i.upperBound) + "]"
}

func fmt(_ v: Double) -> String { v.rounded() == v ? String(Int(v)) : String(format: "%.1f", v) }

/// The machine, for the report: CPU model, cores, memory, OS.
public func machineDescription() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
    return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(String(format: "%.0f", memory)) GiB, \(ProcessInfo.processInfo.operatingSystemVersionString)"
}

func reportHTML(_ sections: [ReportSection], preset: ReproducePreset, commandLine: String, seconds: Double, computedBy: String) -> String {
    let findings = sections.flatMap(\.findings)
    var h = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"/><title>Overparam reproduction report</title>
    <style>
    body { font-family: Helvetica, Arial, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; line-height: 1.4; }
    table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
    td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
    .held { color: #1a7f37; font-weight: bold; } .not { color: #b42318; font-weight: bold; } .open { color: #9a6700; font-weight: bold; }
    figure { margin: 1.5em 0; } figcaption { font-size: 14px; color: #555; }
    pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
    </style></head><body>
    <h1>Overparam reproduction report (\(preset.level.rawValue) preset)</h1>
    <p>Command: <code>\(Plot.escape(commandLine))</code><br/>Machine: \(Plot.escape(machineDescription()))<br/>
    Computed by: \(Plot.escape(computedBy))<br/>
    Wall time: \(String(format: "%.0f", seconds)) s (\(sections.map { "\(Plot.escape($0.title.components(separatedBy: ":")[0])) \(String(format: "%.0f", $0.seconds)) s" }.joined(separator: ", ")))<br/>
    Generated: \(ISO8601DateFormatter().string(from: Date()))</p>
    <h2>Findings</h2><table><tr><th>instrument</th><th>finding</th><th>result</th><th>evidence</th></tr>
    """
    for f in findings {
        h += "<tr><td>\(f.instrument)</td><td>\(Plot.escape(f.claim))</td><td class=\"\(["held": "held", "inconclusive": "open"][f.verdict.rawValue] ?? "not")\">\(f.verdict.rawValue)</td><td>\(Plot.escape(f.evidence))</td></tr>\n"
    }
    h += "</table>\n"
    for s in sections {
        h += "<h2>\(Plot.escape(s.title))</h2>\n<p>\(Plot.escape(s.intro))</p>\n"
        for t in s.tables { h += t + "\n" }
        for f in s.figures {
            // The SVG's own XML prologue, if any, is not allowed inside HTML.
            let svg = f.svg.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
            h += "<figure>\(svg)<figcaption>\(f.caption)</figcaption></figure>\n"
        }
        h += "<details><summary>Commands for these numbers</summary><pre>\(Plot.escape(s.commands.joined(separator: "\n\n")))</pre></details>\n"
    }
    h += "</body></html>\n"
    return h
}
