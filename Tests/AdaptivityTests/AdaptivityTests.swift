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

    @Test func depthZeroClosedFormMatchesTheIntegratedFlow() {
        // Small and large λ relative to z, both signs, early and late times.
        let times = [1e-3, 0.1, 1, 10, 100, 1e4, 1e7]
        var integrated = [Double](repeating: 0, count: times.count)
        for (lambda, z) in [(1.0, 0.7), (1e-6, 0.02), (3e-4, -0.5), (0.5, 1e-5), (1e-8, 2.0)] {
            let c = OpGDCoordinate(lambda: lambda, b0: 1, depth: 0)
            c.integrate(z: z, at: times, tolerance: 1e-13, into: &integrated)
            let settled = c.depthZeroSettleTime(z: z)
            for k in times.indices {
                let closed = c.depthZeroTheta(z: z, t: times[k])
                #expect(abs(closed - integrated[k]) <= 1e-9 * abs(integrated[k]) + 1e-15 * abs(z), "λ = \(lambda), z = \(z), t = \(times[k]): \(closed) vs \(integrated[k])")
                if times[k] >= settled { #expect(closed == z) }
            }
        }
        // Early on θ ≈ λzt.
        let c = OpGDCoordinate(lambda: 1e-4, b0: 1, depth: 0)
        #expect(abs(c.depthZeroTheta(z: 0.3, t: 1e-6) - 1e-4 * 0.3 * 1e-6) < 1e-9 * 3e-11)
    }

    @Test(arguments: [1, 2, 3])
    func vectorizedErrorCurveEqualsTheScalarSolver(depth: Int) throws {
        let N = 37   // not a multiple of the four lanes; one coordinate exactly zero
        var truth = try SequenceProblem.misaligned(count: N, p: 1, q: 2)
        let problem = try SequenceProblem(truth: truth, eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 1.5), name: "t")
        let xi = noise(seed: 5, repetition: 0, count: N)
        var z = (0..<N).map { truth[$0] + 0.05 * xi[$0] }
        z[4] = 0; truth = problem.truth
        let times = TimeGrid(from: 1e-2, to: 1e8, perDecade: 6).times
        let curve = errorCurve(.opgd(depth: depth), z: z, problem: problem, times: times, b0: 0.4, tolerance: 1e-9)
        var expected = [Double](repeating: 0, count: times.count), theta = expected
        for j in 0..<N {
            OpGDCoordinate(lambda: problem.eigenvalues[j], b0: 0.4, depth: depth).integrate(z: z[j], at: times, tolerance: 1e-9, into: &theta)
            for k in times.indices { expected[k] += (theta[k] - truth[j]) * (theta[k] - truth[j]) }
        }
        for k in times.indices { #expect(abs(curve[k] - expected[k]) <= 1e-12 * expected[k], "t = \(times[k])") }
        // The default tolerance of the rates (1e-8) is far inside Monte Carlo noise: against 1e-11
        // the risk moves by less than 1e-6 relative.
        let tight = errorCurve(.opgd(depth: depth), z: z, problem: problem, times: times, b0: 0.4, tolerance: 1e-11)
        let loose = errorCurve(.opgd(depth: depth), z: z, problem: problem, times: times, b0: 0.4, tolerance: RateSettings(problem: problem, estimators: [], sizes: [], repetitions: 1).tolerance)
        for k in times.indices { #expect(abs(loose[k] - tight[k]) <= 1e-6 * tight[k], "t = \(times[k]): \(loose[k]) vs \(tight[k])") }
    }

    @Test func trajectoryFeaturesMatchGradientDescentAndTheProposition() throws {
        // a·b^D recovered from θ by inverting θ = φ(β)β equals the state gradient descent reaches.
        for depth in [0, 1, 3] {
            let c = OpGDCoordinate(lambda: 0.04, b0: 0.5, depth: depth)
            var out = [0.0]
            c.solve(z: 0.6, at: [6], tolerance: 1e-12, into: &out)
            let s1 = c.gradientDescentState(z: 0.6, until: 6, step: 1e-4), s2 = c.gradientDescentState(z: 0.6, until: 6, step: 5e-5)
            func ab(_ s: (a: Double, b: Double, beta: Double)) -> Double { s.a * Double.pow(s.b, Double(depth)) }
            let extrapolated = 2 * ab(s2) - ab(s1)
            #expect(abs(c.feature(theta: out[0]) - extrapolated) < 1e-6 * extrapolated, "D = \(depth)")
            #expect(abs(c.theta(c.beta(theta: 0.37)) - 0.37) < 1e-15)
        }
        let N = 2000
        let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: 1, q: 2),
                                          eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 2), name: "t")
        let paths = try trajectories(problem: problem, depths: [1], n: 4000, indices: 100...200, times: { _ in [1, 100, 1e4] })
        let t = paths[0]
        #expect(t.indices.count == 101 && t.features.count == 3 && t.target.compactMap { $0 }.count == 5)   // j = 100, 121, 144, 169, 196
        // Non-decreasing in t on every coordinate; at t = 1 still near the start.
        for i in t.indices.indices {
            #expect(t.features[0][i] <= t.features[1][i] * (1 + 1e-9) && t.features[1][i] <= t.features[2][i] * (1 + 1e-9))
            #expect(abs(t.features[0][i] / t.initial[i] - 1) < 0.05)
        }
        let check = try propositionCheck(problem: problem, depth: 1, n: 4000, repetitions: 3, followed: 50)
        // Signal coordinates have grown to the order of |θ*|^(2/3) by the stopping time (the median is near 1)…
        let signal = try #require(check.signal), noise = try #require(check.noise)
        #expect(signal.median > 0.5 && signal.median < 2 && signal.min > 0.01)
        // …noise coordinates with small λ have not moved far from where they started, and none shrank.
        #expect(noise.min >= 1 - 1e-9 && noise.median < 2 && noise.p95 < 10)
        #expect(check.decreases == 0 && check.followed == 3 * 50)
    }

    @Test func gradientDescentEstimatorConvergesToTheFlowAtFirstOrder() throws {
        let N = 30
        let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: 1, q: 2),
                                          eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: 1.5), name: "t")
        let xi = noise(seed: 9, repetition: 0, count: N)
        let z = (0..<N).map { problem.truth[$0] + 0.05 * xi[$0] }
        let times = [0.5, 2, 8, 32]
        let flow = errorCurve(.opgd(depth: 1), z: z, problem: problem, times: times, b0: 0.5, tolerance: 1e-11)
        let coarse = errorCurve(.opgdDescent(depth: 1, step: 2e-3), z: z, problem: problem, times: times, b0: 0.5, tolerance: 0)
        let fine = errorCurve(.opgdDescent(depth: 1, step: 1e-3), z: z, problem: problem, times: times, b0: 0.5, tolerance: 0)
        for k in times.indices {
            let e1 = abs(coarse[k] - flow[k]), e2 = abs(fine[k] - flow[k])
            #expect(e2 < 1e-2 * flow[k] && e2 < 0.7 * e1 + 1e-12, "t = \(times[k]): errors \(e1) then \(e2)")
        }
        // A grid too long for the step is refused before anything runs.
        var s = RateSettings(problem: problem, estimators: [.opgdDescent(depth: 1, step: 1e-3)], sizes: [100], repetitions: 1)
        #expect(throws: AdaptivityError.self) { try measureRates(s) }
        s.grid = TimeGrid(from: 0.1, to: 10, perDecade: 4)
        #expect(try measureRates(s).estimators[0].meanErrors.count == 1)
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

