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
    if let r = target.inputRange { k["target-inputs"] = "\(target.gridTraining ? "grid" : "uniform") \(r.lowerBound) \(r.upperBound)" }
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
    var csv = "row,student,parameters,n,seed,train_mse,test_mse,diverged,steps,seconds,stop,"
        + "spectrum_inputs,rank_1e-3,rank_1e-6,largest_drop_rank,largest_drop,clusters,major_clusters,mean_abs_cos\n"
    for (i, row) in r.rows.enumerated() {
        for cell in r.cells[i] {
            for run in cell.runs {
                let s = run.measures?.spectrum, c = run.measures?.condensation, drop = s?.largestDrop
                let measured = [s.map { "\($0.inputs)" }, s.map { "\($0.rank(relative: 1e-3))" }, s.map { "\($0.rank(relative: 1e-6))" },
                                drop.map { "\($0.rank)" }, drop.map { num($0.ratio) }, c.map { "\($0.clusters)" }, c.map { "\($0.majorClusters)" },
                                c.map { "\($0.meanAbsCosine)" }]
                csv += "\"\(row.label)\",\(row.student),\(r.parameters[i]),\(run.n),\(run.seed),\(num(run.trainMSE)),\(num(run.testMSE)),\(run.diverged),\(run.steps),\(run.seconds),\(row.procedure.stop(of: run).rawValue),"
                    + measured.map { $0 ?? "" }.joined(separator: ",") + "\n"
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
                        "median_rank_1e-6": c.medianRank(relative: 1e-6) as Any? ?? NSNull(),
                        "runs": c.runs.map { ["seed": $0.seed, "train_mse": json($0.trainMSE), "test_mse": json($0.testMSE),
                                              "diverged": $0.diverged, "steps": $0.steps, "seconds": $0.seconds,
                                              "stop": row.procedure.stop(of: $0).rawValue,
                                              "measures": measuresObject($0.measures)] as [String: Any] },
                    ] as [String: Any]
                },
            ] as [String: Any]
        },
    ]
    var paths = [path("recovery.csv"), path("recovery.json"), path("recovery-heatmap.svg")]
    try csv.write(toFile: paths[0], atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: paths[1]))
    try recoveryHeatmap(r).svg().write(toFile: paths[2], atomically: true, encoding: .utf8)
    if let plot = endRankPlot(r) {
        paths.append(path("recovery-rank.svg"))
        try plot.svg().write(toFile: paths[3], atomically: true, encoding: .utf8)
    }
    return paths
}

/// A run's measures for recovery.json: the spectrum with its ranks, the condensation; null when
/// not measured.
func measuresObject(_ m: RunMeasures?) -> Any {
    guard let m else { return NSNull() }
    var o = [String: Any]()
    if let s = m.spectrum {
        o["spectrum"] = ["inputs": s.inputs, "parameters": s.parameters, "singular_values": s.singularValues,
                         "rank_1e-3": s.rank(relative: 1e-3), "rank_1e-6": s.rank(relative: 1e-6),
                         "largest_drop_rank": s.largestDrop?.rank as Any? ?? NSNull(),
                         "largest_drop": s.largestDrop.flatMap { $0.ratio.isFinite ? $0.ratio : nil } as Any? ?? NSNull()] as [String: Any]
    }
    if let c = m.condensation {
        o["condensation"] = ["neurons": c.neurons, "silent": c.silent, "clusters": c.clusters, "major_clusters": c.majorClusters, "threshold": c.threshold,
                             "histogram": c.histogram, "mean_abs_cosine": c.meanAbsCosine] as [String: Any]
    }
    return o
}

/// The rank of the minimum reached: per row, the median rank (σ > 1e-6·σ₁) of the trained
/// students' tangent matrices against n, with each row's O dashed and the line rank = n in
/// grey. nil when no run carries a spectrum.
public func endRankPlot(_ r: RecoveryResult) -> Plot? {
    var p = Plot(title: "Rank of the trained student (σ > 1e-6·σ₁ of its tangent matrix), median over seeds",
                 xLabel: "training samples n", yLabel: "rank at the end of training")
    for (i, row) in r.rows.enumerated() {
        let points = r.cells[i].compactMap { c in c.medianRank(relative: 1e-6).map { (x: Double(c.n), y: $0) } }
        if !points.isEmpty { p.series.append(.init(row.label, points, style: .line, color: Plot.palette[i % Plot.palette.count])) }
    }
    guard !p.series.isEmpty, let lo = r.sizes.min(), let hi = r.sizes.max() else { return nil }
    for O in Set(r.optimisticSizes).sorted() {
        p.series.append(.init("O = \(O)", [(Double(lo), Double(O)), (Double(hi), Double(O))], style: .dashed, color: "#555555"))
    }
    p.series.append(.init("rank = n", [(Double(lo), Double(lo)), (Double(hi), Double(hi))], style: .dashed, color: "#bbbbbb"))
    return p
}
