import Capacity
import Datasets
import Linalg
import NeuralNets
import Testing

/// A procedure whose loss becomes NaN or infinite fails at that size with a `diverged` verdict,
/// decided at the step it diverged at: the search goes on and its EMC says it was ended so,
/// instead of the whole measurement ending in an error. A deep linear net under full-batch SGD
/// with momentum diverges at a learning rate its shallower counterpart survives.
@Suite struct DivergenceTests {
    let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 200, dim: 4, classes: 3, separation: 1.5, seed: 0)

    func procedure(lr: Double, steps: Int, cap: Int? = nil) -> FitProcedure {
        var p = FitProcedure(arch: "mlp:4-16-16-3:linear")
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = lr; p.train.batchSize = nil
        p.train.maxSteps = steps; p.train.schedule = .constant
        p.stepCap = cap
        return p
    }

    var plan: SearchPlan {
        var plan = SearchPlan(maximum: data.count)
        plan.start = 8
        return plan
    }

    /// The step reported is the one whose loss was not finite: a budget one step shorter ends
    /// before it, with a finite loss and an ordinary verdict.
    @Test func aDivergedAttemptSaysAtWhichStep() throws {
        let subset = try data.nestedSubset(16, seed: 0)
        let r = try attemptFit(subset, procedure: procedure(lr: 1, steps: 100), seed: 0)
        #expect(r.verdict == .diverged && r.trainLoss == .infinity && r.trainAccuracy == 0 && r.gradientNorm == .infinity, "\(r)")
        #expect(r.steps > 1 && r.steps < 100 && r.budget == 100 && r.n == 16, "\(r)")
        let before = try attemptFit(subset, procedure: procedure(lr: 1, steps: r.steps - 1), seed: 0)
        #expect(before.verdict != .diverged && before.trainLoss.isFinite && before.steps == r.steps - 1, "\(before)")
        let at = try attemptFit(subset, procedure: procedure(lr: 1, steps: r.steps), seed: 0)
        #expect(at.verdict == .diverged && at.steps == r.steps, "\(at)")
    }

    /// The search treats a divergence as a failure and goes on; each seed's EMC is the largest
    /// size that fit, and says it was ended by a divergence.
    @Test func aSearchEndedByADivergenceSaysSo() throws {
        let report = try measureEMC(data, procedure: procedure(lr: 1, steps: 100), seeds: [0, 1], plan: plan, workers: 1)
        for s in report.searches {
            let failure = try #require(s.attempts.first { $0.n == s.firstFailure })
            #expect(failure.verdict == .diverged && s.status == .diverged && s.text == "\(s.emc) (diverged)", "\(s.attempts)")
            #expect(s.emc >= 1 && s.attempts.filter { $0.verdict == .fit }.allSatisfy { $0.n <= s.emc })
            #expect(s.attempts.filter { $0.n > s.emc }.allSatisfy { $0.verdict != .fit })
        }
        #expect(report.diverged == 2 && report.isMeasured && report.status == "diverged" && report.undecided == 0)
        // The same search on two threads: the same attempts.
        let parallel = try measureEMC(data, procedure: procedure(lr: 1, steps: 100), seeds: [0, 1], plan: plan, workers: 2)
        #expect(parallel.searches.map { $0.attempts.map(\.verdict) } == report.searches.map { $0.attempts.map(\.verdict) })
        #expect(parallel.perSeed == report.perSeed)
    }

    /// An attempt undecided under its first budget that diverges under the next, going on from
    /// where the first stopped: the run from the start under that budget, step for step.
    @Test func aDivergenceUnderALargerBudgetIsTheLongerRuns() throws {
        let subset = try data.nestedSubset(16, seed: 0)
        let p = procedure(lr: 1, steps: 100)
        let direct = try attemptFit(subset, procedure: p, seed: 0)
        try #require(direct.verdict == .diverged && direct.steps > 2, "\(direct)")
        var state: AttemptState? = nil
        let first = try attemptFit(subset, procedure: p.withBudget(direct.steps / 2), seed: 0, continuing: &state)
        try #require(first.verdict == .undecided && state?.step == direct.steps / 2, "\(first)")
        var longer = try attemptFit(subset, procedure: p, seed: 0, continuing: &state)
        #expect(state == nil, "nothing to go on from after a divergence")
        longer.seconds = direct.seconds
        #expect(longer == direct)
    }

    /// A non-finite input is the data's fault, not the procedure's: refused before anything
    /// trains, naming the sample, rather than measured as attempts that diverge.
    @Test func nonFiniteInputsAreRefusedNotMeasured() throws {
        var broken = data
        broken.x.scalars[7 * 4 + 2] = .nan
        #expect {
            try measureEMC(broken, procedure: procedure(lr: 0.01, steps: 100), seeds: [0], plan: plan, workers: 1)
        } throws: { "\($0)".contains("sample 7 of the data has a non-finite input (nan)") }
    }
}
