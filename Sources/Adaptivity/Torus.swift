import Linalg
import RealModule

// The Fourier basis on the torus [−1, 1)^d (the paper's Section 5): the eigenbasis of a
// translation-invariant kernel, in which the diagonal adaptive kernel learns its eigenvalues.
// Real and orthonormal under the uniform measure: 1, and √2·cos(π⟨m, x⟩), √2·sin(π⟨m, x⟩) for
// each frequency m ≠ 0 of a half-space (m and −m give the same pair).

/// The real Fourier basis on [−1, 1)^d with frequencies |m_k| ≤ cutoff in every coordinate.
public struct TorusBasis: Sendable {
    public let dimension: Int
    public let cutoff: Int
    /// Per basis function: its frequency, and whether it is the sine (else the cosine or, for
    /// m = 0, the constant).
    public let frequencies: [[Int]]
    public let isSine: [Bool]

    /// At most this many nonzero coordinates in a frequency (d: every frequency of the grid).
    public let maxOrder: Int

    /// The frequencies m with |m_k| ≤ cutoff and at most `maxOrder` nonzero coordinates (all d by
    /// default), in lexicographic order. Limiting the order is what makes many inputs possible:
    /// the full grid has (2·cutoff + 1)^d functions, order 2 about 2d²·cutoff² (interactions of
    /// pairs of inputs, as in an ANOVA decomposition).
    public init(dimension d: Int, cutoff K: Int, maxOrder: Int? = nil) throws {
        let order = maxOrder ?? d
        guard d >= 1, K >= 0, order >= 1, order <= d else {
            throw AdaptivityError("a torus basis needs d ≥ 1, a cutoff ≥ 0 and an order from 1 to d (got d = \(d), cutoff \(K), order \(order))")
        }
        let total = Self.count(dimension: d, cutoff: K, maxOrder: order)
        guard total <= 1e6 else {
            throw AdaptivityError("cutoff \(K) in \(d) dimensions\(order < d ? " up to order \(order)" : "") gives \(Int(total)) basis functions, more than 10⁶: lower the cutoff\(order > 1 ? " or the order" : "")")
        }
        var freqs = [[Int]](), sine = [Bool]()
        var m = [Int](repeating: 0, count: d)
        // Depth-first over coordinates, values −K…K in order: the grid's lexicographic order with
        // frequencies of higher order skipped (not enumerated, so large d stays cheap).
        func visit(_ k: Int, _ nonzero: Int) {
            if k == d {
                // The half-space: the first nonzero coordinate positive; m = 0 once, as the constant.
                if let first = m.first(where: { $0 != 0 }) {
                    if first > 0 { freqs += [m, m]; sine += [false, true] }
                } else {
                    freqs.append(m); sine.append(false)
                }
                return
            }
            for v in -K...K {
                if v != 0 && nonzero == order { continue }
                m[k] = v
                visit(k + 1, nonzero + (v != 0 ? 1 : 0))
            }
            m[k] = 0
        }
        visit(0, 0)
        dimension = d; cutoff = K; self.maxOrder = order; frequencies = freqs; isSine = sine
    }

    public var count: Int { frequencies.count }

    /// How many functions such a basis has, without building it: Σ_{k ≤ order} C(d, k)·(2·cutoff)^k
    /// ((2·cutoff + 1)^d at full order).
    public static func count(dimension d: Int, cutoff K: Int, maxOrder: Int? = nil) -> Double {
        var total = 0.0, binomial = 1.0
        for k in 0...min(maxOrder ?? d, d) {
            if k > 0 { binomial = binomial * Double(d - k + 1) / Double(k) }
            total += binomial * Double.pow(Double(2 * K), Double(k))
        }
        return total
    }

    /// ‖m‖ of each basis function's frequency.
    public var frequencyNorms: [Double] { frequencies.map { m in Double(m.reduce(0) { $0 + $1 * $1 }).squareRoot() } }

