import Lab
import Recovery
import Testing

@Suite struct RecoverySettingsTests {
    /// fig3's rows each carry the target written in their family (O = 7, 15, 21); students given
    /// by `--students` keep their family's, matched by the spec's kind, instead of all showing
    /// the CNN's O = 7. A preset with one target for every row (quick) has none to keep.
    @Test func overriddenStudentsKeepTheirFamilysOptimisticSize() throws {
        let p = try RecoverySettings(["preset": "fig3",
                                      "students": "local1d:5-k3-c2-1:tanh:nooutbias,mlp:5-6-1:tanh:nooutbias,conv1d:5-k3-c2-1:tanh:nooutbias"]).preset()
        let O = try p.rows.map { try $0.familyTarget?.rank().modelRank }
        #expect(O == [15, 21, 7])
        let quick = try RecoverySettings(["students": "mlp:2-8-1:tanh:nobias"]).preset()
        #expect(quick.rows.count == 1 && quick.rows[0].familyTarget == nil)
    }

    /// Grid training inputs: n evenly spaced points, ends included (30 on [−15, 14] are the
    /// integers), the same for every seed, keyed apart from random draws; refused for a target
    /// without an interval, and an unknown value is a clear error.
    @Test func gridTrainingInputs() throws {
        let p = try RecoverySettings(["preset": "dropout", "training-inputs": "grid"]).preset()
        #expect(p.target.gridTraining)
        let a = try trainingInputs(p.target, n: 30, seed: 0, shape: [1]), b = try trainingInputs(p.target, n: 30, seed: 1, shape: [1])
        #expect(a.scalars == (-15...14).map(Double.init) && b.scalars == a.scalars && a.shape == [30, 1])
        #expect(try trainingInputs(p.target, n: 1, seed: 0, shape: [1]).scalars == [-0.5])
        let random = try RecoveryPreset.named("dropout")
        let r0 = try trainingInputs(random.target, n: 30, seed: 0, shape: [1]), r1 = try trainingInputs(random.target, n: 30, seed: 1, shape: [1])
        #expect(r0.scalars != r1.scalars && r0.scalars.allSatisfy { (-15...14).contains($0) })
        #expect(recoveryStoreKey(target: p.target, row: p.rows[0])["target-inputs"] == "grid -15.0 14.0")
        #expect(recoveryStoreKey(target: random.target, row: random.rows[0])["target-inputs"] == "uniform -15.0 14.0")
        #expect(throws: ExperimentError.self) { try RecoverySettings(["training-inputs": "grid"]).preset() }
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "dropout", "training-inputs": "lattice"]).preset() }
    }

    /// finish-below sets or clears (none) the Gauss–Newton hand-over of gd-adaptive rows, and is
    /// refused for a row trained by another method, or as a value that is not a positive MSE.
    @Test func finishBelow() throws {
        let full = try RecoverySettings(["preset": "fig3-full"]).preset()
        #expect(full.rows.allSatisfy { $0.procedure.finishBelow == 1e-5 })
        let none = try RecoverySettings(["preset": "fig3-full", "finish-below": "none"]).preset()
        #expect(none.rows.allSatisfy { $0.procedure.finishBelow == nil && $0.procedure.key["finish"] == nil })
        let set = try RecoverySettings(["preset": "quick", "method": "gd-adaptive", "finish-below": "1e-6"]).preset()
        #expect(set.rows[0].procedure.finishBelow == 1e-6)
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "quick", "finish-below": "1e-6"]).preset() }
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "fig3-full", "finish-below": "0"]).preset() }
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "fig3-full", "finish-below": "soon"]).preset() }
        #expect(try RecoverySettings(["preset": "quick", "finish-below": "none"]).preset().rows[0].procedure.finishBelow == nil)
    }

    /// data-seed fixes every row's draw of training inputs; refused below 0, as a non-integer, and
    /// with grid training inputs (which have no draw).
    @Test func dataSeed() throws {
        let p = try RecoverySettings(["preset": "fig3-full", "data-seed": "4"]).preset()
        #expect(p.rows.allSatisfy { $0.procedure.dataSeed == 4 && $0.procedure.key["data-seed"] == "4" })
        #expect(try RecoverySettings(["preset": "fig3-full"]).preset().rows.allSatisfy { $0.procedure.dataSeed == nil })
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "quick", "data-seed": "-1"]).preset() }
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "quick", "data-seed": "x"]).preset() }
        #expect(throws: ExperimentError.self) { try RecoverySettings(["preset": "dropout", "training-inputs": "grid", "data-seed": "1"]).preset() }
    }
}
