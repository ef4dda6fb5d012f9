import Linalg
import NeuralNets
import Recovery
import Testing

/// The Gauss–Newton finish of gd-adaptive (GaussNewtonFinish.swift): for a model linear in θ it
/// lands where GD converges — the point of the solution set nearest the start — and on a tanh
/// student it ends where GD to convergence ends, in a fraction of the evaluations.
@Suite struct GaussNewtonFinishTests {
    /// f(x) = w·x + b on n = 3 points in R⁶ (7 parameters): GD from θ₀ converges to
    /// θ₀ + Jᵀ(JJᵀ)⁻¹(y − f(θ₀)), J = [x, 1] — computed here by elimination on JJᵀ, not by SVD.
    @Test func aLinearModelLandsWhereGradientDescentConverges() throws {
        var net = try Network<Double>(spec: "mlp:6-1:linear")
        net.initialize(.gaussian(std: 0.5), rng: RNG(seed: 3))
        let n = 3, d = 6
        var rng = RNG(seed: 4)
        let xs = (0..<(n * d)).map { _ in rng.normal() }, ys = (0..<n).map { _ in rng.normal() }
        let x = Tensor(shape: [n, d], scalars: xs), y = Tensor(shape: [n, 1], scalars: ys)
        let theta0 = net.parameters
        let J = try net.jacobian(x).scalars, P = net.parameterCount
        #expect(P == 7)
        let f0 = try net.predict(x).scalars
        // a = (JJᵀ)⁻¹ r by Gauss–Jordan on the 3 × 4 augmented matrix.
        var m = (0..<n).map { i in (0..<n).map { j in (0..<P).reduce(0.0) { $0 + J[i * P + $1] * J[j * P + $1] } } + [ys[i] - f0[i]] }
        for c in 0..<n {
            let pivot = m[c][c]
            m[c] = m[c].map { $0 / pivot }
            for r in 0..<n where r != c { let k = m[r][c]; m[r] = zip(m[r], m[c]).map { $0 - k * $1 } }
        }
        let expected = (0..<P).map { q in theta0[q] + (0..<n).reduce(0.0) { $0 + J[$1 * P + q] * m[$1][n] } }
        let start = try net.evaluate(x, .values(y), loss: .meanSquaredError).loss
        let (steps, loss) = try gaussNewtonFinish(&net, x: x, y: y, loss: start, targetLoss: 1e-24, budget: 100)
        #expect(loss <= 1e-24 && steps <= 4, "\(steps) evaluations, loss \(loss)")
        for q in 0..<P { #expect(abs(net.parameters[q] - expected[q]) < 1e-10, "θ[\(q)] \(net.parameters[q]) vs \(expected[q])") }
    }

    /// More samples than the linearization can fit (n = 12 points, 7 parameters): no step reaches
    /// the target, and the finish stops at the least-squares loss within its budget instead of
    /// spending it.
    @Test func stopsWhenTheLinearizationCannotFit() throws {
        var net = try Network<Double>(spec: "mlp:6-1:linear")
        net.initialize(.gaussian(std: 0.5), rng: RNG(seed: 3))
        var rng = RNG(seed: 5)
        let x = Tensor(shape: [12, 6], scalars: (0..<72).map { _ in rng.normal() })
        let y = Tensor(shape: [12, 1], scalars: (0..<12).map { _ in rng.normal() })
        let start = try net.evaluate(x, .values(y), loss: .meanSquaredError).loss
        let (steps, loss) = try gaussNewtonFinish(&net, x: x, y: y, loss: start, targetLoss: 1e-20, budget: 10_000)
        #expect(loss > 1e-3 && loss < start && steps < 30, "\(steps) evaluations, loss \(loss) from \(start)")
    }

    /// The quick target (O = 6) in a width-20 tanh student, below and above O: GD alone to train
    /// MSE 1e-20 against GD handing over at 1e-5. Measured: test MSE 0.32804 vs 0.32787 (n = 4)
    /// and 0.0072359 vs 0.0072791 (n = 5, seed 1), in 69,389 vs 3,208 and 25,256 vs 3,406
    /// evaluations. A finish that stopped early, or jumped to another interpolant, would miss.
    @Test func aTanhStudentEndsWhereGradientDescentToConvergenceEnds() throws {
        let t = try TargetFunction.tanhTeacher(inputs: 2, width: 2)
        var gd = RecoveryProcedure()
        gd.method = .gdAdaptive; gd.learningRate = 0.05; gd.steps = 400_000
        var finish = gd
        finish.finishBelow = 1e-5
        for (n, seed) in [(4, UInt64(0)), (5, 1)] {
            let a = try recoveryRun(student: "mlp:2-20-1:tanh:nobias", target: t, n: n, seed: seed, procedure: gd)
            let b = try recoveryRun(student: "mlp:2-20-1:tanh:nobias", target: t, n: n, seed: seed, procedure: finish)
            #expect(gd.stop(of: a) == .converged && finish.stop(of: b) == .converged, "n = \(n): \(a) / \(b)")
            #expect(abs(b.testMSE - a.testMSE) < 0.01 * a.testMSE, "n = \(n): test MSE \(b.testMSE) vs GD's \(a.testMSE)")
            #expect(b.steps * 5 < a.steps, "n = \(n): \(b.steps) vs \(a.steps) evaluations")
        }
        // The finish joins the store key (a run with it is another procedure), and only then.
        #expect(finish.key["finish"] == "gauss-newton below 1e-05" && gd.key["finish"] == nil)
    }
}
