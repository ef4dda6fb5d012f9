import Foundation
import Lab
import Recovery
import Testing

/// Passes recovery runs through to the store and stops the grid ("kills" it) after `limit` new runs.
final class InterruptingRuns: RecoveryCache, @unchecked Sendable {
    struct Killed: Error {}
    let inner: RecoveryCache
    let limit: Int
    var saved = 0, hits = 0
    init(_ inner: RecoveryCache, limit: Int) { self.inner = inner; self.limit = limit }
    func cachedRun(n: Int, seed: UInt64) throws -> RecoveryRun? {
        let r = try inner.cachedRun(n: n, seed: seed)
        if r != nil { hits += 1 }
        return r
    }
    func saveRun(_ run: RecoveryRun) throws {
        try inner.saveRun(run)
        saved += 1
        if saved >= limit { throw Killed() }
    }
}

@Suite struct RecoveryLabTests {
    func grid() throws -> (TargetFunction, [RecoveryRow]) {
        let t = try TargetFunction.tanhTeacher(inputs: 2, width: 1)
        var p = RecoveryProcedure()
        p.steps = 2000
        return (t, [RecoveryRow(label: "width 4", student: "mlp:2-4-1:tanh:nobias", procedure: p)])
    }

    @Test func interruptedGridResumesWithoutRepeatingRuns() throws {
        let (t, rows) = try grid()
        let sizes = [2, 3, 4], seeds = 2
        let reference = try runRecoveryGrid(target: t, rows: rows, sizes: sizes, seeds: seeds)
        let path = temporaryStore("recovery.sqlite")
        let key = recoveryStoreKey(target: t, row: rows[0])
        let first = InterruptingRuns(try ResultStore(path: path).experiment(instrument: "recovery", config: key), limit: 3)
        #expect(throws: InterruptingRuns.Killed.self) { try runRecoveryGrid(target: t, rows: rows, sizes: sizes, seeds: seeds, caches: [first]) }
        let left = try ResultStore(path: path).experiment(instrument: "recovery", config: key).allRuns().count
        #expect(left >= 3 && left < 6)

        let second = InterruptingRuns(try ResultStore(path: path).experiment(instrument: "recovery", config: key), limit: .max)
        let resumed = try runRecoveryGrid(target: t, rows: rows, sizes: sizes, seeds: seeds, caches: [second])
        #expect(second.hits == left && second.saved == 6 - left, "finished runs are read back, only the rest is run")
        // The same outcome (wall times aside) as an uninterrupted run.
        func outcome(_ r: RecoveryResult) -> [String] { r.cells[0].flatMap(\.runs).map { "\($0.n) \($0.seed) \($0.trainMSE) \($0.testMSE) \($0.steps)" } }
        #expect(outcome(resumed) == outcome(reference))
        // The measures come back from the store as they were measured, bit for bit.
        let measures = resumed.cells[0].flatMap(\.runs).map(\.measures)
        #expect(measures.allSatisfy { $0?.spectrum != nil && $0?.condensation != nil })
        #expect(measures == reference.cells[0].flatMap(\.runs).map(\.measures))
        // Another procedure is another experiment: nothing is shared.
        var other = rows[0]
        other.procedure.initStd = 0.1
        #expect(recoveryStoreKey(target: t, row: other) != key)
    }

    @Test func heatmapHasACellPerRunSizeAndMarksOAndM() throws {
        let (t, rows) = try grid()
        var wide = rows[0]
        wide.label = "width 40"; wide.student = "mlp:2-40-1:tanh:nobias"
        let r = try runRecoveryGrid(target: t, rows: [rows[0], wide], sizes: [2, 3, 4, 16], seeds: 1)
        let c = try #require(parseSVG(try recoveryHeatmap(r).svg()))
        let labels = c.text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(labels.contains("O = 3"))
        // (Cells carry their value as a <title> tooltip, which the text collector runs together.)
        #expect(c.text.contains("M = 12|"), "M = 12 lies inside the n range, marked on its row")
        #expect(c.text.contains("M = 120 →"), "M = 120 lies beyond it, written at the row's end")
        #expect(labels.contains("width 4") && labels.contains("width 40") && labels.contains("16"))
        #expect((c.counts["rect"] ?? 0) >= 2 + 2 * 4, "background, frame and the 2 × 4 cells (plus the colour bar)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-recovery-\(getpid())").path
        let paths = try writeRecoveryOutputs(r, to: dir)
        let csv = try String(contentsOfFile: paths[0], encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 4, "a header and one line per run")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: paths[1]))) as? [String: Any]
        #expect(json?["optimistic_sample_size"] as? Int == 3)
    }

    @Test func rowsWithTheirOwnOptimisticSizeGetTheirOwnLine() throws {
        let (t, rows) = try grid()
        var other = rows[0]
        other.label = "as width 2"
        other.familyTarget = try TargetFunction.tanhTeacher(inputs: 2, width: 2)
        var short = rows[0]
        short.procedure.steps = 10
        other.procedure.steps = 10
        let r = try runRecoveryGrid(target: t, rows: [short, other], sizes: [2, 8], seeds: 1)
        #expect(r.optimisticSizes == [3, 6] && r.optimisticSize == nil)
        let c = try #require(parseSVG(try recoveryHeatmap(r).svg()))
        #expect(c.text.contains("O = 3|") && c.text.contains("O = 6|"))
    }
}
