import Linalg
import NeuralNets

/// The closed forms of the model rank / optimistic sample size (llr.md, "Closed-form results").
public enum ClosedForm {
    /// Two-layer tanh without biases, target of minimal width k on d inputs: k(d + 1), whatever the student's width.
    public static func twoLayerTanh(width k: Int, inputs d: Int) -> Int { k * (d + 1) }
    /// The same with hidden biases: k(d + 2) (observed numerically in the paper), plus one for an output bias.
    public static func twoLayerTanhWithBias(width k: Int, inputs d: Int, outputBias: Bool) -> Int { k * (d + 2) + (outputBias ? 1 : 0) }
    /// Corollary 7, the rank at any point of a two-layer tanh net without biases: m_w + m_a·d.
    public static func corollary7(mw: Int, ma: Int, inputs d: Int) -> Int { mw + ma * d }
    /// Deep fully connected net without biases, target expressible at hidden widths k₁…k_{L−1}:
    /// at most the narrow net's parameter count d·k₁ + k₁·k₂ + … + k_{L−1}.
    public static func deepUpperBound(inputs d: Int, widths k: [Int]) -> Int {
        zip([d] + k, k + [1]).map { $0 * $1 }.reduce(0, +)
    }
    /// 2-D CNN on a d×d input, s×s kernels, stride 1, no bias, k kernels, weight sharing: k(s² + (d+1−s)²).
    public static func cnn2D(kernels k: Int, side d: Int, kernel s: Int) -> Int { k * (s * s + (d + 1 - s) * (d + 1 - s)) }
    /// The same without weight sharing (locally connected): k(s² + 1)(d+1−s)².
    public static func locallyConnected2D(kernels k: Int, side d: Int, kernel s: Int) -> Int { k * (s * s + 1) * (d + 1 - s) * (d + 1 - s) }
    /// A fully connected net computing the same function: k(d² + 1)(d+1−s)².
    public static func fullyConnected2D(kernels k: Int, side d: Int, kernel s: Int) -> Int { k * (d * d + 1) * (d + 1 - s) * (d + 1 - s) }
    /// Two-layer 1-D CNN (kernel over the inputs), predecessor paper's convention: k(d + 1).
    public static func cnn1D(kernels k: Int, inputs d: Int) -> Int { k * (d + 1) }
    /// Matrix factorization AB of a d×d target of rank r: 2rd − r².
    public static func matrixFactorization(side d: Int, rank r: Int) -> Int { 2 * r * d - r * r }
    /// A linear model with M independent basis functions: M.
    public static func linear(features m: Int) -> Int { m }
}

/// The theory's value for the rank at a point, where one applies.
public struct TheoryValue: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case exact, upperBound = "upper bound" }
    public var value: Int
    public var kind: Kind
    public var formula: String
}

/// The closed-form rank for this model at this point, or nil when no closed form applies (for
/// example ReLU, which is not analytic, or deep nets at split-embedded points).
public func theoreticalRank(_ model: RecoveryModel, _ kind: TargetKind, theta: [Double]) -> TheoryValue? {
    switch model {
    case let .matrixFactorization(d, m):
        let r: Int
        if case let .teacher(w, _) = kind { r = w[0] } else { r = min(m, d) }
        return TheoryValue(value: ClosedForm.matrixFactorization(side: d, rank: r), kind: .exact, formula: "2rd − r² (r = \(r), d = \(d))")
    case let .linear(_, features):
        return TheoryValue(value: ClosedForm.linear(features: features), kind: .exact, formula: "M (independent basis functions)")
    case let .network(net):
        if case let .teacher(w, .null) = kind, w.count == 1, let (_, d, size, shared) = twoLayerCNN(net) {
            let k = w[0]
            return shared
                ? TheoryValue(value: ClosedForm.cnn2D(kernels: k, side: d, kernel: size), kind: .exact,
                              formula: "k(s² + (d+1−s)²) (CNN teacher of k = \(k) kernels, null-embedded; d = \(d), s = \(size))")
                : TheoryValue(value: ClosedForm.locallyConnected2D(kernels: k, side: d, kernel: size), kind: .exact,
                              formula: "k(s² + 1)(d+1−s)² (locally connected teacher, k = \(k), null-embedded; d = \(d), s = \(size))")
        }
        if kind == .random, let (k, d, size, shared) = twoLayerCNN(net) {
            if shared {
                return TheoryValue(value: ClosedForm.cnn2D(kernels: k, side: d, kernel: size), kind: .exact,
                                   formula: "k(s² + (d+1−s)²) (two-layer CNN with weight sharing; k = \(k), d = \(d), s = \(size))")
            }
            return TheoryValue(value: ClosedForm.locallyConnected2D(kernels: k, side: d, kernel: size), kind: .exact,
                               formula: "k(s² + 1)(d+1−s)² (two-layer locally connected; k = \(k), d = \(d), s = \(size))")
        }
        guard let s = DenseStack(net), activation(net) == .tanh else { return nil }
        let d = s.dims[0], L = s.dims.count - 1
        if L == 2 && !s.bias {
            let (mw, ma) = corollary7Counts(theta, stack: s)
            return TheoryValue(value: ClosedForm.corollary7(mw: mw, ma: ma, inputs: d), kind: .exact,
                               formula: "m_w + m_a·d (Cor. 7; m_w = \(mw), m_a = \(ma), d = \(d))")
        }
        if L == 2, s.bias, case let .teacher(k, _) = kind {
            return TheoryValue(value: ClosedForm.twoLayerTanhWithBias(width: k[0], inputs: d, outputBias: true), kind: .exact,
                               formula: "k(d + 2) + 1 (hidden biases, one output bias; k = \(k[0]), d = \(d))")
        }
        if L == 2, s.bias, kind == .random {
            return TheoryValue(value: net.parameterCount, kind: .exact, formula: "M (a generic point of a two-layer tanh net)")
        }
        if !s.bias, case let .teacher(k, .null) = kind {
            return TheoryValue(value: ClosedForm.deepUpperBound(inputs: d, widths: k), kind: .upperBound,
                               formula: "d·k₁ + k₁·k₂ + … + k_{L−1} (the narrow net's parameters; k = \(k.map(String.init).joined(separator: "-")))")
        }
        return nil
    }
}

