import CKernels
import RealModule

/// Four coordinates integrated side by side, each with its own step size.
///
/// Why: one coordinate's Dormand–Prince step is a chain of six dependent evaluations of φ, each
/// waiting on two square roots, so a lone solve runs at the latency of that chain. Four
/// independent coordinates in the lanes of one SIMD vector fill the pipeline (and the vector
/// square root) with the same arithmetic, so every lane's result is the scalar solver's.
typealias Lanes = SIMD4<Double>

/// Σ_j (θ_j(t_k) − θ*_j)² at every sorted time t_k, for OpGD of depth D ≥ 1 with initial b0 on
/// the observations z: the same integration as `OpGDCoordinate.integrate`, four coordinates at
/// a time, the even coordinates' sum and the odd coordinates' computed apart and then added.
/// Why the two groups: CKernels runs them side by side, one AVX2 vector each, which hides the
/// latency of a step's chain of evaluations; this order is what gives Swift the same bits.
/// `native` runs CKernels' copy of the solver where the CPU has AVX2 (the same bits, 4× faster);
/// false, this one.
public func opgdErrorCurve(z: [Double], truth: [Double], eigenvalues: [Double], b0: Double, depth: Int,
                           times: [Double], tolerance: Double, native: Bool = true) -> [Double] {
    precondition(depth >= 1 && z.count == truth.count && z.count == eigenvalues.count && !times.isEmpty)
    if native {
        var curve = [Double](repeating: 0, count: times.count)
        let done = ck_opgd_error_curve(z, truth, eigenvalues, z.count, b0, Int32(depth), times, times.count, tolerance, &curve)
        precondition(done >= 0, "OpGD solver: no progress (D = \(depth))")
        if done == 1 { return curve }
    }
    func group(_ parity: Int) -> [Double] {
        let js = Array(stride(from: parity, to: z.count, by: 2))
        var solver = LaneSolver(z: js.map { z[$0] }, truth: js.map { truth[$0] }, eigenvalues: js.map { eigenvalues[$0] },
                                b0: b0, depth: depth, times: times, tolerance: tolerance)
        solver.run()
        return solver.curve
    }
    let even = group(0), odd = group(1)
    return zip(even, odd).map { $0 + $1 }
}

/// The state of four lanes; a struct with mutating methods rather than closures over locals,
/// which the compiler would box and check for exclusive access on every touch.
struct LaneSolver {
    let z: [Double], truth: [Double], eigenvalues: [Double], times: [Double]
    let b0: Double, b0sq: Double, dd: Double, depth: Int, tolerance: Double, end: Double, firstPositive: Int
    var curve: [Double]
    // Per lane: the coordinate (−1 when idle), its sign, the next output time and step count.
    var coordinate = SIMD4<Int>(repeating: -1), next = SIMD4<Int>(), steps = SIMD4<Int>()
    var sign = Lanes(repeating: 1), lambda = Lanes(repeating: 1), zz = Lanes(repeating: 1)
    var t = Lanes(), y = Lanes(), h = Lanes(repeating: 1), k1 = Lanes()
    var nextCoordinate = 0

    init(z: [Double], truth: [Double], eigenvalues: [Double], b0: Double, depth: Int, times: [Double], tolerance: Double) {
        self.z = z; self.truth = truth; self.eigenvalues = eigenvalues; self.times = times
        self.b0 = b0; b0sq = b0 * b0; dd = Double(depth); self.depth = depth; self.tolerance = tolerance
        end = times[times.count - 1]
        firstPositive = times.firstIndex { $0 > 0 } ?? times.count
        curve = [Double](repeating: 0, count: times.count)
    }

    @inline(__always) func rate(_ beta: Lanes) -> Lanes {
        let f = phi(beta)
        return f * (zz - f * beta)
    }

    @inline(__always) mutating func add(_ j: Int, theta: Double, from k0: Int, to k1: Int) {
        let d = theta - truth[j]
        for k in k0..<k1 { curve[k] += d * d }
    }

    /// Puts the next coordinate that needs integrating into the lane; false when none is left.
    mutating func load(_ l: Int) -> Bool {
        while nextCoordinate < z.count {
            let j = nextCoordinate
            nextCoordinate += 1
            add(j, theta: 0, from: 0, to: firstPositive)
            if z[j] == 0 || firstPositive == times.count {
                add(j, theta: 0, from: firstPositive, to: times.count)
                continue
            }
            let c = OpGDCoordinate(lambda: eigenvalues[j], b0: b0, depth: depth)
            coordinate[l] = j; sign[l] = z[j] < 0 ? -1 : 1; next[l] = firstPositive; steps[l] = 0
            lambda[l] = eigenvalues[j]; zz[l] = abs(z[j])
            t[l] = 0; y[l] = 0; k1[l] = c.phi(0) * abs(z[j])
            h[l] = c.firstStep(z: abs(z[j]), end: end)
            return true
        }
        coordinate[l] = -1
        lambda[l] = 1; zz[l] = 1; t[l] = 0; y[l] = 0; k1[l] = 0; h[l] = 1
        return false
    }

