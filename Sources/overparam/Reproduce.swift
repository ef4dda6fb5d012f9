import ArgumentParser
import Foundation
import Lab

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
    @Option(help: "SQLite file every finished attempt is written to; a re-run resumes from it.") var store: String = "out/results.sqlite"
    @Flag(help: "Keep nothing on disk but the outputs.") var noStore = false

    func run() throws {
        do {
            let line = (["overparam"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let started = Date()
            let report = try Lab.reproduce(ReproducePreset(smoke ? .smoke : quick ? .quick : .full), output: output, store: noStore ? nil : try ResultStore(path: store),
                                           commandLine: line) { message in
                FileHandle.standardError.write(Data((String(format: "[%5.0f s] ", Date().timeIntervalSince(started)) + message + "\n").utf8))
            }
            print("Overparam reproduction (\(smoke ? "smoke" : quick ? "quick" : "full") preset), \(String(format: "%.0f", report.seconds)) s:")
            for f in report.findings {
                print("  [\(f.held ? "held" : "NOT reproduced")] \(f.instrument): \(f.claim)\n      \(f.evidence)")
            }
            let held = report.findings.filter { $0.held }.count
            print("\(held) of \(report.findings.count) findings held. Report: \(report.htmlPath)")
        } catch { fail(error) }
    }
}
