import Adaptivity
import Foundation
import Lab
import Recovery
import Testing

@Suite struct InstrumentSweepTests {
    func folder(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        return dir
    }

    @Test func recoverySweepRunsWhatRecoverRunsWithThoseSettings() throws {
        let out = folder("recovery-sweep")
        let spec = try SweepSpec.parse("""
            instrument: recovery
            fixed: {preset: quick, sizes: "3,8", steps: 3000}
            axes:
              lr: [0.1, 0.3]
            seeds: 2
            output: \(out)
            """, file: "r.yaml")
        #expect(spec.kind == .recovery && spec.configurations.count == 2)
        let rows = try runRecoverySweep(spec, store: nil)
        // The same grid by hand: the quick preset, its training overridden.
        for (row, lr) in zip(rows, [0.1, 0.3]) {
            var p = try RecoveryPreset.named("quick")
            p.sizes = [3, 8]; p.seeds = 2
            p.rows[0].procedure.steps = 3000; p.rows[0].procedure.learningRate = lr
            #expect(row.result.rows[0].procedure == p.rows[0].procedure)
            let direct = try runRecovery(target: p.target, rows: p.rows, sizes: p.sizes, seeds: p.seeds, store: nil)
            #expect(row.result.cells[0].map(\.medianTestMSE) == direct.cells[0].map(\.medianTestMSE))
        }
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3 && csv[0] == "lr,configuration,row,student,parameters,optimistic_sample_size,recovered_from,sizes,median_test_mse")
        #expect(csv[1].hasPrefix("0.1,1,width 20,mlp:2-20-1:tanh:nobias,60,6,"))
        for k in 1...2 {
            #expect(FileManager.default.fileExists(atPath: out + "/config-\(k)/recovery-heatmap.svg"))
        }
        #expect(parseSVG(try String(contentsOfFile: out + "/recovery-across-sweep.svg", encoding: .utf8)) != nil)
    }

    @Test func adaptSweepMatchesRateSettingsBuiltByHand() throws {
        let out = folder("adapt-sweep")
        let spec = try SweepSpec.parse("""
            instrument: adapt
            fixed: {N: 500, n: "500,1000,2000", reps: 2, depths: "0,2", per-decade: 8}
            zip:
              gamma: [1.5, 3]
              q: [2, 1]
            output: \(out)
            """, file: "a.yaml")
        let rows = try runRateSweep(spec, store: nil)
        #expect(rows.count == 2)
        for (row, (gamma, q)) in zip(rows, [(1.5, 2.0), (3.0, 1.0)]) {
            let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: 500, p: 1, q: q),
                                              eigenvalues: SequenceProblem.powerLawEigenvalues(500, gamma: gamma), name: "by hand")
            var s = RateSettings(problem: problem, estimators: [.vanilla, .opgd(depth: 0), .opgd(depth: 2)], sizes: [500, 1000, 2000], repetitions: 2)
            s.grid = TimeGrid(to: 1e10, perDecade: 8)
            (s.p, s.q, s.gamma) = (1, q, gamma)
            let direct = try measureRates(s)
            #expect(row.report.estimators.map(\.meanErrors) == direct.estimators.map(\.meanErrors))
            #expect(row.report.estimators.map(\.theorySlope) == direct.estimators.map(\.theorySlope))
        }
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 3 && csv[0].hasPrefix("gamma,q,configuration,method,slope"))
        #expect(parseSVG(try String(contentsOfFile: out + "/rates-across-sweep.svg", encoding: .utf8)) != nil)
        #expect(FileManager.default.fileExists(atPath: out + "/config-2/rates.json"))
    }

    @Test func statusAndTheQueueAreForEMCSweeps() throws {
        let spec = try SweepSpec.parse("instrument: adapt\noutput: o\n")
        #expect(throws: ExperimentError.self) { try sweepStatus(spec, store: ResultStore(path: temporaryStore("status-adapt.sqlite"))) }
    }
}
