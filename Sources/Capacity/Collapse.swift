import Datasets
import Foundation
import Linalg

// A failed attempt can fail in two ways that the verdict alone does not tell apart: the network
// learned the samples as far as it could (a loss well below the labels' entropy, the capacity's
// limit), or it learned nothing about them — dead ReLUs or a transformer stuck at the uniform
// prediction after a too-large first step, or saturated units still on the plateau at the start.
// The second is the optimization's failure, not the capacity's: such an attempt runs again under
// larger budgets up to the cap (the plateau may end), and an EMC it still ends is reported so.

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

extension FitProcedure {
    /// Whether `r`, an attempt on samples with these `labels`, failed by collapsing
    /// (`failedByCollapse`); only cross-entropy training is judged. The labels are gathered only
    /// for a cross-entropy `no-fit`: a search asks this of every decided attempt, most of them fits.
    public func collapsed(_ r: FitResult, labels: @autoclosure () -> [Int]) -> Bool {
        train.loss == .crossEntropy && r.verdict == .noFit && failedByCollapse(r, labelEntropy: labelEntropy(labels()))
    }

    /// Which decided results a search runs again under the next budget (`BudgetSchedule.resolve`):
    /// the collapsed ones. Learning nothing is also what the plateau at the start looks like — a
    /// sigmoid MLP three layers deep on 64 Fashion-MNIST images (7×7, lr 0.1) ends 1,000 steps at
    /// the labels' entropy with a gradient below the `no-fit` test's, and fits within 8,000 — so
    /// only the cap makes such a failure a verdict. Dead units collapse again under every budget,
    /// and the cap then decides. `labels(n)`: the labels of the attempt at size n.
    public func retried(labels: @escaping (Int) -> [Int]) -> (FitResult) -> Bool {
        { r in self.collapsed(r, labels: labels(r.n)) }
    }
}

/// The labels of a search's attempt at size n: the first n samples of its permutation `order`.
public func attemptLabels(_ data: LabeledData<Float>, order: [Int]) -> (Int) -> [Int] {
    { n in order.prefix(n).map { data.labels[$0] } }
}
