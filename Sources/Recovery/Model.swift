import Linalg
import NeuralNets
import RealModule

/// Something wrong with a recovery model, target or setting; the message says what and how to fix it.
public struct RecoveryError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A model with one output, f(x; θ), whose tangent features ∇θ f(x; θ) we can compute in Double.
///
///     mlp:<d>-<m₁>-…-1[:act][:nobias]   any NeuralNets model with one output (also cnn:, vit:, conv1d:, local1d:)
///     mf:<d>-<m>                         matrix factorization: f((i, j); A, B) = (AB)ᵢⱼ, A d×m, B m×d
///     linear:<d>-<M>                     f(x) = Σⱼ θⱼ φⱼ(x), fixed random features φⱼ = tanh(vⱼ·x + cⱼ)
public enum RecoveryModel: Sendable {
    case network(Network<Double>)
    case matrixFactorization(d: Int, inner: Int)
    case linear(dim: Int, features: Int)

    public static let examples = "mlp:5-20-1:tanh:nobias, mlp:2-20-20-1:tanh, mf:4-4, linear:3-50"

    public init(spec: String) throws {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        func sizes(_ s: String, _ count: Int, _ example: String) throws -> [Int] {
            let v = s.split(separator: "-").map { Int($0) }
            guard v.count == count, v.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw RecoveryError("'\(spec)': expected \(count) positive sizes separated by '-', e.g. \(example)")
            }
            return v.map { $0! }
        }
        switch parts.first {
        case "mlp", "cnn", "vit", "conv1d", "local1d":
            let net: Network<Double>
            do { net = try Network<Double>(spec: spec) } catch { throw RecoveryError("\(error)") }
            guard net.outputSize == 1 else {
                throw RecoveryError("'\(spec)': recovery needs a model with one output (end the spec with -1), e.g. mlp:5-20-1:tanh:nobias")
            }
            self = .network(net)
        case "mf":
            let v = try sizes(parts.count > 1 ? parts[1] : "", 2, "mf:4-4 (a 4×4 matrix as A·B with inner size 4)")
            self = .matrixFactorization(d: v[0], inner: v[1])
        case "linear":
            let v = try sizes(parts.count > 1 ? parts[1] : "", 2, "linear:3-50 (3 inputs, 50 fixed features)")
            self = .linear(dim: v[0], features: v[1])
        default:
            throw RecoveryError("'\(spec)': unknown model; use one of \(Self.examples)")
        }
    }

    public var parameterCount: Int {
        switch self {
        case let .network(n): return n.parameterCount
        case let .matrixFactorization(d, m): return 2 * d * m
        case let .linear(_, features): return features
        }
    }

    /// Width of one input row: d for MLPs and linear models, 2 (row, column) for matrix factorization.
    public var inputWidth: Int {
        switch self {
        case let .network(n): return n.inputSize
        case .matrixFactorization: return 2
        case let .linear(dim, _): return dim
        }
    }

    /// The largest number of distinct inputs (matrix factorization has d² entries; others: unbounded).
    public var inputLimit: Int? {
        if case let .matrixFactorization(d, _) = self { return d * d }
        return nil
    }

    /// N inputs: standard Gaussian rows, or for matrix factorization N distinct entries (i, j)
    /// in a random order (all d² of them when N = d²).
    public func sampleInputs(_ count: Int, rng: RNG) -> Tensor<Double> {
        var r = rng
        switch self {
        case let .matrixFactorization(d, _):
            let order = r.permutation(d * d).prefix(count)
            return Tensor(shape: [order.count, 2], scalars: order.flatMap { [Double($0 / d), Double($0 % d)] })
        case let .network(net):
            return Tensor(shape: [count] + net.inputShape, scalars: r.normals(count * inputWidth))
        case .linear:
            return Tensor(shape: [count, inputWidth], scalars: r.normals(count * inputWidth))
        }
    }

    /// The fixed random features of a linear model (the same for every θ: part of the model).
    func linearFeatures(dim: Int, features: Int) -> (v: [Double], c: [Double]) {
        var r = RNG(seed: 0x11_0EA8).split(UInt64(dim * 1_000_003 + features))
        return (r.normals(features * dim, std: 1 / Double(dim).squareRoot()), r.normals(features))
    }

    /// f(x_i; θ) for each input row.
    public func evaluate(_ theta: [Double], _ x: Tensor<Double>) throws -> [Double] {
        try check(theta, x)
        let n = x.shape[0]
        switch self {
        case var .network(net):
            net.parameters = theta
            return try net.predict(x).scalars
        case let .matrixFactorization(d, m):
            return (0..<n).map { i in
                let r = Int(x.scalars[2 * i]), c = Int(x.scalars[2 * i + 1])
                return (0..<m).reduce(0.0) { $0 + theta[r * m + $1] * theta[d * m + $1 * d + c] }
            }
        case let .linear(dim, features):
            let phi = linearTangent(x, dim: dim, features: features)
            return (0..<n).map { i in (0..<features).reduce(0.0) { $0 + theta[$1] * phi[i * features + $1] } }
        }
    }

    /// The empirical tangent matrix J[i, j] = ∂f(x_i; θ)/∂θ_j, n × M, in Double.
    public func tangent(_ theta: [Double], _ x: Tensor<Double>) throws -> Tensor<Double> {
        try check(theta, x)
        let n = x.shape[0], M = parameterCount
        switch self {
        case var .network(net):
            net.parameters = theta
            return try net.jacobian(x)
        case let .matrixFactorization(d, m):
            // ∂(AB)_rc/∂A_rk = B_kc,  ∂(AB)_rc/∂B_kc = A_rk
            var J = [Double](repeating: 0, count: n * M)
            for i in 0..<n {
                let r = Int(x.scalars[2 * i]), c = Int(x.scalars[2 * i + 1])
                for k in 0..<m {
                    J[i * M + r * m + k] = theta[d * m + k * d + c]
                    J[i * M + d * m + k * d + c] = theta[r * m + k]
                }
            }
            return Tensor(shape: [n, M], scalars: J)
        case let .linear(dim, features):
            return Tensor(shape: [n, M], scalars: linearTangent(x, dim: dim, features: features))
        }
    }

    func linearTangent(_ x: Tensor<Double>, dim: Int, features: Int) -> [Double] {
        let (v, c) = linearFeatures(dim: dim, features: features)
        let n = x.shape[0]
        var phi = [Double](repeating: 0, count: n * features)
        for i in 0..<n {
            for j in 0..<features {
                var s = c[j]
                for k in 0..<dim { s += v[j * dim + k] * x.scalars[i * dim + k] }
                phi[i * features + j] = Double.tanh(s)
            }
        }
        return phi
    }

    func check(_ theta: [Double], _ x: Tensor<Double>) throws {
        guard theta.count == parameterCount else {
            throw RecoveryError("θ has \(theta.count) entries; the model has \(parameterCount) parameters")
        }
        guard x.rank >= 2, x.shape.dropFirst().reduce(1, *) == inputWidth else {
            throw RecoveryError("inputs must be n × \(inputWidth), got \(x.shape)")
        }
        if case let .matrixFactorization(d, _) = self {
            for v in x.scalars where v < 0 || v >= Double(d) || v != v.rounded() {
                throw RecoveryError("matrix-factorization inputs are (row, column) indices in 0..<\(d), got \(v)")
            }
        }
    }
}
