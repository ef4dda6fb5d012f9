import Linalg
import NeuralNets

// Neuron condensation (JMLR Fig. 4, issue #22 item 3): the mechanism the recovery papers offer
// for dropout's effect is that hidden neurons' input vectors (w_i, b_i) line up in a few
// directions, so the trained net behaves like a narrower one. Measured here as the pairwise
// |cosine| of those vectors, its histogram, and groups: each neuron, largest first, joins the
// first group whose leading (largest) neuron it meets at |cos| ≥ a threshold, else leads a new
// one. Leaders, not chains: with a 1-D input (w_i, b_i) lives in a plane, where 300 neurons
// spread over every direction would be one chain of near neighbours, yet not condensed at all.

public struct Condensation: Sendable, Codable, Equatable {
    /// Neurons whose input vector is not zero (the others are `silent` and in no pair).
    public var neurons: Int
    public var silent: Int
    /// Groups of neurons within |cos| ≥ `threshold` of their group's largest neuron (a lone
    /// neuron is a group of one).
    public var clusters: Int
    /// The fewest groups that hold 90% of the neurons' total norm ‖(w_i, b_i)‖: the directions
    /// that matter, apart from small neurons left near their initialization.
    public var majorClusters: Int
    public var threshold: Double
    /// Pairs per |cos| bin: bin k holds [k/B, (k+1)/B), the last also 1.
    public var histogram: [Int]
    /// Mean |cos| over the pairs (0 with fewer than two neurons).
    public var meanAbsCosine: Double
}

/// Condensation of `vectors` (one row per neuron).
public func condensation(vectors: [[Double]], threshold: Double = 0.99, bins: Int = 10) -> Condensation {
    precondition(bins >= 1 && threshold > 0 && threshold <= 1, "condensation: bins ≥ 1, threshold in (0, 1]")
    let norms = vectors.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    // Largest first (ties by index, so the grouping is deterministic).
    let live = vectors.indices.filter { norms[$0] > 0 }.sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
    func absCos(_ a: Int, _ b: Int) -> Double {
        var dot = 0.0
        for j in vectors[a].indices { dot += vectors[a][j] * vectors[b][j] }
        return min(1, abs(dot) / (norms[a] * norms[b]))
    }
    var histogram = [Int](repeating: 0, count: bins)
    var sum = 0.0, pairs = 0
    for a in live.indices {
        for b in (a + 1)..<live.count {
            let c = absCos(live[a], live[b])
            histogram[min(bins - 1, Int(c * Double(bins)))] += 1
            sum += c; pairs += 1
        }
    }
    var leaders = [Int](), mass = [Double]()
    for i in live {
        if let g = leaders.firstIndex(where: { absCos($0, i) >= threshold }) {
            mass[g] += norms[i]
        } else {
            leaders.append(i); mass.append(norms[i])
        }
    }
    let total = mass.reduce(0, +)
    var held = 0.0, major = 0
    for m in mass.sorted(by: >) where held < 0.9 * total { held += m; major += 1 }
    return Condensation(neurons: live.count, silent: vectors.count - live.count, clusters: leaders.count, majorClusters: major,
                        threshold: threshold, histogram: histogram, meanAbsCosine: pairs > 0 ? sum / Double(pairs) : 0)
}

/// Condensation of a network's first hidden layer: its neurons' input weights, with their bias
/// where the layer has one (a dense layer's (w_i, b_i)).
public func condensation(of net: Network<Double>, threshold: Double = 0.99, bins: Int = 10) throws -> Condensation {
    let views = net.parameterViews
    guard let w = views.first, w.name.hasSuffix("dense.weight"), w.shape.count == 2 else {
        throw RecoveryError("condensation reads a network whose first layer is dense (an mlp: spec)")
    }
    let bias = views.count > 1 && views[1].name.hasSuffix("dense.bias") && views[1].name.hasPrefix(w.name.dropLast(6)) ? views[1] : nil
    let (units, inputs) = (w.shape[0], w.shape[1])
    let vectors = (0..<units).map { i -> [Double] in
        var v = (0..<inputs).map { net.parameters[w.range.lowerBound + i * inputs + $0] }
        if let bias { v.append(net.parameters[bias.range.lowerBound + i]) }
        return v
    }
    return condensation(vectors: vectors, threshold: threshold, bins: bins)
}
