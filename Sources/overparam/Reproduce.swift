import ArgumentParser
import Foundation
import Lab
import Linalg

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every instrument's preset and write one HTML report: figures, tables, commands, and which findings held.",
        discussion: """
        --quick takes a few minutes on two cores; the full preset is the CPU-scale version of the papers' figures. \
        Every finished attempt goes to the store, so a re-run (or one after Ctrl-C) skips finished work.
        """)

    @Flag(help: "The quick preset (minutes).") var quick = false
    @Flag(help: "Every step at toy budgets (seconds): checks the installation, reproduces nothing.") var smoke = false
    @Option(help: "Folder for report.html and each instrument's tables and figures.") var output: String = "out/reproduce"
    @Option(help: "The result store (a SQLite file or a postgres:// URL); every finished result is written to it, and a re-run resumes from it.")
    var store: String = "out/results.sqlite"
    @Flag(help: "Keep nothing on disk but the outputs.") var noStore = false
    @Option(help: "Write the preset's capacity sweep files into this folder and stop (to spread them over machines: `overparam sweep submit` them to a postgres:// store, run workers, then `overparam reproduce --store` the same URL).")
    var sweeps: String?

    func run() throws {
        do {
            let preset = ReproducePreset(smoke ? .smoke : quick ? .quick : .full)
            if let sweeps {
                try prepareOutputFolder(sweeps)
                let paths = try preset.sweepFiles.map { f in
                    let path = (sweeps as NSString).appendingPathComponent(f.name)
                    try f.yaml.write(toFile: path, atomically: true, encoding: .utf8)
                    return path
                }
                print("overparam sweep submit \(paths.joined(separator: " ")) --store \(store.hasPrefix("postgres") ? store : "postgres://USER@HOST/DATABASE")")
                return
            }
            let line = (["overparam"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let started = Date()
            let opened = try openStore(store, unless: noStore)   // a bad store is the first thing said
            if let pg = opened as? PostgresStore {
                // A search a worker of another kind holds would otherwise get its next attempts here.
                let held = try pg.queueStatus().heldElsewhere(than: Engine.arithmetic)
                if held > 0 { throw heldElsewhereError(held) }
            }
            FileHandle.standardError.write(Data("The \(preset.level.rawValue) preset takes \(preset.expectedTime) from an empty store; finished work is kept in the store, so a stopped run resumes where it stopped.\n".utf8))
            let report = try Lab.reproduce(preset, output: output, store: opened,
                                           commandLine: line) { message in
                FileHandle.standardError.write(Data((String(format: "[%5.0f s] ", Date().timeIntervalSince(started)) + message + "\n").utf8))
            }
            if smoke {
                // Toy budgets decide nothing: the findings are not judged.
                print("Installation check (smoke preset), \(String(format: "%.0f", report.seconds)) s: every instrument ran and the report was written to \(report.htmlPath).")
                print("The smoke preset checks the installation only; it reproduces nothing. Run `overparam reproduce --quick` for findings.")
                return
            }
            print("Overparam reproduction (\(quick ? "quick" : "full") preset), \(String(format: "%.0f", report.seconds)) s:")
            for f in report.findings {
                print("  [\(f.verdict == .notReproduced ? "NOT reproduced" : f.verdict.rawValue)] \(f.instrument): \(f.claim)\n      \(f.evidence)")
            }
            let count = { (v: Finding.Verdict) in report.findings.filter { $0.verdict == v }.count }
            print("\(count(.held)) of \(report.findings.count) findings held, \(count(.notReproduced)) not reproduced, \(count(.inconclusive)) inconclusive. Report: \(report.htmlPath)")
            print("Computed by: \(report.computedBy)")
        } catch { fail(error) }
    }
}
