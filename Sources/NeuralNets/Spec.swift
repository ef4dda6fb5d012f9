import Linalg

/// Model builders from compact spec strings.
///
///     mlp:<in>-<hidden>-…-<out>[:<act>][:nobias][:dropout<p>]
///         mlp:784-512-512-10:relu   mlp:5-20-1:tanh:nobias   mlp:64-32-10:relu:dropout0.1
///     cnn:<H>x<W>x<C>-<layer>-…-<classes>[:<act>][:nobias]
///         layers: c<out>[k<k>][s<stride>][p<pad>]  convolution + activation (k 3, stride 1, pad k/2)
///                 l<out>[k<k>]     locally connected (no weight sharing; stride 1, no padding) + activation
///                 m<k>[s<stride>]  max pool      a<k>[s<stride>]  average pool
///                 f<n>             dense + activation (flattens first)
///         cnn:28x28x1-c16-m2-c32-m2-10:relu
///     conv1d:<d>-k<s>-c<K>-<out>[:<act>][:nobias]    local1d:<d>-k<s>-c<K>-<out>[:<act>][:nobias]
///         two-layer nets over the length-s windows of a d-vector: K kernels shared by every window
///         (a 1-D convolution) or K of its own per window (locally connected), then dense to <out>.
///         conv1d:5-k3-c4-1:tanh:nooutbias
///     vit:<H>x<W>x<C>-p<patch>-d<dim>-b<blocks>-h<heads>-m<mlp>-<classes>[:<act>]
///         vit:28x28x1-p4-d64-b2-h4-m128-10   (pre-norm blocks, learned positions, mean pooling,
///         GELU in the MLP unless another activation is named)
///     resnet:<H>x<W>x<C>-w<width>-b<blocks>-s<stages>-<classes>[:<act>]
///         resnet:32x32x3-w16-b1-s3-10 (ResNet-8)   resnet:32x32x3-w16-b3-s3-10 (ResNet-20)
///         a 3×3 stem convolution to <width> channels, then <stages> stages of <blocks> basic
///         blocks (two 3×3 convolutions, batch norm after each), the width doubling and the image
///         halving (stride 2; a 1×1 strided convolution with batch norm on the shortcut) from the
///         second stage on; global average pooling and a dense layer. Convolutions without bias.
///
/// `bn` (cnn): batch norm after every convolution and dense hidden layer, before the
/// activation (those layers then have no bias, which the normalization would cancel).
/// Activations: relu, leakyrelu (slope 0.01) or leakyrelu<slope>, tanh, sigmoid, gelu, linear.
/// `nobias` drops every bias; `nooutbias` only the output layer's (hidden biases stay).
public enum ModelSpec {
    public static let examples = [
        "mlp": "mlp:784-512-512-10:relu",
        "cnn": "cnn:28x28x1-c16-m2-c32-m2-10:relu",
        "vit": "vit:28x28x1-p4-d64-b2-h4-m128-10",
        "conv1d": "conv1d:5-k3-c4-1:tanh",
        "local1d": "local1d:5-k3-c4-1:tanh",
        "resnet": "resnet:32x32x3-w16-b1-s3-10",
    ]

