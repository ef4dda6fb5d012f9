import Linalg
import NeuralNets

// Training a recovery student to convergence rather than to a step count (issue #22). A fixed
// step size cannot serve every row of a grid — 0.5 diverges for wide students, 0.1 stalls narrow
// ones (JMLR tunes it per setup in 0.05–0.5) — so full-batch GD here sets its own: each step
// that lowers the loss lengthens the next by `grow`; a step that raises it (or overflows) is
// undone and the step size cut by `shrink` (the "bold driver"). The loss then falls at every
// accepted step, and the step size hovers at the largest the landscape allows, growing through
// the flat start near a tiny initialization. Deterministic: no randomness beyond the init.

/// How a recovery run ended. The store keeps a run's numbers; the reason follows from them and
/// the procedure (`RecoveryProcedure.stop(of:)`).
public enum RecoveryStop: String, Sendable, CaseIterable {
    /// Train MSE at or below the procedure's target.
    case converged
    /// The loss stopped falling (gd-adaptive, or a method with `stopOnPlateau`): less than `plateauDecrease` relative over
    /// `plateauWindow` gradient evaluations; or the Gauss–Newton finish could lower it no further.
    case plateau
    /// The step budget ran out first.
    case cap
    /// The loss overflowed (fixed-step methods) or the step size fell below 1e-30.
    case diverged
}

extension RecoveryProcedure {
    /// Why `run` (trained under this procedure) stopped.
    public func stop(of run: RecoveryRun) -> RecoveryStop {
        if run.diverged { return .diverged }
        if run.trainMSE <= targetTrainMSE { return .converged }
        if run.steps >= steps { return .cap }
        return method == .gdAdaptive || stopOnPlateau ? .plateau : .converged
    }

    var plateauText: String { stopOnPlateau ? ", to train MSE ≤ \(targetTrainMSE) or a plateau (< \(plateauDecrease) over \(plateauWindow) steps)" : "" }

    /// The method in words, as the command prints it.
    public var methodDescription: String {
        switch method {
        case .gd: return "full-batch GD lr \(learningRate)" + plateauText
        case .sgd: return "SGD lr \(learningRate), batches of \(batchSize)" + plateauText
        case .adam: return "full-batch Adam lr \(learningRate)" + plateauText
        case .gdAdaptive:
            return "full-batch GD, adaptive step from \(learningRate)" + (finishBelow.map { ", Gauss–Newton from train MSE \($0)" } ?? "")
                + ", to train MSE ≤ \(targetTrainMSE) or a plateau (< \(plateauDecrease) over \(plateauWindow) steps)"
        }
    }
}

extension RecoveryResult {
    /// How row `i`'s runs ended: count per stop reason, in RecoveryStop's order, zeros left out.
    public func stops(row i: Int) -> [(RecoveryStop, Int)] {
        let runs = cells[i].flatMap(\.runs), p = rows[i].procedure
        return RecoveryStop.allCases.compactMap { s in
            let c = runs.filter { p.stop(of: $0) == s }.count
            return c > 0 ? (s, c) : nil
        }
    }
}

/// The adaptive-step state machine, apart from the network and its buffers: `accept` takes the
/// loss at the proposed point and says whether to keep it.
struct BoldDriver {
    var rate: Double
    let grow: Double, shrink: Double, maxRate: Double

    init(rate: Double, grow: Double = 1.1, shrink: Double = 0.5, maxRate: Double = 1e4) {
        self.rate = rate; self.grow = grow; self.shrink = shrink; self.maxRate = maxRate
    }

    /// After a step from a point of loss `current` to one of loss `proposed`: true to keep it
    /// (the next step longer), false to go back (the next step shorter).
    mutating func accept(current: Double, proposed: Double) -> Bool {
        if proposed.isFinite && proposed <= current {
            rate = min(rate * grow, maxRate)
            return true
        }
        rate *= shrink
        return false
    }
}

/// Trains `net` on (x, y) by full-batch GD with the bold driver until the train MSE reaches
/// p.targetTrainMSE, the loss plateaus, the step size collapses or p.steps gradient evaluations
/// are spent; with p.finishBelow, GD stops at that train MSE and `gaussNewtonFinish` goes on in
/// the budget left. Returns the evaluations made (rejected steps included) and whether it diverged.
func trainAdaptiveGD(_ net: inout Network<Double>, x: Tensor<Double>, y: Tensor<Double>,
                     procedure p: RecoveryProcedure) throws -> (steps: Int, diverged: Bool) {
    let count = net.parameterCount
    let ws = Workspace<Double>()
    var driver = BoldDriver(rate: p.learningRate)
    var previous = [Double](repeating: 0, count: count), gradient = [Double](repeating: 0, count: count)
    // The tensor form, not the pointer one: it is exported specialized for Double, so this loop
    // runs NeuralNets' Double code; through the pointer form, from this module, the pass ran
    // generic (through witness tables), 5× slower on a dense ×100 student. It evaluates without
    // dropout (which recoveryRun refuses for this method); no student has batch norm (those
    // specs take images, a recovery target vectors).
    let values = Supervision.values(y)
    func evaluate(_ net: inout Network<Double>) throws -> Double {
        try net.lossAndGradient(x, values, loss: .meanSquaredError, ws: ws).loss
    }
    var loss = try evaluate(&net)
    guard loss.isFinite else { return (1, true) }
    for i in 0..<count { gradient[i] = net.gradients[i] }
    var steps = 1
    var windowStart = loss, windowSteps = 0
    // Element-wise copies between the buffers (an array assignment would share storage and
    // copy it again, allocating, at the next write).
    let handOver = p.finishBelow ?? 0
    while steps < p.steps && loss > p.targetTrainMSE && loss > handOver {
        let r = driver.rate
        for i in 0..<count { previous[i] = net.parameters[i]; net.parameters[i] -= r * gradient[i] }
        let proposed = try evaluate(&net)
        steps += 1
        if driver.accept(current: loss, proposed: proposed) {
            loss = proposed
            for i in 0..<count { gradient[i] = net.gradients[i] }
        } else {
            for i in 0..<count { net.parameters[i] = previous[i] }
            if driver.rate < 1e-30 { return (steps, true) }
        }
        windowSteps += 1
        if windowSteps == p.plateauWindow {
            if loss > windowStart * (1 - p.plateauDecrease) { break }
            windowStart = loss
            windowSteps = 0
        }
    }
    if loss <= handOver && loss > p.targetTrainMSE && steps < p.steps {
        steps += try gaussNewtonFinish(&net, x: x, y: y, loss: loss, targetLoss: p.targetTrainMSE, budget: p.steps - steps).steps
    }
    return (steps, false)
}