    mutating func run() {
        var active = 0
        for l in 0..<4 where load(l) { active += 1 }
        let endLanes = Lanes(repeating: end), tiny = Lanes(repeating: 1e-300), one = Lanes(repeating: 1)
        let infinity = Lanes(repeating: .infinity)
        // Whole-vector updates with masks: writing single lanes and then reading the vector back
        // stalls on store forwarding, which cost more than the arithmetic. Lanes are written one
        // by one only for output and when a coordinate finishes.
        while active > 0 {
            h = h.replacing(with: endLanes - t, where: t + h .> endLanes)
            let k2 = rate(y + h * DP.a21 * k1)
            let k3 = rate(y + h * (DP.a31 * k1 + DP.a32 * k2))
            let k4 = rate(y + h * (DP.a41 * k1 + DP.a42 * k2 + DP.a43 * k3))
            let k5 = rate(y + h * (DP.a51 * k1 + DP.a52 * k2 + DP.a53 * k3 + DP.a54 * k4))
            let k6 = rate(y + h * (DP.a61 * k1 + DP.a62 * k2 + DP.a63 * k3 + DP.a64 * k4 + DP.a65 * k5))
            let y1 = y + h * (DP.b1 * k1 + DP.b3 * k3 + DP.b4 * k4 + DP.b5 * k5 + DP.b6 * k6)
            let k7 = rate(y1)
            let err = h * (DP.e1 * k1 + DP.e3 * k3 + DP.e4 * k4 + DP.e5 * k5 + DP.e6 * k6 + DP.e7 * k7)
            let scale: Lanes = tolerance * pointwiseMax(pointwiseMax(magnitude(y), magnitude(y1)), tiny) + tiny
            let ratio: Lanes = magnitude(err) / scale
            let finite = (ratio .< infinity) .& (magnitude(y1) .< infinity)
            let small: SIMDMask<SIMD4<Int64>> = h .<= 1e-14 * pointwiseMax(t, one)
            let accept = finite .& ((ratio .<= one) .| small)
            let t1 = t + h
            let theta1 = phi(y1) * y1
            let converged = magnitude(zz - theta1) .<= 10 * tolerance * zz
            let idleScale: Lanes = tolerance * 1e-3 * pointwiseMax(magnitude(y1), tiny)
            let idle = magnitude(k7) * (endLanes - t1) .<= idleScale
            let r5 = h * (DP.d1 * k1 + DP.d3 * k3 + DP.d4 * k4 + DP.d5 * k5 + DP.d6 * k6 + DP.d7 * k7)
            let (t0, y0, h0, k10) = (t, y, h, k1)
            h = h * Lanes.factor(ratio).replacing(with: 0.2, where: .!finite)
            t = t.replacing(with: t1, where: accept)
            y = y.replacing(with: y1, where: accept)
            k1 = k1.replacing(with: k7, where: accept)
            steps &+= 1
            for l in 0..<4 where coordinate[l] >= 0 {
                precondition(steps[l] < 10_000_000, "OpGD solver: no progress (λ = \(lambda[l]), z = \(zz[l]), D = \(depth))")
                guard accept[l] else { continue }
                let j = coordinate[l], sl = sign[l]
                var k = next[l]
                if k < times.count && times[k] <= t1[l] {
                    let c = OpGDCoordinate(lambda: lambda[l], b0: b0, depth: depth)
                    let hl = h0[l], tl = t0[l], yl = y0[l], r5l = r5[l]
                    let r2 = y1[l] - yl, r3 = hl * k10[l] - r2, r4 = r2 - hl * k7[l] - r3
                    while k < times.count && times[k] <= t1[l] {
                        let s = (times[k] - tl) / hl, u = 1 - s
                        add(j, theta: sl * c.theta(yl + s * (r2 + u * (r3 + s * (r4 + u * r5l)))), from: k, to: k + 1)
                        k += 1
                    }
                    next[l] = k
                }
                // The same stop as the scalar solver: at the fixed point to 10× the tolerance, or
                // with nothing left to change by the end of the grid.
                if k == times.count || converged[l] || idle[l] {
                    add(j, theta: sl * (converged[l] ? zz[l] : theta1[l]), from: k, to: times.count)
                    if !load(l) { active -= 1 }
                }
            }
        }
    }

    @inline(__always) func magnitude(_ x: Lanes) -> Lanes { x.replacing(with: -x, where: x .< 0) }

    @inline(__always) func phi(_ beta: Lanes) -> Lanes {
        let a = (lambda + beta * beta).squareRoot()
        let b = (b0sq + dd * beta * beta).squareRoot()
        var bd = b
        for _ in 1..<depth { bd *= b }
        return a * bd
    }
}

extension SIMD4 where Scalar == Double {
    /// `DP.factor` lane by lane, with the same bit-pattern guess and Newton steps.
    @inline(__always)
    static func factor(_ ratio: Self) -> Self {
        let clamped = ratio.clamped(lowerBound: Self(repeating: 1.6e-4), upperBound: Self(repeating: 5.9e3))
        let one = Int64(bitPattern: Double(1).bitPattern)
        var bits = SIMD4<Int64>()
        for l in 0..<4 { bits[l] = Int64(bitPattern: clamped[l].bitPattern) }
        let guessBits = one &- (bits &- one) / 5
        var y = Self(Double(bitPattern: UInt64(bitPattern: guessBits[0])), Double(bitPattern: UInt64(bitPattern: guessBits[1])),
                     Double(bitPattern: UInt64(bitPattern: guessBits[2])), Double(bitPattern: UInt64(bitPattern: guessBits[3])))
        for _ in 0..<2 {
            let y2 = y * y
            y = y * (6 - clamped * y2 * y2 * y) / 5
        }
        return (0.9 * y).replacing(with: 5, where: ratio .<= 1.6e-4).replacing(with: 0.2, where: ratio .>= 5.9e3)
    }
}
