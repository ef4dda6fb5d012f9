import Linalg
import NeuralNets

/// How a narrow teacher's neurons are placed into a wider student without changing its function
/// (the Embedding Principle).
public enum Embedding: String, Sendable, CaseIterable {
    /// Extra neurons with all-zero input and output weights.
    case null
    /// Extra neurons copy a teacher neuron's input weights; the copies' output weights split the
    /// original's (fractions summing to one).
    case split
}

/// Which point θ* of the student the rank is taken at.
///
///     random                          a generic point: weights ~ N(0, 1/fan-in), biases ~ N(0, 1)
///     teacher:<k>[-<k₂>…][:null|:split]   a narrow teacher (hidden widths k…) embedded in the student
///     output-ineffective:<k>…         teacher plus extra neurons with input weights ≠ 0, output weights 0
///     input-ineffective:<k>…          teacher plus extra neurons with input weights 0, output weights ≠ 0
///
/// For matrix factorization `teacher:<r>` is a rank-r product A₁B₁ null-embedded in A = [A₁ 0], B = [B₁; 0];
/// for two-layer windows nets (conv1d, local1d, cnn with one such layer) `teacher:<k>` keeps k channels.
public enum TargetKind: Sendable, Equatable {
    case random
    case teacher(widths: [Int], embedding: Embedding)
    case outputIneffective(widths: [Int])
    case inputIneffective(widths: [Int])

    public static let examples = "random, teacher:3, teacher:3:split, teacher:4-3, output-ineffective:3, input-ineffective:3"

    public init(_ s: String) throws {
        let parts = s.split(separator: ":").map(String.init)
        func widths() throws -> [Int] {
            let w = parts.count > 1 ? parts[1].split(separator: "-").map { Int($0) } : []
            guard !w.isEmpty, w.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw RecoveryError("target '\(s)': give the teacher's hidden widths, e.g. \(parts[0]):3 or \(parts[0]):4-3")
            }
            return w.map { $0! }
        }
        switch parts.first ?? "" {
        case "random" where parts.count == 1: self = .random
        case "teacher":
            guard parts.count <= 3 else { throw RecoveryError("target '\(s)': expected teacher:<widths>[:null|:split]") }
            guard let e = parts.count == 3 ? Embedding(rawValue: parts[2]) : .null else {
                throw RecoveryError("target '\(s)': the embedding is null or split, e.g. teacher:3:split")
            }
            self = .teacher(widths: try widths(), embedding: e)
        case "output-ineffective" where parts.count == 2: self = .outputIneffective(widths: try widths())
        case "input-ineffective" where parts.count == 2: self = .inputIneffective(widths: try widths())
        default: throw RecoveryError("unknown target '\(s)'; use one of \(Self.examples)")
        }
    }

    /// The teacher's hidden widths, when the point is built from one.
    public var teacherWidths: [Int]? {
        switch self {
        case .random: return nil
        case let .teacher(w, _), let .outputIneffective(w), let .inputIneffective(w): return w
        }
    }
}

/// The layer sizes of an all-dense network: [d, m₁, …, m_{L−1}, 1], and whether it has biases.
struct DenseStack {
    var dims: [Int]
    var bias: Bool
    var weightOffsets: [Int]   // per layer l = 1…L, into θ
    var biasOffsets: [Int?]

    init?(_ net: Network<Double>) {
        let views = net.parameterViews
        let weights = views.filter { $0.name.hasSuffix("dense.weight") }
        var dense = 0
        var others = false
        net.forEachNode { n in
            switch n.layer {
            case .dense: dense += 1
            case .activation, .flatten: break
            default: others = true
            }
        }
        guard !others, dense == weights.count, let first = weights.first else { return nil }
        dims = [first.shape[1]] + weights.map { $0.shape[0] }
        weightOffsets = weights.map(\.range.lowerBound)
        biasOffsets = weights.map { w in views.first { $0.range.lowerBound == w.range.upperBound && $0.name.hasSuffix("dense.bias") }?.range.lowerBound }
        bias = biasOffsets.contains { $0 != nil }
    }
}