    /// Parses a spec into layers and the input shape it expects.
    public static func parse(_ spec: String) throws -> (layers: [Layer], inputShape: [Int]) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let family = parts[0].lowercased()
        let example = examples[family] ?? examples["mlp"]!
        func fail(_ problem: String) -> NetworkError { .invalidSpec(spec: spec, problem: problem, example: example) }
        guard let kind = examples[family] != nil ? family : nil else {
            throw fail("unknown family '\(parts[0])'; use mlp, cnn, vit, resnet, conv1d or local1d")
        }
        guard parts.count >= 2, !parts[1].isEmpty else { throw fail("missing the layer sizes after '\(kind):'") }
        var activation: Activation? = nil
        var bias = true, outputBias = true
        var dropout: Double? = nil
        var batchNorm = false
        for opt in parts.dropFirst(2) {
            let o = opt.lowercased()
            if o == "nobias" { bias = false }
            else if o == "bn" {
                guard kind == "cnn" else { throw fail("'bn' (batch norm) is an option of cnn specs; resnet specs always have it") }
                batchNorm = true
            }
            else if o == "nooutbias" { outputBias = false }
            else if o.hasPrefix("dropout") {
                guard let p = Double(o.dropFirst(7)), p >= 0, p < 1 else { throw fail("dropout needs a rate in [0, 1), as 'dropout0.1'") }
                dropout = p
            } else if let a = parseActivation(o) {
                guard activation == nil else { throw fail("two activations given") }
                activation = a
            } else {
                throw fail("unknown option '\(opt)' (expected an activation — relu, leakyrelu, tanh, sigmoid, gelu, linear — or nobias, nooutbias, dropout<p> or bn)")
            }
        }
        switch kind {
        case "mlp":
            let dims = try parts[1].split(separator: "-", omittingEmptySubsequences: false).map { s -> Int in
                guard let v = Int(s), v > 0 else { throw fail("'\(s)' is not a positive layer width") }
                return v
            }
            guard dims.count >= 2 else { throw fail("an MLP needs at least an input and an output size, as 784-10") }
            var layers = [Layer]()
            for i in 0..<(dims.count - 1) {
                layers.append(.dense(inputs: dims[i], outputs: dims[i + 1], bias: bias && (outputBias || i < dims.count - 2)))
                if i < dims.count - 2 {
                    layers.append(.activation(activation ?? .relu))
                    if let p = dropout, p > 0 { layers.append(.dropout(rate: p)) }
                }
            }
            return (layers, [dims[0]])
        case "cnn":
            var tokens = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let input = try parseImage(tokens.removeFirst(), fail)
            guard let last = tokens.popLast(), let classes = Int(last), classes > 0 else {
                throw fail("a CNN spec ends with the number of outputs, as …-10")
            }
            let act = activation ?? .relu
            var layers = [Layer]()
            var shape = input
            var flat = false
            func push(_ l: Layer) throws {
                switch l.outputShape(input: shape) {
                case let .success(s): shape = s; layers.append(l)
                case let .failure(e): throw fail(e.message)
                }
            }
            for t in tokens {
                guard let head = t.first else { throw fail("empty layer between dashes") }
                let nums = try parseLetters(String(t.dropFirst()), allowed: "ksp", fail)
                switch head {
                case "c":
                    guard !flat else { throw fail("convolution '\(t)' after a dense layer") }
                    guard let out = nums[""], out > 0 else { throw fail("'\(t)': a convolution needs its output channels, as c16") }
                    let k = nums["k"] ?? 3
                    try push(.conv2d(inChannels: shape[2], outChannels: out, kernel: k, stride: nums["s"] ?? 1, padding: nums["p"] ?? k / 2, bias: bias && !batchNorm))
                    if batchNorm { try push(.batchNorm(features: out)) }
                    try push(.activation(act))
                case "l":
                    guard !flat else { throw fail("locally connected layer '\(t)' after a dense layer") }
                    guard let out = nums[""], out > 0, nums["s"] == nil, nums["p"] == nil else {
                        throw fail("'\(t)': a locally connected layer is written l<out>[k<k>] (stride 1, no padding), as l4k3")
                    }
                    try push(.locallyConnected2d(inChannels: shape[2], outChannels: out, kernel: nums["k"] ?? 3, bias: bias))
                    try push(.activation(act))
                case "m", "a":
                    guard !flat else { throw fail("pooling '\(t)' after a dense layer") }
                    guard let k = nums[""], k > 0, nums["p"] == nil, nums["k"] == nil else { throw fail("'\(t)': pooling is written m<k>[s<stride>], as m2") }
                    try push(head == "m" ? .maxPool2d(kernel: k, stride: nums["s"] ?? k) : .avgPool2d(kernel: k, stride: nums["s"] ?? k))
                case "f":
                    guard let n = nums[""], n > 0, nums.count == 1 else { throw fail("'\(t)': a dense layer is written f<width>, as f128") }
                    if !flat { try push(.flatten); flat = true }
                    try push(.dense(inputs: shape[0], outputs: n, bias: bias && !batchNorm))
                    if batchNorm { try push(.batchNorm(features: n)) }
                    try push(.activation(act))
                    if let p = dropout, p > 0 { try push(.dropout(rate: p)) }
                default:
                    throw fail("unknown layer '\(t)' (c = convolution, l = locally connected, m = max pool, a = average pool, f = dense)")
                }
            }
            if !flat { try push(.flatten) }
            try push(.dense(inputs: shape[0], outputs: classes, bias: bias && outputBias))
            return (layers, input)
        case "conv1d", "local1d":
            let tokens = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard tokens.count == 4, let d = Int(tokens[0]), d > 0, tokens[1].hasPrefix("k"), let k = Int(tokens[1].dropFirst()),
                  tokens[2].hasPrefix("c"), let c = Int(tokens[2].dropFirst()), c > 0, let out = Int(tokens[3]), out > 0 else {
                throw fail("expected <inputs>-k<kernel>-c<channels>-<outputs>")
            }
            guard k >= 1, k <= d else { throw fail("kernel \(k) must be between 1 and the \(d) inputs") }
            var layers: [Layer] = [.patches1d(inputs: d, kernel: k, channels: c, shared: kind == "conv1d", bias: bias),
                                   .activation(activation ?? .relu)]
            if let p = dropout, p > 0 { layers.append(.dropout(rate: p)) }
            layers += [.flatten, .dense(inputs: (d - k + 1) * c, outputs: out, bias: bias && outputBias)]
            return (layers, [d])
        case "resnet":
            return try resnet(parts[1], activation: activation ?? .relu, bias: bias && outputBias, dropout: dropout, fail)
        default: // vit
            var tokens = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let input = try parseImage(tokens.removeFirst(), fail)
            guard let last = tokens.popLast(), let classes = Int(last), classes > 0 else {
                throw fail("a ViT spec ends with the number of outputs, as …-10")
            }
            var v = [Character: Int]()
            for t in tokens {
                guard let head = t.first, "pdbhm".contains(head), let n = Int(t.dropFirst()), n > 0 else {
                    throw fail("'\(t)' is not one of p<patch>, d<dim>, b<blocks>, h<heads>, m<mlp width>")
                }
                v[head] = n
            }
            for key in "pdbhm" where v[key] == nil {
                throw fail("missing '\(key)<n>' (need p<patch>, d<dim>, b<blocks>, h<heads>, m<mlp width>)")
            }
            let (p, d, blocks, heads, m) = (v["p"]!, v["d"]!, v["b"]!, v["h"]!, v["m"]!)
            guard input[0] % p == 0, input[1] % p == 0 else { throw fail("patch size \(p) does not divide the image \(input[0])×\(input[1])") }
            guard d % heads == 0 else { throw fail("width \(d) is not divisible by \(heads) heads") }
            let n = (input[0] / p) * (input[1] / p)
            var layers: [Layer] = [.patchEmbedding(patch: p, channels: input[2], dim: d), .positionEmbedding(tokens: n, dim: d)]
            for _ in 0..<blocks {
                layers.append(.residual([.layerNorm(features: d), .selfAttention(dim: d, heads: heads)]))
                var mlp: [Layer] = [.layerNorm(features: d), .dense(inputs: d, outputs: m, bias: true), .activation(activation ?? .gelu)]
                if let pr = dropout, pr > 0 { mlp.append(.dropout(rate: pr)) }
                mlp.append(.dense(inputs: m, outputs: d, bias: true))
                layers.append(.residual(mlp))
            }
            layers += [.layerNorm(features: d), .meanPoolTokens, .dense(inputs: d, outputs: classes, bias: true)]
            return (layers, input)
        }
    }

    static func parseActivation(_ s: String) -> Activation? {
        switch s {
        case "relu": return .relu
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "gelu": return .gelu
        case "linear", "identity": return .identity
        case "leakyrelu": return .leakyReLU(slope: 0.01)
        default:
            if s.hasPrefix("leakyrelu"), let v = Double(s.dropFirst(9)), v >= 0 { return .leakyReLU(slope: v) }
            return nil
        }
    }

    static func parseImage(_ s: String, _ fail: (String) -> NetworkError) throws -> [Int] {
        let d = s.lowercased().split(separator: "x", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard d.count == 3, d.allSatisfy({ $0 > 0 }) else { throw fail("'\(s)' is not an image shape HxWxC, as 28x28x1") }
        return d
    }

    /// "16k5s2" → ["": 16, "k": 5, "s": 2]
    static func parseLetters(_ s: String, allowed: String, _ fail: (String) -> NetworkError) throws -> [String: Int] {
        var out = [String: Int]()
        var key = ""
        var digits = ""
        func flush() throws {
            guard !digits.isEmpty, let v = Int(digits) else { throw fail("'\(s)': a number is missing after '\(key.isEmpty ? "the layer letter" : key)'") }
            guard out[key] == nil else { throw fail("'\(s)': '\(key)' given twice") }
            out[key] = v; digits = ""
        }
        for ch in s {
            if ch.isNumber { digits.append(ch) }
            else if allowed.contains(ch) { try flush(); key = String(ch) }
            else { throw fail("'\(s)': unexpected '\(ch)'") }
        }
        try flush()
        return out
    }
}