/// CKernels' OpGD solver is the Swift lane solver in C: the same curve to the last bit, on the
/// paper's problems and on awkward ones (zero and negative observations, a time of 0, a grid
/// ending early, depths 1–3, loose and tight tolerances).
@Suite struct NativeOpGDTests {
    @Test(arguments: [1, 2, 3])
    func theNativeSolverGivesTheSwiftSolversBits(depth: Int) throws {
        let N = 3001   // odd: the even coordinates' group has one more
        for (k, (p, q, gamma, tolerance)) in [(1.0, 2.0, 2.0, 1e-8), (3, 1.5, 1.1, 1e-8), (0.6, 1, 3, 1e-5), (1, 2, 1.5, 1e-10)].enumerated() {
            let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: N, p: p, q: q),
                                              eigenvalues: SequenceProblem.powerLawEigenvalues(N, gamma: gamma), name: "case \(k)")
            var g = RNG(seed: UInt64(k))
            var z = problem.truth.map { $0 + 0.02 * g.normal() }
            z[7] = 0; z[11] = -0.3; z[N - 1] = -0
            for times in [TimeGrid(from: 1e-2, to: 1e10, perDecade: 24).times, [0, 0.5, 3, 40], TimeGrid(from: 1, to: 1e4, perDecade: 5).times] {
                let b0 = Double.pow(0.02, 1 / Double(depth + 2))
                let swift = opgdErrorCurve(z: z, truth: problem.truth, eigenvalues: problem.eigenvalues, b0: b0, depth: depth,
                                           times: times, tolerance: tolerance, native: false)
                let native = opgdErrorCurve(z: z, truth: problem.truth, eigenvalues: problem.eigenvalues, b0: b0, depth: depth,
                                            times: times, tolerance: tolerance)
                let first = native.indices.first { native[$0].bitPattern != swift[$0].bitPattern }
                #expect(native.count == swift.count && first == nil,
                        "case \(k), D = \(depth), \(times.count) times: time \(first ?? -1) gives \(first.map { native[$0] } ?? 0) against \(first.map { swift[$0] } ?? 0)")
                #expect(swift.allSatisfy { $0.isFinite && $0 >= 0 })
            }
        }
    }
}
