import Linalg
import RealModule

/// How weights start. Biases start at zero except under `.torch` (PyTorch's uniform rule) and
/// `.gaussian` (every parameter, biases included, drawn with the given std — the recovery
/// experiments need all of θ small). Normalization scales start at 1 and shifts at 0;
/// position embeddings are N(0, 0.02²) (N(0, std²) under `.gaussian`).
public enum Initialization: Equatable, Sendable, CustomStringConvertible {
    /// N(0, 2/fan_in) — Kaiming normal for ReLU nets.
    case he
    /// U(±√(6/(fan_in+fan_out))) — Glorot uniform.
    case xavier
    /// PyTorch's default for Linear/Conv2d: U(±1/√fan_in) for weights and biases.
    case torch
    /// N(0, std²) for every weight and bias.
    case gaussian(std: Double)

    public var description: String {
        switch self {
        case .he: return "he"
        case .xavier: return "xavier"
        case .torch: return "torch"
        case let .gaussian(s): return "gaussian(\(s))"
        }
    }
}

extension Network {
    /// Draws every parameter from `rng`. Layers draw in node order from streams split by node
    /// id, so adding a layer at the end does not change the earlier layers' draws.
    public mutating func initialize(_ scheme: Initialization, rng: RNG) {
        var out = parameters
        forEachNode { n in
            var r = rng.split(UInt64(n.id))
            var o = n.paramOffset
            func weights(_ count: Int, fanIn: Int, fanOut: Int) {
                switch scheme {
                case .he:
                    let s = (2 / Double(fanIn)).squareRoot()
                    for i in 0..<count { out[o + i] = T(s * r.normal()) }
                case .xavier:
                    let a = (6 / Double(fanIn + fanOut)).squareRoot()
                    for i in 0..<count { out[o + i] = T(a * (2 * r.uniform() - 1)) }
                case .torch:
                    let a = 1 / Double(fanIn).squareRoot()
                    for i in 0..<count { out[o + i] = T(a * (2 * r.uniform() - 1)) }
                case let .gaussian(s):
                    for i in 0..<count { out[o + i] = T(s * r.normal()) }
                }
                o += count
            }
            func biases(_ count: Int, fanIn: Int) {
                switch scheme {
                case .he, .xavier:
                    for i in 0..<count { out[o + i] = 0 }
                case .torch:
                    let a = 1 / Double(fanIn).squareRoot()
                    for i in 0..<count { out[o + i] = T(a * (2 * r.uniform() - 1)) }
                case let .gaussian(s):
                    for i in 0..<count { out[o + i] = T(s * r.normal()) }
                }
                o += count
            }
            func constant(_ count: Int, _ v: T) { for i in 0..<count { out[o + i] = v }; o += count }
            switch n.layer {
            case let .dense(i, oc, b):
                weights(i * oc, fanIn: i, fanOut: oc); if b { biases(oc, fanIn: i) }
            case let .conv2d(ci, co, k, _, _, b):
                weights(co * k * k * ci, fanIn: k * k * ci, fanOut: k * k * co); if b { biases(co, fanIn: k * k * ci) }
            case let .locallyConnected2d(ci, co, k, b):
                let units = n.outShape.reduce(1, *)
                weights(units * k * k * ci, fanIn: k * k * ci, fanOut: k * k * co); if b { biases(units, fanIn: k * k * ci) }
            case let .patches1d(d, k, c, shared, b):
                let g = Windows1d(inputs: d, kernel: k, channels: c, shared: shared)
                weights(g.weightCount, fanIn: k, fanOut: c); if b { biases(g.weightCount / k, fanIn: k) }
            case let .layerNorm(f), let .batchNorm(f):
                constant(f, 1); constant(f, 0)
            case let .patchEmbedding(p, c, d):
                weights(d * p * p * c, fanIn: p * p * c, fanOut: d); biases(d, fanIn: p * p * c)
            case let .positionEmbedding(t, d):
                let s: Double
                if case let .gaussian(g) = scheme { s = g } else { s = 0.02 }
                for i in 0..<(t * d) { out[o + i] = T(s * r.normal()) }
            case let .selfAttention(d, _):
                weights(3 * d * d, fanIn: d, fanOut: d); biases(3 * d, fanIn: d)
                weights(d * d, fanIn: d, fanOut: d); biases(d, fanIn: d)
            default:
                break
            }
        }
        parameters = out
        resetState()
    }

    /// Running estimates back to their start: mean 0, variance 1 for every batch norm.
    public mutating func resetState() {
        forEachNode { n in
            guard case let .batchNorm(f) = n.layer else { return }
            for j in 0..<f { state[n.stateOffset + j] = 0; state[n.stateOffset + f + j] = 1 }
        }
    }
}
