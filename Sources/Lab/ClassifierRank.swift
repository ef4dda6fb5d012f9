import Capacity
import Datasets
import Foundation
import Linalg
import NeuralNets
import Recovery

// The rank of the minimum an EMC search reaches (issue #22 item 4): the capacity instrument's
// fitted network seen through the recovery instrument's lens. A classifier has one output per
// class, so its tangent matrix is taken two ways — one logit's rows (∂f₀(x_i)/∂θ, as a recovery
// student's) and every class's rows stacked (∂f_k(x_i)/∂θ for all k) — on the samples it fit.

/// The tangent spectra of one seed's largest fitted attempt.
public struct ClassifierEndRank: Sendable {
    public var seed: UInt64
    /// The attempt measured: the largest n the search fitted, under the budget that decided it.
    public var n: Int
    public var budget: Int
    public var parameters: Int
    public var classes: Int
    /// Logit 0's tangent matrix on the first `logit.inputs` of the attempt's samples.
    public var logit: TangentSpectrum
    /// All classes' rows on the same samples: `inputs` · `classes` rows.
    public var stacked: TangentSpectrum
}

/// The spectra of a classifier's tangent matrices at its parameters, computed in Double (a Float
/// tangent would put its rounding floor at 1e-7·σ₁, above the thresholds the ranks are read at):
/// one logit's (output 0) and all outputs' stacked, on `x`'s rows.
public func classifierSpectra(_ net: Network<Float>, inputs x: Tensor<Float>) throws -> (logit: TangentSpectrum, stacked: TangentSpectrum) {
    var d = try Network<Double>(layers: net.layers, inputShape: net.inputShape)
    d.parameters = net.parameters.map(Double.init)
    d.state = net.state.map(Double.init)
    let xd = Tensor(shape: x.shape, scalars: x.scalars.map(Double.init))
    let k = x.shape[0], M = d.parameterCount, C = d.outputSize
    var stacked = [Double]()
    stacked.reserveCapacity(k * C * M)
    var first = [Double]()
    for c in 0..<C {
        let J = try d.jacobian(xd, output: c).scalars
        if c == 0 { first = J }
        stacked += J
    }
    return (try TangentSpectrum(tangent: &first, rows: k, cols: M), try TangentSpectrum(tangent: &stacked, rows: k * C, cols: M))
}

/// For each seed's search in `report`, its largest fitted attempt trained again and its tangent
/// spectra on the samples it fit (at most as many as keep the stacked matrix within
/// `maxEntries` Doubles; the first ones of the attempt's order). Seeds that fitted nothing are
/// left out. `data` is the data the searches ran on (under its condition).
public func endRanks(of report: EMCReport, data: LabeledData<Float>, procedure: FitProcedure,
                     maxEntries: Int = 40_000_000) throws -> [ClassifierEndRank] {
    try report.searches.compactMap { search -> ClassifierEndRank? in
        guard let fit = search.attempts.filter({ $0.verdict == .fit && $0.n == search.emc }).max(by: { $0.budget < $1.budget }) else { return nil }
        let (net, samples) = try trainedNetwork(data, order: data.sampleOrder(seed: search.seed), n: fit.n, procedure: procedure,
                                                budget: fit.budget, seed: search.seed)
        let M = net.parameterCount, C = net.outputSize
        let k = max(1, min(fit.n, maxEntries / max(1, C * M)))
        let x = Tensor(shape: [k] + samples.sampleShape, scalars: Array(samples.x.scalars[0..<(k * net.inputSize)]))
        let (logit, stacked) = try classifierSpectra(net, inputs: x)
        return ClassifierEndRank(seed: search.seed, n: fit.n, budget: fit.budget, parameters: M, classes: C, logit: logit, stacked: stacked)
    }
}
