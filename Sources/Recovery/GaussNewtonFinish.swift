import Linalg
import NeuralNets

// The end of a gd-adaptive run by Gauss–Newton (issue #22's time goal). Near an interpolating
// minimum, GD's last phase is linear convergence at the rate of the tangent kernel's smallest
// eigenvalue against its largest: most capped fig3-full runs spent 100,000s of evaluations there,
// creeping from train MSE 1e-6 to 1e-8. In that phase the student is nearly linear in θ, and for
// a model linear in θ GD converges to the point of the solution set closest to where it stands,
// θ + Jᵀ(JJᵀ)⁻¹(y − f): the minimum-norm Gauss–Newton step. So from a small train MSE on, this
// takes that step, repeated while the linearization is off by more than the tolerance: the same
// end point as GD to first order in the distance left. The step goes through the n × n kernel
// JJᵀ (n ≤ 63 here) and its eigenvectors, not an SVD of the n × P tangent: one product instead
// of a Householder factorization of the wide matrix (two runs of a dense ×100 student at n = 58:
// 30 s by the SVD, 2.5 s this way with the damping carried over). Eigenvalues below n·ε of the
// largest are noise in JJᵀ and are left out.
// A step that does not lower the loss is retried with Levenberg–Marquardt damping μ; the damping
// that worked, over 10, is the next iteration's first try. When no damping helps, or an
// iteration gains less than `minGain`, the finish stops (the linearized problem cannot go on).

/// Gauss–Newton iterations from the current point: each computes the tangent J and the kernel
/// JJᵀ, and tries the damped minimum-norm step Jᵀ(JJᵀ + μ)⁻¹r until the loss falls (at most
/// `tries` dampings). Stops at `targetLoss`, when no damping lowers the loss, when an iteration
/// gains less than `minGain` of the loss, or after `budget` evaluations (each iteration's
/// tangent counts as one, and each loss it reads). Returns the evaluations spent and the loss.
public func gaussNewtonFinish(_ net: inout Network<Double>, x: Tensor<Double>, y: Tensor<Double>, loss start: Double,
                              targetLoss: Double, budget: Int, tries: Int = 12, minGain: Double = 1e-3) throws -> (steps: Int, loss: Double) {
    let n = x.shape[0], P = net.parameterCount
    let ys = y.scalars
    var loss = start, steps = 0, carried = 0.0
    var theta = net.parameters
    var delta = [Double](repeating: 0, count: P)
    // Loss: the engine's mean squared error, as the GD phase reads it.
    func lossAt(_ net: inout Network<Double>) throws -> Double { try net.evaluate(x, .values(y), loss: .meanSquaredError).loss }
    while loss > targetLoss && steps + 2 <= budget {
        let f = try net.predict(x).scalars
        let r = (0..<n).map { ys[$0] - f[$0] }
        let tangent = try net.jacobian(x), J = tangent.scalars
        steps += 1
        // JJᵀ, then its eigenvectors Q and eigenvalues λ (an SVD of a symmetric PSD matrix).
        let (q, lambda, _) = try svd(matmul(tangent, tangent, transB: true))
        guard let l0 = lambda.first, l0 > 0 else { break }
        let kept = lambda.prefix { $0 > l0 * Double(n) * Double.ulpOfOne }.count
        // Qᵀ r, the residual in the kernel's eigenbasis.
        var c = [Double](repeating: 0, count: kept)
        for i in 0..<n { let ri = r[i]; for j in 0..<kept { c[j] += q.scalars[i * n + j] * ri } }
        var mu = carried, accepted = false
        for _ in 0..<tries where steps < budget {
            // a = Q (λ + μ)⁻¹ Qᵀ r, then δ = Jᵀ a.
            var a = [Double](repeating: 0, count: n)
            for j in 0..<kept {
                let w = c[j] / (lambda[j] + mu)
                for i in 0..<n { a[i] += q.scalars[i * n + j] * w }
            }
            for p in 0..<P { delta[p] = 0 }
            for i in 0..<n {
                let ai = a[i], row = i * P
                for p in 0..<P { delta[p] += ai * J[row + p] }
            }
            for p in 0..<P { net.parameters[p] = theta[p] + delta[p] }
            let proposed = try lossAt(&net)
            steps += 1
            if proposed.isFinite && proposed < loss {
                let gain = (loss - proposed) / loss
                loss = proposed
                for p in 0..<P { theta[p] = net.parameters[p] }
                accepted = gain >= minGain
                carried = mu / 10
                break
            }
            // Damping on the scale of the spectrum: from 1e-12·λ₀ up by 100 each try.
            mu = max(mu * 100, l0 * 1e-12)
        }
        for p in 0..<P { net.parameters[p] = theta[p] }
        if !accepted { break }
    }
    return (steps, loss)
}