    /// The fixed kernel's eigenvalues λ_m = (1 + ‖m‖²)^(−r).
    public func eigenvalues(r: Double) -> [Double] {
        frequencies.map { m in Double.pow(1 + Double(m.reduce(0) { $0 + $1 * $1 }), -r) }
    }

    /// The n × J feature matrix e_j(x_i), row-major, for n points of d coordinates (row-major).
    public func features(_ x: [Double], count n: Int) -> [Double] {
        precondition(x.count == n * dimension)
        let J = count, s2 = 2.0.squareRoot()
        var e = [Double](repeating: 0, count: n * J)
        for i in 0..<n {
            for j in 0..<J {
                let m = frequencies[j]
                if m.allSatisfy({ $0 == 0 }) { e[i * J + j] = 1; continue }
                var phase = 0.0
                for k in 0..<dimension { phase += Double(m[k]) * x[i * dimension + k] }
                e[i * J + j] = s2 * (isSine[j] ? Double.sin(.pi * phase) : Double.cos(.pi * phase))
            }
        }
        return e
    }
}

/// A target on the torus, known exactly: its values, its inner products with the basis and its
/// squared norm (all under the uniform measure), so a model's error ‖f − f*‖² is exact.
public struct TorusTarget: Sendable {
    public var name: String
    public var evaluate: @Sendable ([Double]) -> Double
    public var normSquared: Double
    /// ⟨f*, e_j⟩ for each basis function of `basis`.
    public var coefficients: [Double]

    /// f*(x) = sin(ωπx₁) (the paper's ω = 7.5). Only the sines of frequency (m₁, 0, …, 0) meet
    /// it: ⟨f*, √2 sin(πm₁x₁)⟩ = (√2/2)·[sin((ω − m₁)π)/((ω − m₁)π) − sin((ω + m₁)π)/((ω + m₁)π)];
    /// ‖f*‖² = ½ − sin(2ωπ)/(4ωπ).
    public static func sine(omega: Double, basis: TorusBasis) -> TorusTarget {
        let a = omega * .pi
        func sinc(_ u: Double) -> Double { u == 0 ? 1 : Double.sin(u) / u }
        let c = basis.frequencies.indices.map { j -> Double in
            let m = basis.frequencies[j]
            guard basis.isSine[j], m[0] > 0, m.dropFirst().allSatisfy({ $0 == 0 }) else { return 0 }
            let b = Double(m[0]) * .pi
            return 2.0.squareRoot() / 2 * (sinc(a - b) - sinc(a + b))
        }
        return TorusTarget(name: "sin(\(omega)πx₁)", evaluate: { x in Double.sin(a * x[0]) },
                           normSquared: 0.5 - Double.sin(2 * a) / (4 * a), coefficients: c)
    }

    /// f* = Σ_j c_j e_j, inside the basis.
    public static func combination(_ c: [Double], basis: TorusBasis, name: String) -> TorusTarget {
        TorusTarget(name: name, evaluate: { x in
            let e = basis.features(x, count: 1)
            return zip(c, e).reduce(0) { $0 + $1.0 * $1.1 }
        }, normSquared: c.reduce(0) { $0 + $1 * $1 }, coefficients: c)
    }

    /// What no f in the basis can remove: ‖f*‖² − Σ_j c_j², the part of f* outside it. For
    /// sin(7.5πx₁), which jumps where the torus closes, it falls only like 1/cutoff (0.069 at
    /// cutoff 8, 0.016 at 15), so rates are read on the error above it.
    public var truncationError: Double { max(0, normSquared - coefficients.reduce(0) { $0 + $1 * $1 }) }

    /// ‖f − f*‖² for f = Σ_j w_j e_j: ‖f*‖² − 2⟨w, c⟩ + ‖w‖² (the basis is orthonormal).
    public func error(of w: [Double]) -> Double {
        var cross = 0.0, norm = 0.0
        for j in w.indices { cross += w[j] * coefficients[j]; norm += w[j] * w[j] }
        return max(0, normSquared - 2 * cross + norm)
    }
}
