import Adaptivity
import Foundation
import Linalg
import Testing

/// The diagonal adaptive kernel on samples: its basis, target, gradients and training, each
/// against something computed another way.
@Suite struct KernelTests {
    /// On a grid of N points per coordinate the trapezoid rule integrates trigonometric
    /// polynomials of degree below N exactly, so (1/N²)·EᵀE must be the identity (products reach
    /// frequency 2K = 6 < N = 8).
    @Test func theBasisIsOrthonormal() throws {
        let basis = try TorusBasis(dimension: 2, cutoff: 3)
        #expect(basis.count == 49)
        let N = 8
        var x = [Double]()
        for k in 0..<(N * N) {
            let u: Double = Double(k / N) / Double(N), v: Double = Double(k % N) / Double(N)
            x += [2 * u - 1, 2 * v - 1]
        }
        let e = basis.features(x, count: N * N), J = basis.count
        var worst = 0.0
        for i in 0..<J {
            for j in 0..<J {
                var s = 0.0
                for p in 0..<(N * N) { s += e[p * J + i] * e[p * J + j] }
                worst = max(worst, abs(s / Double(N * N) - (i == j ? 1 : 0)))
            }
        }
        #expect(worst < 1e-12, "largest departure from the identity \(worst)")
        // The half-space starts at m = (0, 0) (the constant), then (0, 1) as cosine and sine.
        #expect(basis.frequencies[0] == [0, 0] && basis.frequencies[1] == [0, 1] && basis.isSine[2])
        #expect(basis.eigenvalues(r: 1)[0] == 1 && basis.eigenvalues(r: 2)[1] == 0.25)
        #expect(throws: AdaptivityError.self) { try TorusBasis(dimension: 0, cutoff: 1) }
    }

