import Linalg

/// Where a training run stopped, to go on from there (`train(…, from:)`): the step, the
/// optimizer's state, the records so far and a subspace's coordinates. The network itself —
/// parameters and batch-norm running estimates — is the caller's, as the run left it.
///
/// Why: an attempt that ends undecided is run again under twice the budget. Where no step depends
/// on the budget — a constant schedule, say, but not cosine to 0 over it — the first budget's
/// steps are those of the second run's start, bit for bit (the batch order and dropout come from
/// the step's index, not from a stream), so going on costs the new steps only.
public struct TrainProgress<T: Scalar>: Sendable {
    public internal(set) var step: Int
    var optimizer: Optimizer<T>
    public internal(set) var history: [TrainRecord]
    var z: [T]
    var config: TrainConfig
    /// Only a run its budget stopped goes on: one that met its target stopped where the longer
    /// run stops too.
    public internal(set) var stoppedBy: StopReason
    /// Steps this run took itself: from where it went on from (or 0) to `step`.
    public internal(set) var stepsRun: Int

    /// Whether a run under `c` goes on exactly from this one: the same training in all but its
    /// budget, no smaller than this step, and no plateau rule (its window state is not kept).
    func continues(under c: TrainConfig) -> Bool {
        let a = config
        return stoppedBy == .budget && c.plateau == nil && a.plateau == nil && step <= c.maxSteps && c.loss == a.loss && c.optimizer == a.optimizer
            && c.learningRate == a.learningRate && c.schedule == a.schedule && c.batchSize == a.batchSize && c.seed == a.seed
            && c.targetAccuracy == a.targetAccuracy && c.targetLoss == a.targetLoss && c.evaluateEvery == a.evaluateEvery
    }
}