/// Builds the point θ* of `model` named by `kind`, from `seed`.
public func targetPoint(_ model: RecoveryModel, _ kind: TargetKind, seed: UInt64) throws -> [Double] {
    var rng = RNG(seed: seed).split(0x7A7)
    switch model {
    case let .network(net):
        guard let stack = DenseStack(net) else {
            if kind == .random { return randomPoint(net, rng: rng) }
            if case let .teacher(k, .null) = kind, let point = try channelTeacherPoint(net, channels: k, rng: rng) { return point }
            throw RecoveryError("teacher targets are built for MLPs, and null-embedded ones (teacher:<k>) for two-layer conv1d, local1d and cnn nets; use --target random for \(net.name.isEmpty ? "this model" : net.name)")
        }
        return try mlpPoint(stack, parameterCount: net.parameterCount, kind, rng: &rng)
    case let .matrixFactorization(d, m):
        let r: Int
        switch kind {
        case .random: r = m
        case let .teacher(w, .null) where w.count == 1:
            guard w[0] <= m else { throw RecoveryError("target rank \(w[0]) exceeds the inner size \(m)") }
            r = w[0]
        default: throw RecoveryError("matrix factorization takes --target random or teacher:<rank>")
        }
        // A = [A₁ 0] (d × m), B = [B₁; 0] (m × d), with A₁ d × r and B₁ r × d Gaussian.
        var theta = [Double](repeating: 0, count: 2 * d * m)
        for i in 0..<d { for k in 0..<r { theta[i * m + k] = rng.normal() } }
        for k in 0..<r { for j in 0..<d { theta[d * m + k * d + j] = rng.normal() } }
        return theta
    case let .linear(_, features):
        guard kind == .random else { throw RecoveryError("a linear model has no teacher: use --target random") }
        return rng.normals(features)
    }
}

/// Every weight ~ N(0, 1/fan-in), every bias ~ N(0, 1): a point with no special structure.
func randomPoint(_ net: Network<Double>, rng: RNG) -> [Double] {
    var theta = [Double](repeating: 0, count: net.parameterCount)
    var r = rng
    for v in net.parameterViews {
        let fanIn = v.shape.count > 1 ? v.shape.dropFirst().reduce(1, *) : 0
        let std = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 1
        for i in v.range { theta[i] = r.normal() * std }
    }
    return theta
}

func mlpPoint(_ s: DenseStack, parameterCount: Int, _ kind: TargetKind, rng: inout RNG) throws -> [Double] {
    let L = s.dims.count - 1
    let hidden = Array(s.dims[1..<L])
    var theta = [Double](repeating: 0, count: parameterCount)
    func set(_ l: Int, _ j: Int, _ jp: Int, _ v: Double) { theta[s.weightOffsets[l - 1] + j * s.dims[l - 1] + jp] = v }
    func setBias(_ l: Int, _ j: Int, _ v: Double) { if let o = s.biasOffsets[l - 1] { theta[o + j] = v } }

    guard let k = kind.teacherWidths else {
        for l in 1...L {
            for j in 0..<s.dims[l] {
                for jp in 0..<s.dims[l - 1] { set(l, j, jp, rng.normal() / Double(s.dims[l - 1]).squareRoot()) }
                setBias(l, j, rng.normal())
            }
        }
        return theta
    }
    guard k.count == hidden.count else {
        throw RecoveryError("the teacher has \(k.count) hidden layer(s), the student \(hidden.count): give \(hidden.count) width(s), e.g. teacher:\(hidden.map { _ in "2" }.joined(separator: "-"))")
    }
    for (kl, ml) in zip(k, hidden) where kl > ml {
        throw RecoveryError("teacher width \(kl) exceeds the student's \(ml)")
    }
    // The teacher: dims [d, k…, 1], weights ~ N(0, 1/fan-in), biases ~ N(0, 1).
    let tdims = [s.dims[0]] + k + [1]
    var tw = [[Double]](), tb = [[Double]]()
    for l in 1...L {
        tw.append((0..<tdims[l] * tdims[l - 1]).map { _ in rng.normal() / Double(tdims[l - 1]).squareRoot() })
        tb.append((0..<tdims[l]).map { _ in rng.normal() })
    }
    // Student neuron j of layer l stands for teacher neuron of(l, j) (nil: an extra neuron), and
    // carries the fraction share(l, j) of that neuron's outgoing weights.
    let splitting: Bool = { if case .teacher(_, .split) = kind { return true }; return false }()
    var shares = [[Double]](repeating: [], count: L + 1)
    shares[0] = [Double](repeating: 1, count: s.dims[0])
    shares[L] = [1]
    for l in 1..<L {
        if splitting {
            let u = (0..<s.dims[l]).map { _ in 0.2 + 0.8 * rng.uniform() }
            var total = [Double](repeating: 0, count: k[l - 1])
            for j in 0..<s.dims[l] { total[j % k[l - 1]] += u[j] }
            shares[l] = (0..<s.dims[l]).map { u[$0] / total[$0 % k[l - 1]] }
        } else {
            shares[l] = [Double](repeating: 1, count: s.dims[l])
        }
    }
    func of(_ l: Int, _ j: Int) -> Int? {
        if l == 0 || l == L { return j }
        return splitting ? j % k[l - 1] : (j < k[l - 1] ? j : nil)
    }
    for l in 1...L {
        for j in 0..<s.dims[l] {
            let t = of(l, j)
            for jp in 0..<s.dims[l - 1] {
                let tp = of(l - 1, jp)
                var v = 0.0
                if let t, let tp {
                    v = tw[l - 1][t * tdims[l - 1] + tp] * shares[l - 1][jp]
                } else {
                    switch kind {
                    case .outputIneffective:
                        // An extra neuron listens to everything; nothing listens to it.
                        if t == nil { v = rng.normal() / Double(s.dims[l - 1]).squareRoot() }
                    case .inputIneffective:
                        // An extra neuron hears nothing; it speaks to every neuron of the next layer.
                        if t != nil, tp == nil { v = rng.normal() / Double(s.dims[l - 1]).squareRoot() }
                    default: break
                    }
                }
                set(l, j, jp, v)
            }
            if let t { setBias(l, j, tb[l - 1][t]) } else if case .outputIneffective = kind { setBias(l, j, rng.normal()) }
        }
    }
    return theta
}