    /// The basis is the half-space of the grid in lexicographic order (here enumerated by brute
    /// force); a limited order keeps exactly the frequencies with that few nonzero coordinates,
    /// as many as the count formula says, and stays orthonormal.
    @Test func aLimitedOrderIsTheGridsLowOrderPart() throws {
        let d = 4, K = 2
        var grid = [[Int]](), m = [Int](repeating: -K, count: d)
        repeat {
            if let first = m.first(where: { $0 != 0 }) { if first > 0 { grid += [m, m] } } else { grid.append(m) }
            var k = d - 1
            while k >= 0 && m[k] == K { m[k] = -K; k -= 1 }
            if k < 0 { break }
            m[k] += 1
        } while true
        let full = try TorusBasis(dimension: d, cutoff: K)
        #expect(full.frequencies == grid && full.count == 625 && TorusBasis.count(dimension: d, cutoff: K) == 625)
        for order in 1...3 {
            let b = try TorusBasis(dimension: d, cutoff: K, maxOrder: order)
            #expect(b.frequencies == grid.filter { $0.filter { $0 != 0 }.count <= order })
            #expect(Double(b.count) == TorusBasis.count(dimension: d, cutoff: K, maxOrder: order))
        }
        // Order 2 in 10 dimensions: 1 + 10·4 + 45·16 = 761 functions (the grid would have 5¹⁰).
        let wide = try TorusBasis(dimension: 10, cutoff: 2, maxOrder: 2)
        #expect(wide.count == 761)
        var g = RNG(seed: 4)
        let n = 20_000, x = (0..<(10 * n)).map { _ in 2 * g.uniform() - 1 }
        let e = wide.features(x, count: n), J = wide.count
        var worst = 0.0
        for a in stride(from: 0, to: J, by: 37) {
            for b in stride(from: a, to: J, by: 53) {
                let dot = (0..<n).reduce(0.0) { $0 + e[$1 * J + a] * e[$1 * J + b] } / Double(n)
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        #expect(worst < 0.06, "Monte Carlo inner products, largest departure \(worst)")
        #expect(throws: AdaptivityError.self) { try TorusBasis(dimension: 3, cutoff: 2, maxOrder: 4) }
        #expect(throws: AdaptivityError.self) { try TorusBasis(dimension: 12, cutoff: 8) }
    }

    /// sin(7.5πx₁)'s inner products with the basis, closed form against the midpoint rule on
    /// 200,000 points (error ~1e-9), and its norm ½.
    @Test func theSineTargetsCoefficients() throws {
        let basis = try TorusBasis(dimension: 2, cutoff: 9)
        let t = TorusTarget.sine(omega: 7.5, basis: basis)
        #expect(abs(t.normSquared - 0.5) < 1e-15)
        let N = 200_000
        for j in basis.frequencies.indices where basis.frequencies[j][1] == 0 && basis.frequencies[j][0] > 0 {
            var s = 0.0
            for k in 0..<N {
                let x = -1 + (2 * Double(k) + 1) / Double(N)
                s += Foundation.sin(7.5 * .pi * x) * basis.features([x, 0.3], count: 1)[j]
            }
            #expect(abs(s / Double(N) - t.coefficients[j]) < 1e-8, "m = \(basis.frequencies[j]), sine \(basis.isSine[j])")
        }
        #expect(t.coefficients.filter { $0 != 0 }.count == 9, "only the sines (m₁, 0), m₁ = 1…9")
        // Parseval: the truncated part of the norm is what the coefficients leave.
        let kept = t.coefficients.reduce(0) { $0 + $1 * $1 }
        #expect(kept < 0.5 && abs(t.error(of: t.coefficients) - (0.5 - kept)) < 1e-15 && t.truncationError == t.error(of: t.coefficients))
        // The jump where the torus closes: coefficients fall like 1/m₁, the truncation like
        // 1/cutoff — at cutoff 8, 0.0690056399875314 (the same sum evaluated in Python).
        #expect(abs(TorusTarget.sine(omega: 7.5, basis: try TorusBasis(dimension: 1, cutoff: 8)).truncationError - 0.0690056399875314) < 1e-12)
    }

    /// The closed-form gradient against central differences, at a random point, for D = 0, 1, 2.
    @Test(arguments: [0, 1, 2])
    func gradientsMatchFiniteDifferences(depth: Int) throws {
        var g = RNG(seed: UInt64(depth + 3))
        let n = 7, J = 5
        let e: [Double] = g.normals(n * J), y: [Double] = g.normals(n)
        var m = KernelModel(eigenvalues: (0..<J).map { 1 / Double($0 + 1) }, b0: 0.7, depth: depth)
        m.a = m.a.map { $0 + 0.3 * g.normal() }; m.b = m.b.map { $0 + 0.2 * g.normal() }; m.beta = g.normals(J)
        var scratch = [Double](repeating: 0, count: n + 2 * J), da = [Double](repeating: 0, count: J), db = da, dbeta = da
        _ = m.lossAndGradient(features: e, targets: y, scratch: &scratch, da: &da, db: &db, dbeta: &dbeta)
        func loss(_ m: KernelModel) -> Double {
            var s = scratch, x = da, z = da, w = da
            return m.lossAndGradient(features: e, targets: y, scratch: &s, da: &x, db: &z, dbeta: &w)
        }
        let h = 1e-6
        for j in 0..<J {
            for (which, analytic) in [(0, da[j]), (1, db[j]), (2, dbeta[j])] {
                var up = m, down = m
                switch which {
                case 0: up.a[j] += h; down.a[j] -= h
                case 1: up.b[j] += h; down.b[j] -= h
                default: up.beta[j] += h; down.beta[j] -= h
                }
                let numeric = (loss(up) - loss(down)) / (2 * h)
                #expect(abs(numeric - analytic) <= 1e-7 * max(1, abs(analytic)), "D = \(depth), j = \(j), param \(which): \(numeric) vs \(analytic)")
            }
        }
        if depth == 0 { #expect(db.allSatisfy { $0 == 0 }, "b does not enter at D = 0") }
    }

    /// Noise-free samples of a target inside the basis, more samples than functions: every
    /// method drives the exact error to zero, and the fixed kernel's first step is the one
    /// computed by hand (β = η·A·Eᵀy/n from β = 0, so w = η·λ ⊙ Eᵀy/n).
    @Test func trainingRecoversATargetInTheSpan() throws {
        let basis = try TorusBasis(dimension: 2, cutoff: 1)
        var c = [Double](repeating: 0, count: basis.count)
        c[1] = 0.8; c[4] = -0.5; c[7] = 0.3
        let target = TorusTarget.combination(c, basis: basis, name: "three functions")
        var g = RNG(seed: 11)
        let n = 60
        let x = (0..<(2 * n)).map { _ in 2 * g.uniform() - 1 }
        let y = (0..<n).map { target.evaluate(Array(x[(2 * $0)..<(2 * $0 + 2)])) }
        let e = basis.features(x, count: n), lambda = basis.eigenvalues(r: 1)
        let step = 0.5 * fixedKernelStepBound(features: e, count: n, eigenvalues: lambda)
        for m in [KernelMethod.fixed, .adaptive(depth: 0), .adaptive(depth: 1), .adaptive(depth: 2)] {
            let (curve, halvings) = try stableKernelErrorCurve(method: m, features: e, targets: y, eigenvalues: lambda, target: target,
                                                               b0: 0.5, step: step, times: [0, 40_000 * step])
            #expect(abs(curve[0] - target.normSquared) < 1e-15 && curve[1] < 1e-12, "\(m): \(curve) after \(halvings) halvings")
        }
        let one = try kernelErrorCurve(method: .fixed, features: e, targets: y, eigenvalues: lambda, target: target, b0: 1,
                                       step: step, times: [step])[0]
        let J = basis.count
        let w = (0..<J).map { j in step * lambda[j] * (0..<n).reduce(0) { $0 + e[$1 * J + j] * y[$1] } / Double(n) }
        #expect(abs(one - target.error(of: w)) < 1e-14)
        #expect(throws: AdaptivityError.self) {
            try kernelErrorCurve(method: .fixed, features: e, targets: y, eigenvalues: lambda, target: target, b0: 1, step: 50, times: [5000])
        }
    }

    /// The step bound is 2/(1.05·λ_max(H)) with λ_max = σ_max(E·A)²/n, here from a singular
    /// value decomposition; the fixed kernel is stable just below 2/λ_max and diverges above.
    @Test func theStepBoundIsTheLargestEigenvalues() throws {
        let basis = try TorusBasis(dimension: 2, cutoff: 4)
        let target = TorusTarget.sine(omega: 7.5, basis: basis)
        var g = RNG(seed: 8)
        let n = 90, J = basis.count
        let x = (0..<(2 * n)).map { _ in 2 * g.uniform() - 1 }
        let y = (0..<n).map { target.evaluate(Array(x[(2 * $0)..<(2 * $0 + 2)])) + 0.3 * g.normal() }
        let e = basis.features(x, count: n), lambda = basis.eigenvalues(r: 1)
        var ea = e
        for i in 0..<n { for j in 0..<J { ea[i * J + j] *= lambda[j].squareRoot() } }
        let top = try singularValues(Tensor(shape: [n, J], scalars: ea))[0]
        let exact = 2 / (top * top / Double(n))
        let bound = fixedKernelStepBound(features: e, count: n, eigenvalues: lambda)
        #expect(abs(bound * 1.05 - exact) < 1e-6 * exact, "\(bound * 1.05) vs \(exact)")
        // Just below the limit every step lowers the loss (a rise would throw); just above, it rises.
        let below = try kernelErrorCurve(method: .fixed, features: e, targets: y, eigenvalues: lambda, target: target, b0: 1,
                                         step: 0.98 * exact, times: [5000 * exact])
        #expect(below[0].isFinite)
        #expect(throws: AdaptivityError.self) {
            try kernelErrorCurve(method: .fixed, features: e, targets: y, eigenvalues: lambda, target: target, b0: 1,
                                 step: 1.1 * exact, times: [20_000 * exact])
        }
    }

    /// The rates experiment is deterministic, whatever the number of workers.
    @Test func ratesAreDeterministic() throws {
        var s = KernelSettings()
        s.cutoff = 3; s.sizes = [40, 80]; s.repetitions = 2; s.times = TimeGrid(from: 1, to: 100, perDecade: 4)
        let a = try measureKernelRates(s, workers: 1), b = try measureKernelRates(s, workers: 2)
        #expect(a.map(\.meanErrors) == b.map(\.meanErrors) && a.count == 4)
        #expect(a.allSatisfy { $0.meanErrors.allSatisfy { $0 > 0 && $0 < 1 } })
    }
}
