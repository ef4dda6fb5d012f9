import Linalg

/// A compiled layer: where its parameters live in the flat buffer and its per-sample shapes.
public struct Node: Sendable {
    public var id: Int
    public var layer: Layer
    public var inShape: [Int]
    public var outShape: [Int]
    public var paramOffset: Int
    public var paramCount: Int
    /// A residual connection's branch, then (projected) its shortcut's nodes: every node inside.
    public var children: [Node]
    /// A projected residual's two paths, apart (copies of `children`'s two parts, kept so that a
    /// pass does not build the arrays at every step).
    var branch: [Node] = [], shortcut: [Node] = []
    /// Where a batch norm's running estimates start in the network's `state`.
    public var stateOffset = 0

    var inSize: Int { inShape.reduce(1, *) }
    var outSize: Int { outShape.reduce(1, *) }
    var isLayerNorm: Bool { if case .layerNorm = layer { return true } else { return false } }
}

/// A named slice of the flat parameter buffer.
public struct ParameterView: Sendable, Equatable {
    public var name: String
    public var range: Range<Int>
    public var shape: [Int]
}

/// A network is a value: its layers, and one flat buffer of parameters (and one of gradients)
/// that every layer views by offset. Optimizers are flat loops over these buffers, and
/// "flatten θ" is `parameters` itself.
public struct Network<T: Scalar>: Sendable {
    public let layers: [Layer]
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let nodes: [Node]
    public let nodeCount: Int
    public var parameters: [T]
    public var gradients: [T]
    /// What the network keeps besides its parameters and does not train: each batch norm's
    /// running mean and variance (0 and 1 at the start), moved by every training pass.
    public var state: [T]
    /// A short description, e.g. the spec string it was built from.
    public var name: String

    public var parameterCount: Int { parameters.count }
    public var inputSize: Int { inputShape.reduce(1, *) }
    public var outputSize: Int { outputShape.reduce(1, *) }

    /// Builds the network with zero parameters; call `initialize` (or set `parameters`) next.
    public init(layers: [Layer], inputShape: [Int], name: String = "") throws {
        var next = 0, offset = 0, stateOffset = 0
        var initialState = [T]()
        func compile(_ ls: [Layer], _ input: [Int]) throws -> ([Node], [Int]) {
            var cur = input
            var out = [Node]()
            for l in ls {
                let shape: [Int]
                switch l.outputShape(input: cur) {
                case let .success(s): shape = s
                case let .failure(e): throw e
                }
                let id = next; next += 1
                let count = l.ownParameterCount(input: cur)
                var node = Node(id: id, layer: l, inShape: cur, outShape: shape,
                                paramOffset: offset, paramCount: count, children: [])
                offset += count
                switch l {
                case let .residual(inner):
                    node.children = try compile(inner, cur).0
                case let .projectedResidual(branch, shortcut):
                    node.branch = try compile(branch, cur).0
                    node.shortcut = try compile(shortcut, cur).0
                    node.children = node.branch + node.shortcut
                case let .batchNorm(f):
                    node.stateOffset = stateOffset
                    stateOffset += 2 * f
                    initialState += [T](repeating: 0, count: f) + [T](repeating: 1, count: f)
                default: break
                }
                out.append(node)
                cur = shape
            }
            return (out, cur)
        }
        guard inputShape.allSatisfy({ $0 > 0 }) else { throw ShapeError(message: "input shape \(inputShape) must have positive sizes") }
        let (nodes, outShape) = try compile(layers, inputShape)
        self.layers = layers
        self.inputShape = inputShape
        self.outputShape = outShape
        self.nodes = nodes
        self.nodeCount = next
        self.parameters = [T](repeating: 0, count: offset)
        self.gradients = [T](repeating: 0, count: offset)
        self.state = initialState
        self.name = name
    }

    /// Every parameter tensor with its name and place in the flat buffer.
    public var parameterViews: [ParameterView] {
        var views = [ParameterView]()
        func walk(_ ns: [Node], _ prefix: String) {
            for n in ns {
                let p = "\(prefix)\(n.id)."
                var o = n.paramOffset
                func add(_ name: String, _ shape: [Int]) {
                    let c = shape.reduce(1, *)
                    views.append(ParameterView(name: p + name, range: o ..< o + c, shape: shape)); o += c
                }
                switch n.layer {
                case let .dense(i, out, b): add("dense.weight", [out, i]); if b { add("dense.bias", [out]) }
                case let .conv2d(ci, co, k, _, _, b): add("conv.weight", [co, k, k, ci]); if b { add("conv.bias", [co]) }
                case let .locallyConnected2d(ci, co, k, b):
                    let lead = [n.outShape[0], n.outShape[1], co]
                    add("local.weight", lead + [k, k, ci]); if b { add("local.bias", lead) }
                case let .patches1d(d, k, c, shared, b):
                    let lead = shared ? [c] : [d - k + 1, c]
                    add("windows.weight", lead + [k]); if b { add("windows.bias", lead) }
                case let .layerNorm(f): add("norm.scale", [f]); add("norm.shift", [f])
                case let .batchNorm(f): add("batchnorm.scale", [f]); add("batchnorm.shift", [f])
                case let .patchEmbedding(pt, c, d): add("patch.weight", [d, pt * pt * c]); add("patch.bias", [d])
                case let .positionEmbedding(t, d): add("position", [t, d])
                case let .selfAttention(d, _):
                    add("attn.qkv.weight", [3 * d, d]); add("attn.qkv.bias", [3 * d])
                    add("attn.out.weight", [d, d]); add("attn.out.bias", [d])
                case .residual, .projectedResidual: walk(n.children, p)
                default: break
                }
            }
        }
        walk(nodes, "")
        return views
    }

    /// Visits every node, depth first, in forward order.
    public func forEachNode(_ body: (Node) -> Void) {
        func walk(_ ns: [Node]) { for n in ns { body(n); walk(n.children) } }
        walk(nodes)
    }
}
