import Linalg
import Recovery
import Testing

@Suite struct ExperimentTests {
    /// A small, fast version of the quick preset: one tanh neuron on d = 2 (O = 3) in a student of
    /// width 10 (M = 30), full-batch GD lr 0.5 from init std 1e-8.
    func small(steps: Int = 50_000) throws -> (TargetFunction, [RecoveryRow]) {
        let t = try TargetFunction.tanhTeacher(inputs: 2, width: 1)
        var p = RecoveryProcedure()
        p.steps = steps
        p.learningRate = 0.5
        return (t, [RecoveryRow(label: "width 10", student: "mlp:2-10-1:tanh:nobias", procedure: p)])
    }

    @Test func testErrorCollapsesNearTheRankFarBelowTheParameterCount() throws {
        let (t, rows) = try small()
        let r = try runRecoveryGrid(target: t, rows: rows, sizes: [2, 3, 5, 10], seeds: 2)
        #expect(r.optimisticSize == 3 && r.parameters == [30])
        let test = r.cells[0].map(\.medianTestMSE)
        // Measured: 0.27, 0.19, 2e-4, 3e-6. Every size is fitted; only from n = 5 is f* recovered.
        #expect(test[0] > 1e-2 && test[1] > 1e-2, "at and below O the target is not recovered yet: \(test)")
        #expect(test[2] < 1e-3 && test[3] < 1e-5, "just past O = 3, far below M = 30, it is: \(test)")
        #expect(r.cells[0].allSatisfy { $0.medianTrainMSE < 1e-6 }, "every size is fitted: \(r.cells[0].map(\.medianTrainMSE))")
        #expect(r.recoveredFrom(row: 0, threshold: 1e-3) == 5)
    }

    @Test func deterministicForAnyNumberOfWorkers() throws {
        let (t, rows) = try small(steps: 3000)
        let one = try runRecoveryGrid(target: t, rows: rows, sizes: [2, 3], seeds: 2, workers: 1)
        let two = try runRecoveryGrid(target: t, rows: rows, sizes: [2, 3], seeds: 2, workers: 2)
        #expect(one.cells[0].flatMap(\.runs).map(\.testMSE) == two.cells[0].flatMap(\.runs).map(\.testMSE))
    }

    @Test func divergenceIsRecordedNotThrown() throws {
        let (t, _) = try small()
        var p = RecoveryProcedure()
        p.learningRate = 50; p.steps = 2000; p.initStd = 1
        let run = try recoveryRun(student: "mlp:2-6-1:tanh:nobias", target: t, n: 8, seed: 0, procedure: p)
        #expect(run.diverged && run.testMSE == .infinity)
    }

    @Test func badGridsAreClearErrors() throws {
        let (t, rows) = try small()
        #expect(throws: RecoveryError.self) { try runRecoveryGrid(target: t, rows: rows, sizes: [0, 2], seeds: 1) }
        #expect(throws: RecoveryError.self) { try runRecoveryGrid(target: t, rows: [RecoveryRow(label: "x", student: "mlp:3-4-1:tanh", procedure: rows[0].procedure)], sizes: [2], seeds: 1) }
        #expect(throws: RecoveryError.self) { try RecoveryPreset.named("fig9") }
    }

    @Test func medians() {
        #expect(median([3, 1, 2]) == 2 && median([4, 1, 3, 2]) == 2.5)
    }
}
