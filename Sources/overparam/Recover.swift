import ArgumentParser
import Foundation
import Lab
import Recovery

struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recovery experiments: train students on n samples of a target; test error against n, the optimistic size O and the parameter count M.",
        discussion: """
        Presets: quick (d = 2, teacher width 2, O = 6, student width 20, M = 60), widths (students
        of width 20 and 200), init-scale (initialization std 1e-8 vs 1), fig3 and fig3-full (JMLR
        Fig. 3), dropout (JMLR Fig. 4), end-rank (the trained students' tangent ranks under GD, SGD
        and Adam). Options below override the preset's students, sizes, seeds and training.
        Everything runs in Double; each run's trained student is measured (tangent rank,
        condensation) and the run written to the store, so a re-run skips it.
        """)

    @Option(help: "Preset: \(RecoveryPreset.names.joined(separator: ", ")).") var preset: String = "quick"
    @Option(help: "Comma-separated student specs (one output), replacing the preset's rows.") var students: String?
    @Option(help: "Comma-separated sample sizes n.") var sizes: String?
    @Option(parsing: .unconditional, help: "Seeds per cell.") var seeds: Int?
    @Option(help: "Training: gd (full-batch gradient descent), sgd (mini-batches of 4), adam, or gd-adaptive (full-batch GD setting its own step, stopping at --target-mse or a plateau).") var method: String?
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Double?
    @Option(parsing: .unconditional, help: "Step budget per run.") var steps: Int?
    @Option(parsing: .unconditional, help: "Standard deviation of the Gaussian initialization.") var initStd: Double?
    @Option(parsing: .unconditional, help: "Dropout rate after each hidden activation.") var dropout: Double?
    @Option(parsing: .unconditional, help: "Train MSE at which a run stops, converged (default 1e-20).") var targetMse: Double?
    @Option(help: "gd-adaptive: the train MSE at which GD hands over to Gauss–Newton steps toward the point GD converges to, or none.") var finishBelow: String?
    @Option(parsing: .unconditional, help: "Train every seed on this seed's draw of inputs, so the seeds vary the initialization alone (default: each seed its own draw).") var dataSeed: Int?
    @Option(help: "Training inputs: random (default) or grid (n evenly spaced points on the target's interval; one-input targets).") var trainingInputs: String?
    @Option(parsing: .unconditional, help: "Threads running cells side by side (default: one per core).") var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Folder for recovery.csv, recovery.json and recovery-heatmap.svg.") var output: String?
    @Option(help: "The result store (a SQLite file or a postgres:// URL); every finished run is written to it, and a re-run resumes from it.")
    var store: String = "overparam-results.sqlite"
    @Flag(help: "Keep nothing on disk but the outputs.") var noStore = false
    @Flag(help: "Print one JSON object with the medians.") var json = false

    func run() throws {
        do { try execute() } catch { fail(error) }
    }

    func execute() throws {
        var settings = ["preset": preset]
        settings["students"] = students; settings["sizes"] = sizes; settings["seeds"] = seeds.map(String.init)
        settings["method"] = method; settings["lr"] = lr.map { "\($0)" }; settings["steps"] = steps.map(String.init)
        settings["init-std"] = initStd.map { "\($0)" }; settings["dropout"] = dropout.map { "\($0)" }
        settings["target-mse"] = targetMse.map { "\($0)" }; settings["training-inputs"] = trainingInputs
        settings["finish-below"] = finishBelow; settings["data-seed"] = dataSeed.map(String.init)
        let p = try RecoverySettings(settings).preset()
        guard workers >= 1 else { throw RecoveryError("--workers must be at least 1") }
        try output.map(prepareOutputFolder)   // before any work
        let started = Date()
        if !json {
            print("Recovery, preset \(p.name): \(p.summary)")
            let inputs = p.target.gridTraining ? ", training inputs on an even grid"
                : p.rows[0].procedure.dataSeed.map { ", every seed trained on seed \($0)'s draw of inputs" } ?? ""
            print("target \(p.target.name) (\(p.target.spec))\(inputs); sizes \(p.sizes.map(String.init).joined(separator: ", ")); \(p.seeds) seed(s)")
            for row in p.rows {
                let q = row.procedure
                print("  \(row.label): \(row.student), \(q.methodDescription), \(q.steps) steps at most, init std \(q.initStd)\(q.dropout > 0 ? ", dropout \(q.dropout)" : "")")
            }
        }
        let progress = ProgressLine()
        let result = try runRecovery(target: p.target, rows: p.rows, sizes: p.sizes, seeds: p.seeds,
                                     store: try openStore(store, unless: noStore), workers: workers) { row, run, done, total in
            progress.update(String(format: "[%d/%d] %@  n %3d seed %d  test %.2e  train %.2e  %6.1f s", done, total, row.label, run.n, Int(run.seed),
                                   run.testMSE, run.trainMSE, Date().timeIntervalSince(started)), final: done == total)
        }
        progress.finish()
        let paths = try output.map { try writeRecoveryOutputs(result, to: $0) }
        if json {
            let out: [String: Any] = [
                "preset": p.name, "target": result.target, "optimistic_sample_size": result.optimisticSize as Any? ?? NSNull(), "sizes": result.sizes,
                "rows": result.rows.enumerated().map { i, row in
                    ["label": row.label, "student": row.student, "parameters": result.parameters[i], "optimistic_sample_size": result.optimisticSizes[i],
                     "median_test_mse": result.cells[i].map { $0.medianTestMSE.isFinite ? $0.medianTestMSE as Any : NSNull() },
                     "median_train_mse": result.cells[i].map { $0.medianTrainMSE.isFinite ? $0.medianTrainMSE as Any : NSNull() },
                     "stops": Dictionary(uniqueKeysWithValues: result.stops(row: i).map { ($0.0.rawValue, $0.1) })] as [String: Any]
                },
                "seconds": Date().timeIntervalSince(started),
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        let oText = result.optimisticSize.map { "O = \($0)" } ?? "O per row"
        print("optimistic sample size \(oText) (the target's model rank in the student's family); median test MSE over \(p.seeds) seed(s):")
        let label = max(12, result.rows.map(\.label.count).max() ?? 0)
        print("  " + "n".padding(toLength: label, withPad: " ", startingAt: 0) + result.sizes.map { String(format: "%9d", $0) }.joined())
        for (i, row) in result.rows.enumerated() {
            let cells = result.cells[i].map { $0.medianTestMSE.isFinite ? String(format: "%9.1e", $0.medianTestMSE) : "   diverg" }.joined()
            print("  " + row.label.padding(toLength: label, withPad: " ", startingAt: 0) + cells + "   (O = \(result.optimisticSizes[i]), M = \(result.parameters[i]))")
        }
        printMeasures(result, label: label)
        for (i, row) in result.rows.enumerated() {
            let from = result.recoveredFrom(row: i, threshold: 1e-4).map { "test MSE ≤ 1e-4 from n = \($0) on" } ?? "test MSE not below 1e-4 at these sizes"
            let stops = result.stops(row: i).map { "\($1) \($0 == .cap ? "at the step cap" : $0.rawValue)" }.joined(separator: ", ")
            print("  \(row.label): \(from); runs: \(stops)")
        }
        let diverged = result.cells.flatMap { $0.flatMap(\.runs) }.filter(\.diverged).count
        if diverged > 0 { print("warning: \(diverged) run(s) diverged (shown as 'diverg'); lower --lr") }
        if let paths { print("wrote " + paths.joined(separator: ", ")) }
        print(String(format: "%.1f s", Date().timeIntervalSince(started)))
    }
}

/// The trained students' medians beside the errors: tangent rank (σ > 1e-6·σ₁) and, for dense
/// first layers, condensed neuron groups; rows with nothing measured are left out.
func printMeasures(_ result: RecoveryResult, label: Int) {
    func table(_ title: String, _ value: (RecoveryCell) -> Double?) {
        let rows = result.rows.indices.filter { i in result.cells[i].contains { value($0) != nil } }
        guard !rows.isEmpty else { return }
        print(title)
        for i in rows {
            let cells = result.cells[i].map { value($0).map { String(format: "%9.1f", $0) } ?? "        –" }.joined()
            print("  " + result.rows[i].label.padding(toLength: label, withPad: " ", startingAt: 0) + cells + "   (O = \(result.optimisticSizes[i]))")
        }
    }
    table("rank of the trained student's tangent matrix (σ > 1e-6·σ₁; median over seeds; – not measured):") { $0.medianRank(relative: 1e-6) }
    table("neuron groups (|cos| ≥ 0.99 of the first layer's (w, b)) holding 90% of its norm (median over seeds):") { $0.medianMajorClusters }
}
