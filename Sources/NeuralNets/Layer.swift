import Linalg

/// Element-wise nonlinearities.
public enum Activation: Equatable, Sendable, CustomStringConvertible {
    case relu
    case leakyReLU(slope: Double)
    case tanh
    case sigmoid
    case gelu  // exact (erf) form, as PyTorch's default
    case identity

    public var description: String {
        switch self {
        case .relu: return "relu"
        case let .leakyReLU(s): return s == 0.01 ? "leakyrelu" : "leakyrelu\(s)"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        case .identity: return "linear"
        }
    }
}

/// One layer of a network, as plain configuration. Shapes are per sample (the batch axis is
/// implicit and leading); images are [H, W, C] (channels last), token sets are [N, D].
public indirect enum Layer: Equatable, Sendable {
    /// [..., inputs] → [..., outputs]; acts on the last axis, so it also maps every token.
    case dense(inputs: Int, outputs: Int, bias: Bool)
    case activation(Activation)
    /// [H, W, Cin] → [Ho, Wo, Cout], weights [Cout, k, k, Cin].
    case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    /// [d] → [d − k + 1, channels]: every window of k inputs mapped to `channels` values, by the
    /// same kernels at every position (`shared`: a 1-D convolution) or by its own (locally connected).
    case patches1d(inputs: Int, kernel: Int, channels: Int, shared: Bool, bias: Bool)
    /// [H, W, Cin] → [H−k+1, W−k+1, Cout]: a stride-1 convolution without weight sharing (each
    /// output position has its own k×k×Cin kernels), weights [Ho, Wo, Cout, k, k, Cin].
    case locallyConnected2d(inChannels: Int, outChannels: Int, kernel: Int, bias: Bool)
    /// [H, W, C] → [(H−k)/s+1, (W−k)/s+1, C]
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    /// any → [product]
    case flatten
    /// Normalizes the last axis; learned scale and shift.
    case layerNorm(features: Int)
    /// Zeroes each entry with probability `rate` during training and rescales the rest.
    case dropout(rate: Double)
    /// [H, W, C] → [(H/p)·(W/p), dim]: non-overlapping p×p patches, each mapped by one dense map.
    case patchEmbedding(patch: Int, channels: Int, dim: Int)
    /// [N, D] + learned [N, D]
    case positionEmbedding(tokens: Int, dim: Int)
    /// Multi-head self-attention on [N, D] with qkv and output projections (with biases).
    case selfAttention(dim: Int, heads: Int)
    /// [N, D] → [D], the mean over tokens.
    case meanPoolTokens
    /// x + f(x) for the inner sequence f.
    case residual([Layer])
    /// f(x) + g(x): a residual connection whose shortcut g changes the shape as the branch f does
    /// (a ResNet block's strided 1×1 convolution and batch norm).
    case projectedResidual(branch: [Layer], shortcut: [Layer])
    /// Normalizes each feature of the last axis (a channel) over the batch and every other axis:
    /// batch statistics in training, running estimates in evaluation; learned scale and shift.
    case batchNorm(features: Int)
    /// [H, W, C] → [C], the mean over positions.
    case globalAvgPool
}

extension Layer {
    /// Parameters this layer owns (not counting residual children, which are counted separately).
    func ownParameterCount(input: [Int]) -> Int {
        switch self {
        case let .dense(i, o, b): return i * o + (b ? o : 0)
        case let .conv2d(ci, co, k, _, _, b): return co * k * k * ci + (b ? co : 0)
        case let .patches1d(d, k, c, shared, b):
            let g = Windows1d(inputs: d, kernel: k, channels: c, shared: shared)
            return g.weightCount + (b ? g.weightCount / k : 0)
        case let .locallyConnected2d(ci, co, k, b):
            guard input.count == 3, input[0] >= k, input[1] >= k else { return 0 }
            let g = Local2d(h: input[0], w: input[1], c: ci, kernel: k, channels: co)
            return g.weightCount + (b ? g.outputs : 0)
        case let .layerNorm(f), let .batchNorm(f): return 2 * f
        case let .patchEmbedding(p, c, d): return d * p * p * c + d
        case let .positionEmbedding(n, d): return n * d
        case let .selfAttention(d, _): return 3 * d * d + 3 * d + d * d + d
        default: return 0
        }
    }

