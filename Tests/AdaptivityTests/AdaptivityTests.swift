import Adaptivity
import Linalg
import RealModule
import Testing

@Suite struct AdaptivityTests {
    @Test func misalignedSignalByHand() throws {
        let theta = try SequenceProblem.misaligned(count: 10, p: 1, q: 2)
        // k = 1, 2, 3 at indices 1, 4, 9 with sizes k^(−1).
        #expect(theta == [1, 0, 0, 0.5, 0, 0, 0, 0, 1.0 / 3, 0])
        #expect(try SequenceProblem.misaligned(count: 4, p: 3, q: 1) == [1, 0.25, 1.0 / 9, 1.0 / 16])
        #expect(throws: AdaptivityError.self) { try SequenceProblem.misaligned(count: 10, p: 1, q: 0.5) }
        #expect(SequenceProblem.powerLawEigenvalues(3, gamma: 2) == [1, 0.25, 1.0 / 9])
    }

    @Test func vanillaMonteCarloMatchesTheExpectedRisk() throws {
        let N = 200
        let truth = try SequenceProblem.misaligned(count: N, p: 1, q: 2), lambda = SequenceProblem.powerLawEigenvalues(N, gamma: 1.5)
        let n = 400.0, eps = 1 / n.squareRoot(), t = 50.0
        let exact = vanillaExpectedRisk(truth: truth, eigenvalues: lambda, epsilon2: 1 / n, t: t)
        var risks = [Double]()
        for rep in 0..<2000 {
            let xi = noise(seed: 3, repetition: rep, count: N)
            risks.append((0..<N).reduce(0.0) { acc, j in
                let d = vanillaFlow(z: truth[j] + eps * xi[j], lambda: lambda[j], t: t) - truth[j]
                return acc + d * d
            })
        }
        let mean = risks.reduce(0, +) / 2000
        let sd = (risks.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1999).squareRoot()
        #expect(abs(mean - exact) < 4 * sd / 2000.0.squareRoot(), "Monte Carlo \(mean) vs exact \(exact)")
    }

    @Test(arguments: [0, 1, 2, 3])
    func flowSolverMatchesSmallStepGradientDescent(depth: Int) {
        // Gradient descent converges to the flow at O(η); Richardson extrapolation of η and η/2
        // removes that term. The solver must agree with it to 1e-6 relative on the risk.
        let times = [0.5, 2, 8, 30]
        var r = RNG(seed: UInt64(10 + depth))
        var flowRisk = [Double](repeating: 0, count: times.count), gdRisk = flowRisk
        var out = [Double](repeating: 0, count: times.count)
        for j in 1...12 {
            let lambda = Double.pow(Double(j), -1.5), truth = j % 3 == 1 ? 1 / Double(j) : 0
            let z = truth + 0.05 * r.normal()
            let c = OpGDCoordinate(lambda: lambda, b0: 0.3, depth: depth)
            c.solve(z: z, at: times, tolerance: 1e-11, into: &out)
            let coarse = c.gradientDescent(z: z, at: times, step: 5e-4), fine = c.gradientDescent(z: z, at: times, step: 2.5e-4)
            for k in times.indices {
                flowRisk[k] += (out[k] - truth) * (out[k] - truth)
                let gd = 2 * fine[k] - coarse[k]
                gdRisk[k] += (gd - truth) * (gd - truth)
            }
        }
        for k in times.indices {
            #expect(abs(flowRisk[k] - gdRisk[k]) <= 1e-6 * gdRisk[k], "D = \(depth), t = \(times[k]): \(flowRisk[k]) vs \(gdRisk[k])")
        }
    }

    @Test func conservedQuantitiesAndTheDepthZeroIdentity() {
        // Along gradient descent, a² − β² and b² − Dβ² stay at λ and b0² up to O(η): halving the
        // step halves the drift, so the flow conserves them exactly (what the solver relies on).
        let lambda = 0.3, b0 = 0.2, z = 0.8
        for depth in [0, 1, 2] {
            let c = OpGDCoordinate(lambda: lambda, b0: b0, depth: depth)
            func drift(_ eta: Double) -> Double {
                let s = c.gradientDescentState(z: z, until: 10, step: eta)
                return max(abs(s.a * s.a - s.beta * s.beta - lambda), abs(s.b * s.b - Double(depth) * s.beta * s.beta - b0 * b0))
            }
            let d1 = drift(1e-3), d2 = drift(5e-4)
            #expect(d1 < 1e-3 && d2 < 0.6 * d1 + 1e-12, "D = \(depth): drift \(d1) then \(d2)")
        }
        // D = 0: θ̇ = √(λ² + 4θ²)(z − θ), checked by central differences of the solver's output.
        let c = OpGDCoordinate(lambda: lambda, b0: b0, depth: 0)
        let t = 1.7, h = 1e-4
        var out = [0.0, 0.0, 0.0]
        c.solve(z: z, at: [t - h, t, t + h], tolerance: 1e-13, into: &out)
        let derivative = (out[2] - out[0]) / (2 * h)
        let expected = (lambda * lambda + 4 * out[1] * out[1]).squareRoot() * (z - out[1])
        #expect(abs(derivative - expected) < 1e-6 * abs(expected), "\(derivative) vs \(expected)")
        // Odd in z, and the limit is z itself.
        var neg = [0.0], pos = [0.0]
        c.solve(z: -z, at: [1e6], into: &neg); c.solve(z: z, at: [1e6], into: &pos)
        #expect(neg[0] == -pos[0] && abs(pos[0] - z) < 1e-8)
    }

    func shortRun(workers: Int) throws -> RateReport {
        let N = 3000
        let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: 1, q: 2),
                                          eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 1.5), name: "A")
        var s = RateSettings(problem: problem, estimators: [.vanilla, .opgd(depth: 0), .opgd(depth: 1)], sizes: [1000, 2000, 4000, 8000], repetitions: 4)
        s.p = 1; s.q = 2; s.gamma = 1.5
        s.grid = TimeGrid(from: 1, to: 1e6, perDecade: 16)
        return try measureRates(s, workers: workers)
    }

    @Test func shortRateRunFallsInTheTheorysBandsAndRepeats() throws {
        let r = try shortRun(workers: 2)
        let slopes = r.estimators.map { $0.slope!.slope }
        // Theory: vanilla −1/3, OpGD −1/2 (the paper measured −0.374 and −0.533).
        #expect(slopes[0] > -0.45 && slopes[0] < -0.25, "vanilla slope \(slopes[0])")
        #expect(slopes[1] > -0.65 && slopes[1] < -0.42, "OpGD D=0 slope \(slopes[1])")
        #expect(slopes[2] > -0.65 && slopes[2] < -0.42, "OpGD D=1 slope \(slopes[2])")
        for k in 0..<4 { #expect(r.estimators[1].meanErrors[k] < r.estimators[0].meanErrors[k]) }
        #expect(r.estimators.allSatisfy { !$0.oracleAtGridEdge.contains(true) })
        let again = try shortRun(workers: 1)
        #expect(again.estimators.map(\.meanErrors) == r.estimators.map(\.meanErrors), "deterministic for the seed, any number of workers")
    }
}
