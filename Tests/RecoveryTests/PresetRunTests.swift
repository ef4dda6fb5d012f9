import Recovery
import Testing

/// Every named preset runs end to end at a toy budget (its own rows, methods and targets; two of
/// its sizes, one seed, 200 steps, 40 test points): each row's O is the preset's stated one,
/// nothing diverges, and training lowers every run's train MSE below its value at the
/// initialization (the same run with no step) — so a preset whose training is wired wrong fails
/// here, not after hours of its real budget.
@Suite struct PresetRunTests {
    static let expectedO: [String: [Int]] = [
        "quick": [6], "widths": [6, 6], "init-scale": [6, 6],
        "fig3": [7, 7, 7, 15, 15, 15, 21, 21, 21],
        "fig3-full": [7, 7, 7, 7, 7, 15, 15, 15, 15, 15, 21, 21, 21, 21, 21],
        "dropout": [9, 9], "end-rank": [6, 6, 6, 6, 6, 6],
    ]

    func toy(_ preset: RecoveryPreset, steps: Int) -> [RecoveryRow] {
        preset.rows.map { row in
            var r = row
            r.procedure.steps = steps
            r.procedure.testSize = 40
            return r
        }
    }

    @Test(arguments: RecoveryPreset.names)
    func runsAtAToyBudget(_ name: String) throws {
        let p = try RecoveryPreset.named(name)
        let sizes = Array(p.sizes.filter { $0 >= 3 }.prefix(2))
        let trained = try runRecoveryGrid(target: p.target, rows: toy(p, steps: 200), sizes: sizes, seeds: 1, workers: 1)
        let initial = try runRecoveryGrid(target: p.target, rows: toy(p, steps: 0), sizes: sizes, seeds: 1, workers: 1)
        #expect(trained.optimisticSizes == Self.expectedO[name], "\(name): O per row \(trained.optimisticSizes)")
        for (r, row) in p.rows.enumerated() {
            for (s, n) in sizes.enumerated() {
                let after = trained.cells[r][s].runs[0], before = initial.cells[r][s].runs[0]
                #expect(!after.diverged && after.steps >= 1 && after.steps <= 200, "\(name) \(row.label) n = \(n): \(after.steps) steps")
                #expect(after.trainMSE < before.trainMSE && after.testMSE.isFinite,
                        "\(name) \(row.label) n = \(n): train MSE \(before.trainMSE) → \(after.trainMSE)")
            }
        }
    }
}
