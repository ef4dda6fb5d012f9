import Adaptivity
import Foundation
import FoundationXML
import Lab
import Testing

@Suite struct AdaptivityLabTests {
    func settings(reps: Int) throws -> RateSettings {
        let N = 400
        let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: 1, q: 2),
                                          eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 1.5), name: "small")
        var s = RateSettings(problem: problem, estimators: [.vanilla, .opgd(depth: 0), .opgd(depth: 2)], sizes: [500, 1000, 2000], repetitions: reps)
        s.grid = TimeGrid(from: 1e-1, to: 1e6, perDecade: 6)
        s.p = 1; s.q = 2; s.gamma = 1.5
        return s
    }

    @Test func ratesResumeFromTheStoreAndGrowTheirRepetitions() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-rates-\(getpid()).sqlite").path
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ResultStore(path: path)
        let first = try runRates(settings(reps: 2), store: store)
        #expect(first.computedUnits == 6)
        // The same command again computes nothing and gives the same numbers, bit for bit.
        let again = try runRates(settings(reps: 2), store: ResultStore(path: path))
        #expect(again.computedUnits == 0)
        #expect(again.estimators.map(\.meanErrors) == first.estimators.map(\.meanErrors))
        // Twice the repetitions: only the new units run, and the result is what a fresh run gives.
        let more = try runRates(settings(reps: 4), store: store)
        #expect(more.computedUnits == 6)
        let fresh = try runRates(settings(reps: 4), store: nil)
        #expect(more.estimators.map(\.meanErrors) == fresh.estimators.map(\.meanErrors))
        #expect(more.estimators.map(\.oracleTimes) == fresh.estimators.map(\.oracleTimes))
        // Another tolerance is another experiment.
        var other = try settings(reps: 2)
        other.tolerance = 1e-9
        #expect(try runRates(other, store: store).computedUnits == 6)
    }

    @Test func ratesAndTrajectoryFiguresAreValidSVG() throws {
        let r = try runRates(settings(reps: 2), store: nil)
        let svg = try ratesPlot(r).svg()
        #expect(try XMLDocument(xmlString: svg).rootElement()?.name == "svg")
        #expect(svg.contains("theory -0.500") && svg.contains("OpGD D=2"))
        let s = try settings(reps: 1)
        let t = try trajectories(problem: s.problem, depths: [1], n: 1000, indices: 10...60, times: { _ in [1, 100] })
        let tsvg = try trajectoryPlot(t[0], problemName: "small", n: 1000).svg()
        #expect(try XMLDocument(xmlString: tsvg).rootElement()?.name == "svg")
        #expect(tsvg.contains("initial λ_j^(1/2) b0^D"))
    }

    /// The other problems `adapt rates` takes: a sparse signal, and signal and eigenvalues from
    /// files (N from the file) — parsed to exactly what they say, and measured.
    @Test func sparseAndFileProblemsRun() throws {
        let sparse = try AdaptSettings(["signal": "sparse:4", "N": "40", "gamma": "2"]).problem()
        #expect(sparse.truth.count == 40 && sparse.truth.filter { $0 != 0 } == [1, 1, 1, 1] && sparse.eigenvalues[1] == 0.25)
        #expect(sparse.name == "sparse s = 4, γ = 2.0, N = 40")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-problem-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "0.5\n0\n-1\n0.25\n".write(toFile: dir + "/theta.txt", atomically: true, encoding: .utf8)
        try "1\n0.5\n0.25\n0.125\n".write(toFile: dir + "/lambda.txt", atomically: true, encoding: .utf8)
        let files = try AdaptSettings(["signal": dir + "/theta.txt", "eigenvalues": dir + "/lambda.txt", "depths": "0,1", "n": "100,400", "reps": "2"])
        let problem = try files.problem()
        #expect(problem.truth == [0.5, 0, -1, 0.25] && problem.eigenvalues == [1, 0.5, 0.25, 0.125])
        let report = try runRates(files.rateSettings(), store: nil)
        // At the oracle time every method is below the error of stopping at once, Σθ*² = 1.3125.
        #expect(report.estimators.count == 3 && report.estimators.allSatisfy { $0.meanErrors.allSatisfy { $0 > 0 && $0 < 1.3125 } })
        #expect(throws: (any Error).self) { _ = try AdaptSettings(["signal": "sparse:x"]).problem() }
        #expect(throws: (any Error).self) { _ = try AdaptSettings(["signal": "sparse:50", "N": "40"]).problem() }
    }
}