/// The channel layer of a two-layer "windows" net — conv1d/local1d, or cnn with one convolution or
/// locally connected layer — followed by an activation, a flatten and a dense layer to one output.
struct ChannelNet {
    var channels: Int
    /// Views of the channel layer (weights, bias) and their channel axis.
    var first: [(view: ParameterView, axis: Int)]
    var dense: ParameterView

    init?(_ net: Network<Double>) {
        var layers = [Layer]()
        net.forEachNode { layers.append($0.layer) }
        guard layers.count == 4, case .activation = layers[1], case .flatten = layers[2], case .dense(_, 1, _) = layers[3] else { return nil }
        let views = net.parameterViews
        // Channel axis of each view: conv [co, k, k, ci] and shared windows [c, k] lead with it;
        // locally connected ones lead with their positions.
        switch layers[0] {
        case let .conv2d(_, co, _, 1, 0, _): channels = co; first = views.filter { $0.name.hasPrefix("0.conv") }.map { ($0, 0) }
        case let .patches1d(_, _, c, shared, _): channels = c; first = views.filter { $0.name.hasPrefix("0.windows") }.map { ($0, shared ? 0 : 1) }
        case let .locallyConnected2d(_, co, _, _): channels = co; first = views.filter { $0.name.hasPrefix("0.local") }.map { ($0, 2) }
        default: return nil
        }
        guard let d = views.first(where: { $0.name.hasSuffix("dense.weight") }) else { return nil }
        dense = d
    }
}

/// A narrow teacher of k channels null-embedded in a two-layer windows net: the first k
/// channels random (weights ~ N(0, 1/fan-in), biases ~ N(0, 1)), every other channel's
/// weights, bias and output weights zero.
func channelTeacherPoint(_ net: Network<Double>, channels k: [Int], rng: RNG) throws -> [Double]? {
    guard let c = ChannelNet(net) else { return nil }
    guard k.count == 1 else { throw RecoveryError("a two-layer windows net has one hidden layer: give one width, as teacher:2") }
    guard k[0] <= c.channels else { throw RecoveryError("teacher width \(k[0]) exceeds the student's \(c.channels) channels") }
    var theta = randomPoint(net, rng: rng)
    for (v, axis) in c.first {
        let inner = v.shape[(axis + 1)...].reduce(1, *)
        for i in 0..<v.range.count where (i / inner) % c.channels >= k[0] { theta[v.range.lowerBound + i] = 0 }
    }
    // The flattened input of the dense layer is channels-last: entry j belongs to channel j % C.
    for j in 0..<c.dense.range.count where j % c.channels >= k[0] { theta[c.dense.range.lowerBound + j] = 0 }
    if let bias = net.parameterViews.first(where: { $0.name.hasSuffix("dense.bias") }) { theta[bias.range.lowerBound] = 0 }
    return theta
}
