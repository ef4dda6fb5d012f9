import Foundation

// A failed attempt can fail in two ways that the verdict alone does not tell apart: the network
// learned the samples as far as it could (a loss well below the labels' entropy, the capacity's
// limit), or it learned nothing about them — dead ReLUs or a transformer stuck at the uniform
// prediction after a too-large first step. The second is the optimizer's failure, and an EMC it
// ends says more about the learning rate than about the model, so the search reports it.

/// The entropy, in nats, of the empirical distribution of `labels`: the cross-entropy of the best
/// prediction that ignores the inputs (each class at its frequency). 0 for no labels.
public func labelEntropy(_ labels: some Collection<Int>) -> Double {
    guard !labels.isEmpty else { return 0 }
    var counts = [Int: Int]()
    for l in labels { counts[l, default: 0] += 1 }
    let n = Double(labels.count)
    return counts.values.reduce(0) { h, c in h - Double(c) / n * log(Double(c) / n) }
}

/// How close to the labels' entropy a failed attempt's training loss must end to count as
/// collapsed: within 2%. A net that learned a handful of samples is already further below.
public let collapseTolerance = 0.02

/// True when `r` converged without fitting (`no-fit`) having learned nothing beyond the class
/// frequencies: a cross-entropy training loss of at least (1 − `collapseTolerance`) times the
/// entropy of the labels it trained on (`labelEntropy`). An `undecided` attempt is not judged:
/// its loss was still falling. Labels that are all one class never collapse: nothing is left to
/// learn, and such an attempt fits.
public func failedByCollapse(_ r: FitResult, labelEntropy h: Double) -> Bool {
    r.verdict == .noFit && h > 0 && r.trainLoss >= (1 - collapseTolerance) * h
}