    /// Output shape for an input shape, or a message saying why the shapes do not fit.
    func outputShape(input s: [Int]) -> Result<[Int], ShapeError> {
        func fail(_ m: String) -> Result<[Int], ShapeError> { .failure(ShapeError(message: m)) }
        switch self {
        case let .dense(i, o, _):
            guard let last = s.last, last == i else { return fail("dense(\(i)→\(o)) got input shape \(s); its last axis must be \(i)") }
            return .success(s.dropLast() + [o])
        case .activation:
            return .success(s)
        case let .dropout(rate):
            guard rate >= 0, rate < 1 else { return fail("dropout rate must be in [0, 1), got \(rate)") }
            return .success(s)
        case let .conv2d(ci, co, k, st, p, _):
            guard s.count == 3, s[2] == ci else { return fail("conv2d(\(ci)→\(co)) needs an [H, W, \(ci)] input, got \(s)") }
            guard k >= 1, st >= 1, p >= 0 else { return fail("conv2d: kernel and stride must be ≥ 1 and padding ≥ 0") }
            let ho = (s[0] + 2 * p - k) / st + 1, wo = (s[1] + 2 * p - k) / st + 1
            guard s[0] + 2 * p >= k, s[1] + 2 * p >= k else { return fail("conv2d: kernel \(k) is larger than the padded input \(s[0])×\(s[1])") }
            return .success([ho, wo, co])
        case let .locallyConnected2d(ci, co, k, _):
            guard s.count == 3, s[2] == ci else { return fail("locally connected(\(ci)→\(co)) needs an [H, W, \(ci)] input, got \(s)") }
            guard k >= 1, co >= 1, s[0] >= k, s[1] >= k else { return fail("locally connected: kernel \(k) does not fit the input \(s[0])×\(s[1])") }
            return .success([s[0] - k + 1, s[1] - k + 1, co])
        case let .patches1d(d, k, c, _, _):
            guard s == [d] else { return fail("1-D windows over \(d) inputs got input shape \(s)") }
            guard k >= 1, k <= d, c >= 1 else { return fail("1-D windows: kernel \(k) must be in 1…\(d) and channels ≥ 1") }
            return .success([d - k + 1, c])
        case let .maxPool2d(k, st), let .avgPool2d(k, st):
            guard s.count == 3 else { return fail("pooling needs an [H, W, C] input, got \(s)") }
            guard k >= 1, st >= 1, s[0] >= k, s[1] >= k else { return fail("pool \(k) does not fit input \(s[0])×\(s[1])") }
            return .success([(s[0] - k) / st + 1, (s[1] - k) / st + 1, s[2]])
        case .flatten:
            return .success([s.reduce(1, *)])
        case let .layerNorm(f):
            guard s.last == f else { return fail("layerNorm(\(f)) got input shape \(s)") }
            return .success(s)
        case let .batchNorm(f):
            guard s.last == f, f > 0 else { return fail("batchNorm(\(f)) got input shape \(s); its last axis must be \(f)") }
            return .success(s)
        case .globalAvgPool:
            guard s.count == 3 else { return fail("global average pooling needs an [H, W, C] input, got \(s)") }
            return .success([s[2]])
        case let .patchEmbedding(p, c, d):
            guard s.count == 3, s[2] == c, p >= 1, s[0] % p == 0, s[1] % p == 0 else {
                return fail("patch embedding \(p)×\(p) needs an [H, W, \(c)] input with H and W divisible by \(p), got \(s)")
            }
            return .success([(s[0] / p) * (s[1] / p), d])
        case let .positionEmbedding(n, d):
            guard s == [n, d] else { return fail("position embedding [\(n), \(d)] got input shape \(s)") }
            return .success(s)
        case let .selfAttention(d, h):
            guard s.count == 2, s[1] == d else { return fail("self-attention(dim \(d)) needs [N, \(d)] tokens, got \(s)") }
            guard h >= 1, d % h == 0 else { return fail("self-attention: dim \(d) is not divisible by \(h) heads") }
            return .success(s)
        case .meanPoolTokens:
            guard s.count == 2 else { return fail("mean pooling over tokens needs [N, D], got \(s)") }
            return .success([s[1]])
        case let .residual(inner):
            switch Layer.sequenceShape(inner, s) {
            case let .failure(e): return .failure(e)
            case let .success(cur):
                guard cur == s else { return fail("residual branch maps \(s) to \(cur); it must keep the shape") }
                return .success(s)
            }
        case let .projectedResidual(branch, shortcut):
            switch (Layer.sequenceShape(branch, s), Layer.sequenceShape(shortcut, s)) {
            case let (.failure(e), _), let (_, .failure(e)): return .failure(e)
            case let (.success(bo), .success(co)):
                guard bo == co else { return fail("a projected residual's branch gives \(bo) and its shortcut \(co); they must agree") }
                return .success(bo)
            }
        }
    }
}

extension Layer {
    /// The output shape of `layers` applied in turn to `s`.
    static func sequenceShape(_ layers: [Layer], _ s: [Int]) -> Result<[Int], ShapeError> {
        var cur = s
        for l in layers {
            switch l.outputShape(input: cur) {
            case let .success(o): cur = o
            case let .failure(e): return .failure(e)
            }
        }
        return .success(cur)
    }
}

public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

extension Layer: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .dense(i, o, b): return "dense \(i)→\(o)\(b ? "" : " nobias")"
        case let .activation(a): return "\(a)"
        case let .conv2d(ci, co, k, s, p, b): return "conv \(k)×\(k) \(ci)→\(co) s\(s) p\(p)\(b ? "" : " nobias")"
        case let .locallyConnected2d(ci, co, k, b): return "local \(k)×\(k) \(ci)→\(co)\(b ? "" : " nobias")"
        case let .patches1d(d, k, c, shared, b): return "\(shared ? "conv1d" : "local1d") k\(k) \(d)→\(d - k + 1)×\(c)\(b ? "" : " nobias")"
        case let .maxPool2d(k, s): return "maxpool \(k) s\(s)"
        case let .avgPool2d(k, s): return "avgpool \(k) s\(s)"
        case .flatten: return "flatten"
        case let .layerNorm(f): return "layernorm \(f)"
        case let .dropout(r): return "dropout \(r)"
        case let .patchEmbedding(p, c, d): return "patches \(p)×\(p)×\(c)→\(d)"
        case let .positionEmbedding(n, d): return "positions \(n)×\(d)"
        case let .selfAttention(d, h): return "attention d\(d) h\(h)"
        case .meanPoolTokens: return "mean over tokens"
        case let .residual(inner): return "residual(\(inner.count) layers)"
        case let .projectedResidual(b, c): return "residual(\(b.count) layers, shortcut \(c.count) layers)"
        case let .batchNorm(f): return "batchnorm \(f)"
        case .globalAvgPool: return "global average pool"
        }
    }
}
