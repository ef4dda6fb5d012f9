import RealModule

/// Vanilla (fixed-kernel) gradient flow, θ_j = λ_j^(1/2) β_j from β = 0: θ̂_j(t) = (1 − e^(−λ_j t)) z_j.
@inlinable
public func vanillaFlow(z: Double, lambda: Double, t: Double) -> Double {
    -Double.expMinusOne(-lambda * t) * z
}

/// The exact expected risk of vanilla gradient flow at time t:
/// E R(t) = Σ_j e^(−2λ_j t) θ*_j² + ε² Σ_j (1 − e^(−λ_j t))².
public func vanillaExpectedRisk(truth: [Double], eigenvalues: [Double], epsilon2: Double, t: Double) -> Double {
    var risk = 0.0
    for j in truth.indices {
        let decay = Double.exp(-eigenvalues[j] * t), grown = -Double.expMinusOne(-eigenvalues[j] * t)
        risk += decay * decay * truth[j] * truth[j] + epsilon2 * grown * grown
    }
    return risk
}

/// One coordinate of over-parameterized gradient flow, θ = a·b^D·β on the loss ½(θ − z)², from
/// a(0) = λ^(1/2), b(0) = b0, β(0) = 0.
///
/// Why one scalar ODE suffices: a² − β² = λ and b² − Dβ² = b0² are conserved, so the state is β
/// alone, with a = √(λ + β²), b^D = (b0² + Dβ²)^(D/2) and β̇ = φ(β)·(z − φ(β)·β), φ = a·b^D.
/// This is what `OpGDCoordinate.solve` integrates (Dormand–Prince 5(4) with its continuous
/// extension, error-controlled to `tolerance`), which is exact up to that tolerance, unlike
/// gradient descent with a finite step.
public struct OpGDCoordinate: Sendable {
    public var lambda: Double
    public var b0: Double
    public var depth: Int

    public init(lambda: Double, b0: Double, depth: Int) {
        self.lambda = lambda; self.b0 = b0; self.depth = depth
    }

    /// φ(β) = a·b^D.
    @inlinable
    public func phi(_ beta: Double) -> Double {
        let a = (lambda + beta * beta).squareRoot()
        if depth == 0 { return a }
        let b = (b0 * b0 + Double(depth) * beta * beta).squareRoot()
        var bd = b
        for _ in 1..<depth { bd *= b }
        return a * bd
    }

    /// θ(β) = φ(β)·β.
    @inlinable
    public func theta(_ beta: Double) -> Double { phi(beta) * beta }

    /// The initial feature size a(0)·b(0)^D = λ^(1/2)·b0^D.
    public var initialFeature: Double { phi(0) }

    @inlinable
    func rate(_ beta: Double, _ z: Double) -> Double {
        let f = phi(beta)
        return f * (z - f * beta)
    }