/// (kernels k, side d, kernel s, shared) of a two-layer tanh CNN without biases: one s×s
/// convolution (shared) or locally connected layer of a d×d×1 input (stride 1, no padding),
/// tanh, and a dense layer to one output.
func twoLayerCNN(_ net: Network<Double>) -> (Int, Int, Int, Bool)? {
    var layers = [Layer]()
    net.forEachNode { layers.append($0.layer) }
    guard layers.count == 4, net.inputShape.count == 3, net.inputShape[0] == net.inputShape[1], net.inputShape[2] == 1,
          case .activation(.tanh) = layers[1], case .flatten = layers[2], case .dense(_, 1, false) = layers[3] else { return nil }
    if case let .conv2d(1, k, s, 1, 0, false) = layers[0] { return (k, net.inputShape[0], s, true) }
    if case let .locallyConnected2d(1, k, s, false) = layers[0] { return (k, net.inputShape[0], s, false) }
    return nil
}

/// The single hidden activation of an MLP (nil when there are several kinds or none).
func activation(_ net: Network<Double>) -> Activation? {
    var seen = [Activation]()
    net.forEachNode { if case let .activation(a) = $0.layer, !seen.contains(a) { seen.append(a) } }
    return seen.count == 1 ? seen[0] : nil
}

/// Corollary 7's counts at a point of a two-layer net f = Σ aᵢ tanh(wᵢ·x): m_w, the distinct
/// nonzero wᵢ up to sign (tanh is odd); m_a, those of them carried by a neuron with aᵢ ≠ 0, plus
/// one if some neuron has wᵢ = 0 and aᵢ ≠ 0 (its ∂f/∂wᵢ = aᵢ·x adds the linear functions).
func corollary7Counts(_ theta: [Double], stack s: DenseStack) -> (mw: Int, ma: Int) {
    let d = s.dims[0], m = s.dims[1]
    let w = (0..<m).map { Array(theta[s.weightOffsets[0] + $0 * d ..< s.weightOffsets[0] + ($0 + 1) * d]) }
    let a = (0..<m).map { theta[s.weightOffsets[1] + $0] }
    func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    func same(_ u: [Double], _ v: [Double], _ sign: Double) -> Bool {
        let diff = zip(u, v).map { $0 - sign * $1 }
        return norm(diff) <= 1e-9 * max(norm(u), norm(v))
    }
    var groups = [(w: [Double], carried: Bool)]()
    var zeroCarried = false
    for i in 0..<m {
        if norm(w[i]) == 0 {
            if a[i] != 0 { zeroCarried = true }
            continue
        }
        if let g = groups.firstIndex(where: { same($0.w, w[i], 1) || same($0.w, w[i], -1) }) {
            groups[g].carried = groups[g].carried || a[i] != 0
        } else {
            groups.append((w[i], a[i] != 0))
        }
    }
    return (groups.count, groups.filter(\.carried).count + (zeroCarried ? 1 : 0))
}
