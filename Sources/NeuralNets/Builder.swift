// Models in code: the layers a spec string names, composed in Swift with their sizes inferred
// from the input, for architectures a spec cannot say (a residual block of your own, a norm in
// another place, a different head). The result is the same `[Layer]` a spec parses to, so the
// network has the same flat parameter buffer, gradients and speed.
//
//     let net = try Network<Float>(input: [8, 8, 1], name: "my-cnn") {
//         Conv(8, kernel: 3, padding: 1); ReLU(); MaxPool(2)
//         Residual { Conv(8, kernel: 3, padding: 1); ReLU() }
//         Flatten(); Dense(10)
//     }

/// One piece of a model: given the shape it receives (per sample), the layers it stands for.
public protocol ModelPart: Sendable {
    func layers(input: [Int]) throws -> [Layer]
}

@resultBuilder
public enum ModelBuilder {
    public static func buildExpression(_ part: any ModelPart) -> [any ModelPart] { [part] }
    public static func buildBlock(_ parts: [any ModelPart]...) -> [any ModelPart] { parts.flatMap { $0 } }
    public static func buildOptional(_ parts: [any ModelPart]?) -> [any ModelPart] { parts ?? [] }
    public static func buildEither(first parts: [any ModelPart]) -> [any ModelPart] { parts }
    public static func buildEither(second parts: [any ModelPart]) -> [any ModelPart] { parts }
    public static func buildArray(_ parts: [[any ModelPart]]) -> [any ModelPart] { parts.flatMap { $0 } }
}

/// The layers of `parts` in order, each sized by the shape the previous ones leave.
public func buildLayers(input: [Int], _ parts: [any ModelPart]) throws -> [Layer] {
    var shape = input, out = [Layer]()
    for part in parts {
        for layer in try part.layers(input: shape) {
            switch layer.outputShape(input: shape) {
            case let .success(s): shape = s
            case let .failure(e): throw e
            }
            out.append(layer)
        }
    }
    return out
}

extension Network {
    /// A network from parts written in Swift (see `ModelBuilder`), for inputs of `input`'s shape
    /// per sample ([features], [H, W, C] images, [N, D] tokens). Parameters start at zero: call
    /// `initialize` next, as for a spec-built network.
    public init(input: [Int], name: String = "custom", @ModelBuilder _ parts: () -> [any ModelPart]) throws {
        try self.init(layers: try buildLayers(input: input, parts()), inputShape: input, name: name)
    }
}

/// The last axis of a shape (features of a vector, channels of an image, width of a token).
func lastAxis(_ s: [Int], _ what: String) throws -> Int {
    guard let v = s.last, v > 0 else { throw NetworkError.invalidArgument("\(what) needs a non-empty input shape, got \(s)") }
    return v
}

func image(_ s: [Int], _ what: String) throws -> (h: Int, w: Int, c: Int) {
    guard s.count == 3 else { throw NetworkError.invalidArgument("\(what) needs an image [H, W, C], got \(s) (flatten or reshape first)") }
    return (s[0], s[1], s[2])
}

/// A dense map of the last axis to `outputs` values.
public struct Dense: ModelPart {
    public var outputs: Int, bias: Bool
    public init(_ outputs: Int, bias: Bool = true) { self.outputs = outputs; self.bias = bias }
    public func layers(input: [Int]) throws -> [Layer] { [.dense(inputs: try lastAxis(input, "Dense"), outputs: outputs, bias: bias)] }
}

/// A 2-D convolution of an [H, W, C] image to `channels` channels.
public struct Conv: ModelPart {
    public var channels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool
    public init(_ channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        self.channels = channels; self.kernel = kernel; self.stride = stride; self.padding = padding; self.bias = bias
    }
    public func layers(input: [Int]) throws -> [Layer] {
        [.conv2d(inChannels: try image(input, "Conv").c, outChannels: channels, kernel: kernel, stride: stride, padding: padding, bias: bias)]
    }
}

/// A stride-1 locally connected layer: a convolution whose kernels differ at every position.
public struct LocallyConnected: ModelPart {
    public var channels: Int, kernel: Int, bias: Bool
    public init(_ channels: Int, kernel: Int, bias: Bool = true) { self.channels = channels; self.kernel = kernel; self.bias = bias }
    public func layers(input: [Int]) throws -> [Layer] {
        [.locallyConnected2d(inChannels: try image(input, "LocallyConnected").c, outChannels: channels, kernel: kernel, bias: bias)]
    }
}

