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
}
