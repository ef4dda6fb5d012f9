import Linalg
import NeuralNets

// The end of a gd-adaptive run by Gauss–Newton (issue #22's time goal). Near an interpolating
// minimum, GD's last phase is linear convergence at the rate of the tangent kernel's smallest
// eigenvalue against its largest: most capped fig3-full runs spent 100,000s of evaluations there,
// creeping from train MSE 1e-6 to 1e-8. In that phase the student is nearly linear in θ, and for
// a linear model GD converges to the point of the solution set closest to where it stands,
// θ + Jᵀ(JJᵀ)⁻¹(y − f): the minimum-norm Gauss–Newton step. So from a small train MSE on, this
// takes that step (pseudo-inverse by a thin SVD of the n × P tangent; n ≤ 63 here, so it costs a
// few passes' time), repeated while the linearization is off by more than the tolerance: the
// same end point as GD to first order in the distance left, reached in a handful of iterations.
// A step that does not lower the loss is retried with Levenberg–Marquardt damping; when no
// damping helps, the finish stops (the linearized problem cannot go further: n above the rank).

/// Gauss–Newton iterations from the current point: each computes the tangent and its SVD, and
/// tries the damped minimum-norm step until the loss falls (at most `tries` dampings). Stops at
/// `targetLoss`, when no damping lowers the loss, when an iteration gains less than `minGain` of
/// the loss, or after `budget` loss evaluations (each iteration's tangent counts as one more).
/// Returns the evaluations spent and the final loss.
public func gaussNewtonFinish(_ net: inout Network<Double>, x: Tensor<Double>, y: Tensor<Double>, loss start: Double,
                       targetLoss: Double, budget: Int, tries: Int = 12, minGain: Double = 1e-3) throws -> (steps: Int, loss: Double) {
    let n = x.shape[0], P = net.parameterCount
    let ys = y.scalars
    var loss = start, steps = 0
    var theta = net.parameters
    // Loss: the engine's mean squared error, as the GD phase reads it.
    func lossAt(_ net: inout Network<Double>) throws -> Double { try net.evaluate(x, .values(y), loss: .meanSquaredError).loss }
    while loss > targetLoss && steps + 2 <= budget {
        let f = try net.predict(x).scalars
        let r = (0..<n).map { ys[$0] - f[$0] }
        let (u, s, vt) = try svd(try net.jacobian(x))
        steps += 1
        let k = s.count
        guard let s0 = s.first, s0 > 0 else { break }
        // Uᵀ r, the residual in the tangent's output basis.
        var c = [Double](repeating: 0, count: k)
        for i in 0..<n { let ri = r[i]; for j in 0..<k { c[j] += u.scalars[i * k + j] * ri } }
        // Directions below this relative size are numerically outside the tangent's span.
        let cutoff = s0 * Double(max(n, P)) * Double.ulpOfOne
        var mu = 0.0, accepted = false
        for _ in 0..<tries where steps < budget {
            var delta = [Double](repeating: 0, count: P)
            for j in 0..<k where s[j] > cutoff {
                let w = s[j] / (s[j] * s[j] + mu) * c[j]
                let row = j * P
                for q in 0..<P { delta[q] += w * vt.scalars[row + q] }
            }
            for q in 0..<P { net.parameters[q] = theta[q] + delta[q] }
            let proposed = try lossAt(&net)
            steps += 1
            if proposed.isFinite && proposed < loss {
                let gain = (loss - proposed) / loss
                loss = proposed
                for q in 0..<P { theta[q] = net.parameters[q] }
                accepted = gain >= minGain
                break
            }
            // Damping on the scale of the spectrum: from 1e-12·σ₀² up by 100 each try.
            mu = mu == 0 ? s0 * s0 * 1e-12 : mu * 100
        }
        for q in 0..<P { net.parameters[q] = theta[q] }
        if !accepted { break }
    }
    return (steps, loss)
}
