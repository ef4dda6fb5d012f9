import Foundation
import Linalg
import NeuralNets
import Testing

/// Forward passes against their definitions, written out naively in Double: pooling (with the
/// fused ReLU + max pool's C kernels), layer norm, GELU and self-attention, on every kernel path.
/// The finite-difference checks prove only that a backward pass matches its own forward pass;
/// these prove that the forward pass computes the layer (as `ConvReferenceTests` does for
/// convolutions).
@Suite struct LayerReferenceTests {
    static let paths: [KernelPath] = [.best, .portable, .reference]

    /// The network's output on x through `path` (Float), its parameters drawn from `seed` with
    /// standard deviation `std`; and those parameters.
    func output(_ layers: [Layer], shape: [Int], x: [Double], path: KernelPath, seed: UInt64, std: Double = 1) throws
        -> (y: [Double], params: [Double]) {
        var net = try Network<Float>(layers: layers, inputShape: shape)
        var r = RNG(seed: seed)
        let p: [Double] = r.normals(net.parameterCount).map { std * $0 }
        net.parameters = p.map { Float($0) }
        let ws = Workspace<Float>()
        ws.kernels = path
        let batch = x.count / net.inputSize
        let y = try net.predict(Tensor(shape: [batch] + shape, scalars: x.map { Float($0) }), ws: ws)
        return (y.scalars.map { Double($0) }, net.parameters.map { Double($0) })
    }

    /// Inputs as Float would hold them, a fifth of them exact zeros (ReLU's and max's ties).
    func inputs(_ n: Int, seed: UInt64) -> [Double] {
        var r = RNG(seed: seed)
        let z: [Double] = r.normals(n)
        return z.enumerated().map { $0.offset % 5 == 3 ? 0 : Double(Float($0.element)) }
    }