public struct MaxPool: ModelPart {
    public var kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public func layers(input: [Int]) throws -> [Layer] { _ = try image(input, "MaxPool"); return [.maxPool2d(kernel: kernel, stride: stride)] }
}

public struct AvgPool: ModelPart {
    public var kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public func layers(input: [Int]) throws -> [Layer] { _ = try image(input, "AvgPool"); return [.avgPool2d(kernel: kernel, stride: stride)] }
}

/// [H, W, C] → [C], the mean over positions.
public struct GlobalAvgPool: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] { _ = try image(input, "GlobalAvgPool"); return [.globalAvgPool] }
}

public struct Flatten: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] { [.flatten] }
}

/// An element-wise nonlinearity.
public struct Act: ModelPart {
    public var activation: Activation
    public init(_ activation: Activation) { self.activation = activation }
    public func layers(input: [Int]) throws -> [Layer] { [.activation(activation)] }
}

public func ReLU() -> Act { Act(.relu) }
public func Tanh() -> Act { Act(.tanh) }
public func Sigmoid() -> Act { Act(.sigmoid) }
public func GELU() -> Act { Act(.gelu) }
public func LeakyReLU(_ slope: Double = 0.01) -> Act { Act(.leakyReLU(slope: slope)) }

/// Normalizes the last axis of each sample; learned scale and shift.
public struct LayerNorm: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] { [.layerNorm(features: try lastAxis(input, "LayerNorm"))] }
}

/// Normalizes each feature of the last axis over the batch (and positions); learned scale and shift.
public struct BatchNorm: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] { [.batchNorm(features: try lastAxis(input, "BatchNorm"))] }
}

public struct Dropout: ModelPart {
    public var rate: Double
    public init(_ rate: Double) { self.rate = rate }
    public func layers(input: [Int]) throws -> [Layer] { [.dropout(rate: rate)] }
}

/// x + f(x): the parts inside must give back the shape they receive.
public struct Residual: ModelPart {
    public var parts: [any ModelPart]
    public init(@ModelBuilder _ parts: () -> [any ModelPart]) { self.parts = parts() }
    public func layers(input: [Int]) throws -> [Layer] { [.residual(try buildLayers(input: input, parts))] }
}

/// f(x) + g(x): a residual block whose shortcut g changes the shape as the branch f does.
public struct ProjectedResidual: ModelPart {
    public var branch: [any ModelPart], shortcut: [any ModelPart]
    public init(@ModelBuilder branch: () -> [any ModelPart], @ModelBuilder shortcut: () -> [any ModelPart]) {
        self.branch = branch(); self.shortcut = shortcut()
    }
    public func layers(input: [Int]) throws -> [Layer] {
        [.projectedResidual(branch: try buildLayers(input: input, branch), shortcut: try buildLayers(input: input, shortcut))]
    }
}

/// [H, W, C] → [(H/p)·(W/p), dim] tokens, each p×p patch mapped by one dense map.
public struct PatchEmbedding: ModelPart {
    public var patch: Int, dim: Int
    public init(patch: Int, dim: Int) { self.patch = patch; self.dim = dim }
    public func layers(input: [Int]) throws -> [Layer] {
        [.patchEmbedding(patch: patch, channels: try image(input, "PatchEmbedding").c, dim: dim)]
    }
}

/// [N, D] + a learned [N, D].
public struct PositionEmbedding: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] {
        guard input.count == 2 else { throw NetworkError.invalidArgument("PositionEmbedding needs tokens [N, D], got \(input)") }
        return [.positionEmbedding(tokens: input[0], dim: input[1])]
    }
}

/// Multi-head self-attention on [N, D] tokens.
public struct SelfAttention: ModelPart {
    public var heads: Int
    public init(heads: Int) { self.heads = heads }
    public func layers(input: [Int]) throws -> [Layer] {
        guard input.count == 2 else { throw NetworkError.invalidArgument("SelfAttention needs tokens [N, D], got \(input)") }
        return [.selfAttention(dim: input[1], heads: heads)]
    }
}

/// [N, D] → [D], the mean over tokens.
public struct MeanPoolTokens: ModelPart {
    public init() {}
    public func layers(input: [Int]) throws -> [Layer] { [.meanPoolTokens] }
}

/// Layers written out by hand, for anything the parts above do not cover.
public struct Layers: ModelPart {
    public var layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public func layers(input: [Int]) throws -> [Layer] { layers }
}