    /// θ(t) at each of the sorted times (t ≥ 0), for the observation z. Odd in z, so the
    /// integration runs for |z| and the sign is put back.
    @discardableResult
    public func solve(z: Double, at times: [Double], tolerance: Double = 1e-10, into out: inout [Double]) -> Int {
        precondition(out.count == times.count)
        let sign: Double = z < 0 ? -1 : 1, zz = abs(z)
        guard zz > 0 else { for k in out.indices { out[k] = 0 }; return 0 }
        // Dormand–Prince 5(4) coefficients.
        let a21 = 1.0 / 5
        let a31 = 3.0 / 40, a32 = 9.0 / 40
        let a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9
        let a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729
        let a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656
        let b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84
        let e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40
        let d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799, d4 = -10690763975.0 / 1880347072
        let d5 = 701980252875.0 / 199316789632, d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423

        var t = 0.0, y = 0.0
        var k1 = rate(y, zz)
        // The fixed point: θ(β*) = |z|. Near it the solution is constant to machine precision.
        var next = 0
        while next < times.count && times[next] <= 0 { out[next] = 0; next += 1 }
        guard next < times.count else { return 0 }
        let end = times[times.count - 1]
        // First step: a small fraction of the time the initial rate needs to move β appreciably.
        var h = min(end, 1e-3 / max(abs(k1) / max(abs(zz), 1e-300), phi(0) * phi(0), 1e-300))
        h = max(h, 1e-12)
        var steps = 0
        while next < times.count {
            steps += 1
            precondition(steps < 10_000_000, "OpGD solver: no progress (λ = \(lambda), z = \(z), D = \(depth))")
            if t + h > end { h = end - t }
            let k2 = rate(y + h * a21 * k1, zz)
            let k3 = rate(y + h * (a31 * k1 + a32 * k2), zz)
            let k4 = rate(y + h * (a41 * k1 + a42 * k2 + a43 * k3), zz)
            let k5 = rate(y + h * (a51 * k1 + a52 * k2 + a53 * k3 + a54 * k4), zz)
            let k6 = rate(y + h * (a61 * k1 + a62 * k2 + a63 * k3 + a64 * k4 + a65 * k5), zz)
            let y1 = y + h * (b1 * k1 + b3 * k3 + b4 * k4 + b5 * k5 + b6 * k6)
            let k7 = rate(y1, zz)
            let err = abs(h * (e1 * k1 + e3 * k3 + e4 * k4 + e5 * k5 + e6 * k6 + e7 * k7))
            let scale = tolerance * max(abs(y), abs(y1), 1e-300) + 1e-300
            let ratio = err / scale
            guard ratio.isFinite, y1.isFinite else { h *= 0.2; continue }
            if ratio <= 1 || h <= 1e-14 * max(t, 1) {
                // Accepted: fill the output times inside (t, t + h] from the continuous extension.
                let t1 = t + h
                if next < times.count && times[next] <= t1 {
                    let r2 = y1 - y, r3 = h * k1 - r2, r4 = r2 - h * k7 - r3
                    let r5 = h * (d1 * k1 + d3 * k3 + d4 * k4 + d5 * k5 + d6 * k6 + d7 * k7)
                    while next < times.count && times[next] <= t1 {
                        let s = (times[next] - t) / h, u = 1 - s
                        out[next] = sign * theta(y + s * (r2 + u * (r3 + s * (r4 + u * r5))))
                        next += 1
                    }
                }
                t = t1; y = y1; k1 = k7
                // Within 10× the tolerance of the fixed point θ = |z|, the flow (which approaches it
                // monotonically) has nothing left to change that matters; an explicit solver would
                // otherwise creep on to the end of the grid in steps limited by stability, with
                // the error control holding the residual at the tolerance. From here θ = z.
                let residual = zz - theta(y)
                if abs(residual) <= 10 * tolerance * zz || abs(k7) * (end - t) <= tolerance * max(abs(y), 1e-300) * 1e-3 {
                    let final = sign * (abs(residual) <= 10 * tolerance * zz ? zz : theta(y))
                    while next < times.count { out[next] = final; next += 1 }
                    return steps
                }
            }
            let factor = ratio == 0 ? 5 : min(5, max(0.2, 0.9 * Double.pow(ratio, -0.2)))
            h *= factor
        }
        return steps
    }

    /// Gradient descent with step η on (a, b, β) — the reference the flow solver is checked
    /// against; returns θ at each sorted time (rounded to whole steps).
    public func gradientDescent(z: Double, at times: [Double], step eta: Double) -> [Double] {
        var state = (a: lambda.squareRoot(), b: b0, beta: 0.0)
        var out = [Double](repeating: 0, count: times.count)
        var k = 0, step = 0
        while k < times.count {
            while k < times.count && Double(step) * eta >= times[k] - 1e-12 * times[k] {
                out[k] = state.a * power(state.b) * state.beta; k += 1
            }
            if k == times.count { break }
            state = gradientStep(state, z: z, eta: eta)
            step += 1
        }
        return out
    }

    /// (a, b, β) after gradient descent up to time t with step η.
    public func gradientDescentState(z: Double, until t: Double, step eta: Double) -> (a: Double, b: Double, beta: Double) {
        var state = (a: lambda.squareRoot(), b: b0, beta: 0.0)
        for _ in 0..<Int((t / eta).rounded()) { state = gradientStep(state, z: z, eta: eta) }
        return state
    }

    func power(_ b: Double) -> Double { var v = 1.0; for _ in 0..<depth { v *= b }; return v }

    // ȧ = b^D β r,  ḃ = D a b^(D−1) β r,  β̇ = a b^D r, with r = z − a b^D β.
    func gradientStep(_ s: (a: Double, b: Double, beta: Double), z: Double, eta: Double) -> (a: Double, b: Double, beta: Double) {
        let bd = power(s.b), r = z - s.a * bd * s.beta
        let db = depth == 0 ? 0 : Double(depth) * s.a * bd / s.b * s.beta * r
        return (s.a + eta * bd * s.beta * r, s.b + eta * db, s.beta + eta * s.a * bd * r)
    }
}
