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

/// Dormand–Prince 5(4): stages a, fifth-order weights b, error weights e (b − b̂), and the
/// continuous extension d (Hairer–Wanner's DOPRI5 dense output).
enum DP {
    static let a21 = 1.0 / 5
    static let a31 = 3.0 / 40, a32 = 9.0 / 40
    static let a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9
    static let a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729
    static let a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656
    static let b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84
    static let e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40
    static let d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799, d4 = -10690763975.0 / 1880347072
    static let d5 = 701980252875.0 / 199316789632, d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423

    /// The next step's factor from the error ratio: 0.9·ratio^(−1/5) within 0.2…5.
    @inline(__always)
    static func factor(_ ratio: Double) -> Double {
        if ratio <= 1.6e-4 { return 5 }      // 0.9·ratio^(−1/5) ≥ 5
        if ratio >= 5.9e3 { return 0.2 }     // ≤ 0.2
        return 0.9 * inverseFifthRoot(ratio)
    }

    /// x^(−1/5) to 0.1%, which is all a step-size heuristic needs; libm's pow was a tenth of the
    /// solver's time. A first guess from the exponent bits (x^p ≈ bits·p + (1 − p)·bits(1)),
    /// then two Newton steps on y^(−5) = x.
    @inline(__always)
    static func inverseFifthRoot(_ x: Double) -> Double {
        let one = Double(1).bitPattern
        let guess = Int64(bitPattern: one) - (Int64(bitPattern: x.bitPattern) - Int64(bitPattern: one)) / 5
        var y = Double(bitPattern: UInt64(bitPattern: guess))
        for _ in 0..<2 {
            let y2 = y * y
            y = y * (6 - x * y2 * y2 * y) / 5
        }
        return y
    }
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

    /// θ(t) at each of the sorted times (t ≥ 0), for the observation z: the closed form for
    /// D = 0, the integrated flow for D ≥ 1. Returns the number of solver steps (0 for D = 0).
    @discardableResult
    public func solve(z: Double, at times: [Double], tolerance: Double = 1e-10, into out: inout [Double]) -> Int {
        if depth == 0 {
            for k in times.indices { out[k] = depthZeroTheta(z: z, t: times[k]) }
            return 0
        }
        return integrate(z: z, at: times, tolerance: tolerance, into: &out)
    }

    /// D = 0 in closed form. θ̇ = √(λ² + 4θ²)(z − θ) separates: with c = λ/2 and R = √(z² + c²),
    /// t(θ) = (1/2R)·ln[(R√(θ² + c²) + zθ + c²)/(z − θ)] − (same at θ = 0), whose inverse is
    /// θ = z(1 − E)[(R + c) + (R − c)E] / [(R + c) − (R − c)E² + (2z²/c)E] with E = e^(−2Rt).
    /// Written in E ≤ 1 it neither overflows at late times nor cancels at early ones
    /// (θ ≈ λzt there, from 1 − E = −expm1(−2Rt)).
    @inlinable
    public func depthZeroTheta(z: Double, t: Double) -> Double {
        let zz = abs(z)
        guard zz > 0, t > 0 else { return 0 }
        let c = lambda / 2, R = (zz * zz + c * c).squareRoot()
        let x = 2 * R * t
        let e = Double.exp(-x), oneMinusE = -Double.expMinusOne(-x)
        let theta = zz * oneMinusE * ((R + c) + (R - c) * e) / ((R + c) - (R - c) * e * e + (2 * zz * zz / c) * e)
        return z < 0 ? -theta : theta
    }

    /// For D = 0: the time after which θ(t) = z to rounding, E·max(1, 2z²/(c(R + c))) < e^(−40).
    public func depthZeroSettleTime(z: Double) -> Double {
        let zz = abs(z), c = lambda / 2, R = (zz * zz + c * c).squareRoot()
        guard zz > 0 else { return 0 }
        return (40 + max(0, Double.log(2 * zz * zz / (c * (R + c))))) / (2 * R)
    }

    /// θ(t) by integrating the flow (any D). Odd in z, so the integration runs for |z| and the
    /// sign is put back. Returns the number of steps.
    @discardableResult
    public func integrate(z: Double, at times: [Double], tolerance: Double = 1e-10, into out: inout [Double]) -> Int {
        precondition(out.count == times.count)
        let sign: Double = z < 0 ? -1 : 1, zz = abs(z)
        guard zz > 0 else { for k in out.indices { out[k] = 0 }; return 0 }
        let a21 = DP.a21, a31 = DP.a31, a32 = DP.a32, a41 = DP.a41, a42 = DP.a42, a43 = DP.a43
        let a51 = DP.a51, a52 = DP.a52, a53 = DP.a53, a54 = DP.a54
        let a61 = DP.a61, a62 = DP.a62, a63 = DP.a63, a64 = DP.a64, a65 = DP.a65
        let b1 = DP.b1, b3 = DP.b3, b4 = DP.b4, b5 = DP.b5, b6 = DP.b6
        let e1 = DP.e1, e3 = DP.e3, e4 = DP.e4, e5 = DP.e5, e6 = DP.e6, e7 = DP.e7
        let d1 = DP.d1, d3 = DP.d3, d4 = DP.d4, d5 = DP.d5, d6 = DP.d6, d7 = DP.d7
        var t = 0.0, y = 0.0
        var k1 = rate(y, zz)
        // The fixed point: θ(β*) = |z|. Near it the solution is constant to machine precision.
        var next = 0
        while next < times.count && times[next] <= 0 { out[next] = 0; next += 1 }
        guard next < times.count else { return 0 }
        let end = times[times.count - 1]
        var h = firstStep(z: zz, end: end)
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
            h *= DP.factor(ratio)
        }
        return steps
    }

    /// A small fraction of the time the initial rate needs to move β appreciably.
    @inlinable
    func firstStep(z: Double, end: Double) -> Double {
        let f0 = phi(0)
        return max(1e-12, min(end, 1e-3 / max(f0 * z / max(z, 1e-300), f0 * f0, 1e-300)))
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