extension Network {
    /// Builds a network from a spec string. With `inputShape`, an MLP whose input width equals
    /// the product of that shape flattens it first (so `mlp:784-…` takes 28×28×1 images).
    public init(spec: String, inputShape: [Int]? = nil) throws {
        var (layers, shape) = try ModelSpec.parse(spec)
        if let given = inputShape, given != shape {
            if shape.count == 1, given.reduce(1, *) == shape[0] {
                layers.insert(.flatten, at: 0)
                shape = given
            } else {
                throw NetworkError.shapeMismatch("'\(spec)' takes inputs of shape \(shape), the data has shape \(given)")
            }
        }
        try self.init(layers: layers, inputShape: shape, name: spec)
    }

    /// Floating-point operations of one training step on `batch` samples, counting the
    /// matrix products only: 2·MAC forward, 2·MAC for the weight gradient and 2·MAC for the input
    /// gradient — except the lowest parameterized layer, whose input gradient is never needed.
    public func flopsPerStep(batch: Int) -> Int {
        productFlops(batch: batch).values.reduce(0) { $0 + $1.forward + $1.backward }
    }

    /// The same count node by node (id → forward, backward FLOPs), for the layers that make products.
    public func productFlops(batch: Int) -> [Int: (forward: Int, backward: Int)] {
        var counts = [Int: (forward: Int, backward: Int)]()
        var first = true
        forEachNode { n in
            var macs = 0
            var internalMacs = 0
            switch n.layer {
            case let .dense(i, o, _): macs = n.inSize / i * i * o
            case let .conv2d(ci, co, k, _, _, _): macs = n.outShape[0] * n.outShape[1] * co * k * k * ci
            case let .patches1d(d, k, c, _, _): macs = (d - k + 1) * c * k
            case let .locallyConnected2d(ci, co, k, _): macs = n.outShape[0] * n.outShape[1] * co * k * k * ci
            case let .patchEmbedding(p, c, d): macs = n.outShape[0] * d * p * p * c
            case let .selfAttention(d, _):
                let t = n.inShape[0]
                macs = t * 4 * d * d
                internalMacs = 2 * t * t * d
            default: break
            }
            guard macs + internalMacs > 0 else { return }
            counts[n.id] = (batch * 2 * (macs + internalMacs), batch * (4 * internalMacs + (first ? 2 : 4) * macs))
            first = false
        }
        return counts
    }
}