    // Channel counts a multiple of 8, of 4 only, and neither: the C kernel's three loops.
    @Test(arguments: [2, 4, 5, 8, 12])
    func poolingMatchesDefinition(channels c: Int) throws {
        let (h, w, batch) = (6, 8, 3)
        let x = inputs(batch * h * w * c, seed: UInt64(c))
        for (k, s) in [(2, 2), (3, 2), (3, 3)] {
            let (ho, wo) = ((h - k) / s + 1, (w - k) / s + 1)
            for (head, pool) in [([Layer.activation(.relu)], Layer.maxPool2d(kernel: k, stride: s)),
                                 ([], .maxPool2d(kernel: k, stride: s)), ([], .avgPool2d(kernel: k, stride: s))] {
                let relu = !head.isEmpty
                var ref = [Double]()
                for b in 0..<batch { for oh in 0..<ho { for ow in 0..<wo { for ch in 0..<c {
                    var window = [Double]()
                    for kh in 0..<k { for kw in 0..<k { window.append(x[((b * h + oh * s + kh) * w + ow * s + kw) * c + ch]) } }
                    if relu { window = window.map { max($0, 0) } }
                    if case .avgPool2d = pool { ref.append(window.reduce(0, +) / Double(k * k)) } else { ref.append(window.max()!) }
                }}}}
                for path in Self.paths {
                    let y = try output(head + [pool], shape: [h, w, c], x: x, path: path, seed: 1).y
                    #expect(y.count == ref.count)
                    // A max is one of its inputs, exactly; a mean rounds.
                    let worst = zip(y, ref).map { abs($0 - $1) }.max()!
                    if case .avgPool2d = pool { #expect(worst < 1e-6, "\(pool) \(path) c\(c)") }
                    else { #expect(worst == 0, "\(head) \(pool) \(path) c\(c)") }
                }
            }
        }
    }

    // Features a multiple of 8 take the C kernel; 4 and 12 the Swift loop.
    @Test(arguments: [4, 8, 12, 16])
    func layerNormMatchesDefinition(features f: Int) throws {
        let (tokens, batch) = (3, 2)
        let x = inputs(batch * tokens * f, seed: UInt64(f)).map { 2 * $0 + 0.5 }
        for path in Self.paths {
            let (y, p) = try output([.layerNorm(features: f)], shape: [tokens, f], x: x, path: path, seed: 3)
            let (gamma, beta) = (Array(p[0..<f]), Array(p[f..<(2 * f)]))
            for r in 0..<(batch * tokens) {
                let row = Array(x[(r * f)..<((r + 1) * f)])
                let mean = row.reduce(0, +) / Double(f)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(f)
                for i in 0..<f {
                    let ref = (row[i] - mean) / (variance + 1e-5).squareRoot() * gamma[i] + beta[i]
                    #expect(abs(y[r * f + i] - ref) < 1e-5, "f\(f) \(path) row \(r) feature \(i)")
                }
            }
        }
    }

    // GELU is the exact one, x·Φ(x) = x/2 · (1 + erf(x/√2)), not the tanh approximation (which
    // differs by up to ~5e-4 near |x| = 2, far outside the tolerance).
    @Test func geluMatchesDefinition() throws {
        let x = (0..<101).map { Double(Float(-8 + 0.16 * Double($0))) } + [1e-3, -1e-3, 20, -20]
        for path in Self.paths {
            let y = try output([.activation(.gelu)], shape: [x.count], x: x, path: path, seed: 0).y
            for (xi, yi) in zip(x, y) {
                let ref = xi / 2 * (1 + erf(xi / 2.0.squareRoot()))
                #expect(abs(yi - ref) <= 1e-6 * max(1, abs(ref)), "x = \(xi), \(path): \(yi) vs \(ref)")
            }
        }
    }

    // qkv = x·Wᵀ + b, split into q, k, v of d columns and each into heads of d/h; per head
    // softmax(q kᵀ/√(d/h))·v; the heads side by side, then ·Woᵀ + bo.
    @Test(arguments: [(4, 8, 2), (5, 12, 3), (16, 16, 4), (49, 16, 2)])
    func attentionMatchesDefinition(tokens n: Int, dim d: Int, heads: Int) throws {
        let batch = 2, dh = d / heads
        let x = inputs(batch * n * d, seed: UInt64(n * d))
        for path in Self.paths {
            // Weights of std 0.3: logits of std ~1, so that the softmax is not saturated and every
            // token matters.
            let (y, p) = try output([.selfAttention(dim: d, heads: heads)], shape: [n, d], x: x, path: path, seed: 5, std: 0.3)
            let (wqkv, bqkv) = (Array(p[0..<(3 * d * d)]), Array(p[(3 * d * d)..<(3 * d * d + 3 * d)]))
            let wo = Array(p[(3 * d * d + 3 * d)..<(4 * d * d + 3 * d)]), bo = Array(p[(4 * d * d + 3 * d)...])
            var worst = 0.0, scale = 0.0
            for b in 0..<batch {
                let xb = Array(x[(b * n * d)..<((b + 1) * n * d)])
                // qkv[t][j] = Σ_i x[t][i] · W[j][i] + b[j]
                let qkv = (0..<n).map { t in (0..<(3 * d)).map { j in
                    (0..<d).reduce(bqkv[j]) { $0 + xb[t * d + $1] * wqkv[j * d + $1] } } }
                var ctx = [[Double]](repeating: [Double](repeating: 0, count: d), count: n)
                for h in 0..<heads {
                    for t in 0..<n {
                        let logits = (0..<n).map { u in
                            (0..<dh).reduce(0.0) { $0 + qkv[t][h * dh + $1] * qkv[u][d + h * dh + $1] } / Double(dh).squareRoot() }
                        let top = logits.max()!
                        let e = logits.map { Foundation.exp($0 - top) }, total = e.reduce(0, +)
                        for j in 0..<dh { ctx[t][h * dh + j] = (0..<n).reduce(0.0) { $0 + e[$1] / total * qkv[$1][2 * d + h * dh + j] } }
                    }
                }
                for t in 0..<n { for j in 0..<d {
                    let ref = (0..<d).reduce(bo[j]) { $0 + ctx[t][$1] * wo[j * d + $1] }
                    worst = max(worst, abs(y[(b * n + t) * d + j] - ref)); scale = max(scale, abs(ref))
                }}
            }
            #expect(worst <= 2e-5 * max(scale, 1), "n\(n) d\(d) h\(heads) \(path): \(worst) of \(scale)")
        }
    }
}
