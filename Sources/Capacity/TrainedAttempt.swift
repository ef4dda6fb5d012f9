import Datasets
import Linalg
import NeuralNets

// The network a fit attempt ends with. Attempts keep their numbers, not their weights; training
// is deterministic for a seed, so training the attempt again gives the network it reported on.
// What the Lab measures on it (the tangent rank at the end of an EMC search) needs this.

/// The attempt at size n of `seed`'s search under `budget` steps (the first n samples of the
/// seed's permutation `order`), trained again: the network and the n samples it was fit on.
public func trainedNetwork(_ data: LabeledData<Float>, order: [Int], n: Int, procedure: FitProcedure, budget: Int,
                           seed: UInt64) throws -> (net: Network<Float>, samples: LabeledData<Float>) {
    guard n >= 1 && n <= order.count else { throw NetworkError.invalidArgument("an attempt of \(n) samples from \(order.count)") }
    let samples = data.subset(Array(order.prefix(n)))
    let (net, _, _) = try trainFresh(samples, procedure: procedure.withBudget(budget), seed: seed, ws: Workspace())
    return (net, samples)
}
