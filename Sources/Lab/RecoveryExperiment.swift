import Foundation
import Recovery

/// What keys a recovery row's runs in the store: the target (its architecture and θ), the
/// student and every setting of its training that changes an outcome.
public func recoveryStoreKey(target: TargetFunction, row: RecoveryRow) -> [String: String] {
    var k = row.procedure.key
    k["instrument"] = "recovery/1"
    k["target"] = target.spec
    k["target-theta"] = target.theta.map { "\($0)" }.joined(separator: ",")
    k["student"] = row.student
    if let r = target.inputRange { k["target-inputs"] = "uniform \(r.lowerBound) \(r.upperBound)" }
    return k
}

/// Runs (or resumes, with a store) a recovery grid.
public func runRecovery(target: TargetFunction, rows: [RecoveryRow], sizes: [Int], seeds: Int, store: (any Store)?,
                        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                        progress: ((RecoveryRow, RecoveryRun, Int, Int) -> Void)? = nil) throws -> RecoveryResult {
    let caches: [RecoveryCache?]? = try store.map { s in
        try rows.map { try s.cache(instrument: "recovery", config: recoveryStoreKey(target: target, row: $0)) }
    }
    return try runRecoveryGrid(target: target, rows: rows, sizes: sizes, seeds: seeds, caches: caches, workers: workers, progress: progress)
}

/// The recovery figure: median test MSE per (row, n), log colour scale, a dashed line at the
/// optimistic sample size O and a mark at each row's parameter count M.
public func recoveryHeatmap(_ r: RecoveryResult) -> Heatmap {
    var h = Heatmap(title: "Recovery of \(r.target): median test MSE over seeds",
                    xLabel: "training samples n", colorLabel: "median test MSE",
                    rowLabels: r.rows.map(\.label), columnLabels: r.sizes.map(String.init),
                    values: r.cells.map { $0.map(\.medianTestMSE) })
    let columns = r.sizes.map(Double.init)
    if let O = r.optimisticSize {
        h.columnMarks = [.init(position: Heatmap.position(of: Double(O), in: columns), label: "O = \(O)", dashed: true)]
    } else {
        h.rowLines = r.optimisticSizes.map { .init(position: Heatmap.position(of: Double($0), in: columns), label: "O = \($0)", dashed: true) }
    }
    h.rowMarks = r.parameters.map { .init(position: Heatmap.position(of: Double($0), in: columns), label: "M = \($0)", dashed: false) }
    return h
}

/// Writes recovery.csv (one line per run), recovery.json (cells with medians and runs, O, M)
/// and recovery-heatmap.svg into `dir`; returns the paths.
public func writeRecoveryOutputs(_ r: RecoveryResult, to dir: String) throws -> [String] {
    try prepareOutputFolder(dir)
    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    func num(_ v: Double) -> String { v.isFinite ? "\(v)" : "" }
    var csv = "row,student,parameters,n,seed,train_mse,test_mse,diverged,steps,seconds,stop\n"
    for (i, row) in r.rows.enumerated() {
        for cell in r.cells[i] {
            for run in cell.runs {
                csv += "\"\(row.label)\",\(row.student),\(r.parameters[i]),\(run.n),\(run.seed),\(num(run.trainMSE)),\(num(run.testMSE)),\(run.diverged),\(run.steps),\(run.seconds),\(row.procedure.stop(of: run).rawValue)\n"
            }
        }
    }
    func json(_ v: Double) -> Any { v.isFinite ? v : NSNull() }
    let object: [String: Any] = [
        "target": r.target, "optimistic_sample_size": r.optimisticSize as Any? ?? NSNull(), "sizes": r.sizes,
        "rows": r.rows.enumerated().map { i, row in
            [
                "label": row.label, "student": row.student, "parameters": r.parameters[i], "optimistic_sample_size": r.optimisticSizes[i],
                "procedure": row.procedure.key,
                "cells": r.cells[i].map { c in
                    [
                        "n": c.n, "median_test_mse": json(c.medianTestMSE), "median_train_mse": json(c.medianTrainMSE),
                        "runs": c.runs.map { ["seed": $0.seed, "train_mse": json($0.trainMSE), "test_mse": json($0.testMSE),
                                              "diverged": $0.diverged, "steps": $0.steps, "seconds": $0.seconds,
                                              "stop": row.procedure.stop(of: $0).rawValue] as [String: Any] },
                    ] as [String: Any]
                },
            ] as [String: Any]
        },
    ]
    let paths = [path("recovery.csv"), path("recovery.json"), path("recovery-heatmap.svg")]
    try csv.write(toFile: paths[0], atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: paths[1]))
    try recoveryHeatmap(r).svg().write(toFile: paths[2], atomically: true, encoding: .utf8)
    return paths
}
