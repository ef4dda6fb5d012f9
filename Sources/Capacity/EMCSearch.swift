import Datasets
import Foundation
import Linalg
import NeuralNets

/// How the largest fittable n is searched for.
public struct SearchPlan: Sendable {
    /// First n tried.
    public var start: Int = 64
    /// Geometric growth while attempts fit.
    public var growth: Double = 2
    /// Bisection stops when (smallest failure − largest fit) ≤ precision · largest fit.
    public var precision: Double = 0.02
    /// The largest n available (the data set's size).
    public var maximum: Int

    public init(maximum: Int) { self.maximum = maximum }
}

/// One seed's search: every attempt made, and the bracket it ended with.
public struct EMCSearch: Sendable, Codable {
    public var seed: UInt64
    public var attempts: [FitResult]
    /// The largest n that fit (0 if none did).
    public var emc: Int
    /// The smallest n that did not fit, or nil when even the whole data set fit.
    public var firstFailure: Int?
    /// Attempts still undecided at the largest budget (out of steps while improving); they
    /// bound the search like failures but do not prove one, so they are reported.
    public var undecided: Int { attempts.filter { $0.verdict == .undecided }.count }
    /// The step budgets its attempts could run under; attempts decided only under a larger
    /// one than the first were escalated.
    public var budgets = BudgetSchedule(first: 1)
    public var escalated: Int { attempts.filter { $0.budget > budgets.first }.count }
    /// The smallest size that did not fit failed by collapsing (`failedByCollapse`) under every
    /// budget up to the cap: the network learned nothing beyond the class frequencies there, so
    /// the optimization's failure, not the model's capacity, ended this search (set by
    /// `measureEMC`, under cross-entropy only).
    public var collapsed = false
    /// Training runs behind the attempts: each budget up to the deciding one.
    public var runs: Int { attempts.map { r in budgets.budgets.filter { $0 <= r.budget }.count }.reduce(0, +) }

    /// What this EMC is: a measurement only when the smallest size that did not fit converged
    /// without fitting (`no-fit`); the procedure's own where it diverged there.
    public var status: EMCStatus {
        guard let hi = firstFailure else { return .censored }
        let failure = attempts.first { $0.n == hi }?.verdict
        return failure == .noFit ? .measured : failure == .diverged ? .diverged : .budgetBounded
    }

    /// The EMC as text that says what it is: "276", "≥ 1797" for a lower bound, "276 (diverged)".
    public var text: String {
        switch status {
        case .measured: return "\(emc)"
        case .diverged: return "\(emc) (diverged)"
        case .censored, .budgetBounded: return "≥ \(emc)"
        }
    }

    public init(seed: UInt64, attempts: [FitResult], emc: Int, firstFailure: Int?) {
        self.seed = seed; self.attempts = attempts; self.emc = emc; self.firstFailure = firstFailure
    }
}

/// What a seed's EMC is.
public enum EMCStatus: String, Sendable, Codable {
    /// Between a fit and a converged failure (`no-fit`) one step of precision apart.
    case measured
    /// Every size up to the whole data set fit: the EMC is at least the data set's size, a
    /// bound set by the data, not by the model.
    case censored
    /// The smallest size that did not fit ran out of budget while improving (`undecided`):
    /// the EMC is at least what fit, a bound set by the step budget.
    case budgetBounded = "budget-bounded"
    /// The smallest size that did not fit diverged (its loss became NaN or infinite): the EMC of
    /// the procedure as run — it fails there — but ended by the procedure's instability, not by
    /// a converged failure; a smaller learning rate may fit more.
    case diverged
}

/// One seed's search as a state machine: `next` names the size to try, `record` takes its
/// outcome. Bracket then bisect: grow n geometrically from `plan.start` while attempts fit
/// (shrinking by halves if the very first fails), then bisect between the largest fit and the
/// smallest failure to the plan's precision. The sequence of sizes depends only on the outcomes,
/// so a scheduler may interleave many searches' attempts without changing any answer.
public struct SearchState: Sendable {
    enum Phase: Sendable { case grow(Int), shrink(Int), bisect }
    public let plan: SearchPlan
    public let seed: UInt64
    public private(set) var attempts: [FitResult] = []
    /// Largest fit so far (0: none) and smallest failure (nil: none).
    public private(set) var lo = 0, hi: Int? = nil
    var phase: Phase

    public init(plan: SearchPlan, seed: UInt64) {
        self.plan = plan; self.seed = seed
        phase = .grow(min(max(1, plan.start), plan.maximum))
    }

    /// The size to try next; nil when the search is over.
    public var next: Int? {
        switch phase {
        case let .grow(n): return n
        case let .shrink(m): return m
        case .bisect:
            guard let h = hi, h - lo > 1, Double(h - lo) > plan.precision * Double(max(lo, 1)) else { return nil }
            return (lo + h) / 2
        }
    }

    public mutating func record(_ r: FitResult) {
        attempts.append(r)
        let ok = r.verdict == .fit
        if ok { lo = max(lo, r.n) } else { hi = min(hi ?? r.n, r.n) }
        switch phase {
        case let .grow(n):
            if ok {
                phase = n == plan.maximum ? .bisect : .grow(min(plan.maximum, max(n + 1, Int((Double(n) * plan.growth).rounded()))))
            } else if n > 1, lo == 0 {
                // The first size already failed: shrink until one fits (or n reaches 1).
                phase = .shrink(max(1, n / 2))
            } else {
                phase = .bisect
            }
        case let .shrink(m):
            phase = ok || m == 1 ? .bisect : .shrink(max(1, m / 2))
        case .bisect:
            break
        }
    }

    public var result: EMCSearch { EMCSearch(seed: seed, attempts: attempts, emc: lo, firstFailure: hi) }

    /// Records the attempts a cache already holds, in the order the search asks for them, up to
    /// the first one not yet decided under `budgets`: what is left is the work still to do.
    /// `retrying`: the decided results run again all the same (`FitProcedure.retried`).
    public mutating func replay(from cache: AttemptCache, budgets: BudgetSchedule, retrying: (FitResult) -> Bool) throws {
        while let n = next, case let .decided(r) = try budgets.resolve(retrying: retrying, { try cache.cached(n: n, seed: seed, budget: $0) }) {
            record(r)
        }
    }
}

/// The attempt at size n of `seed`'s search under the procedure's budget: a fit of the first n
/// samples of the seed's permutation `order` (from `data.sampleOrder(seed:)`), so subsets are
/// nested.
public func searchAttempt(_ data: LabeledData<Float>, order: [Int], n: Int, procedure: FitProcedure, seed: UInt64) throws -> FitResult {
    try attemptFit(data.subset(Array(order.prefix(n))), procedure: procedure, seed: seed)
}

/// The same, going on from `state` where the procedure allows (`attemptFit(…, continuing:)`).
public func searchAttempt(_ data: LabeledData<Float>, order: [Int], n: Int, procedure: FitProcedure, seed: UInt64,
                          continuing state: inout AttemptState?) throws -> FitResult {
    try attemptFit(data.subset(Array(order.prefix(n))), procedure: procedure, seed: seed, continuing: &state)
}

/// Runs one search to the end, sequentially. `attempt(n)` runs (or looks up) one fit attempt on
/// the first n samples of this seed's permutation.
public func searchEMC(plan: SearchPlan, seed: UInt64, attempt: (Int) throws -> FitResult,
                      progress: ((FitResult, Int, Int?) -> Void)? = nil) rethrows -> EMCSearch {
    var state = SearchState(plan: plan, seed: seed)
    while let n = state.next {
        state.record(try attempt(n))
        progress?(state.attempts.last!, state.lo, state.hi)
    }
    return state.result
}

/// Where finished attempts are kept, so that a re-run skips them (the Lab's store implements
/// it): one result per size, seed and step budget.
public protocol AttemptCache {
    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult?
    func save(_ result: FitResult) throws
}

/// How many more attempts a search with bracket [lo, hi] needs, for progress estimates: the
/// bisection steps left, or while still growing (no failure yet) the growth steps up to the
/// maximum — a lower bound, since the first failure then starts a bisection.
package func remainingAttempts(plan: SearchPlan, lo: Int, hi: Int?) -> Int {
    var count = 0
    guard var h = hi else {
        var n = max(lo, 1)
        while n < plan.maximum { n = min(plan.maximum, max(n + 1, Int((Double(n) * plan.growth).rounded()))); count += 1 }
        return count
    }
    while h - lo > 1, Double(h - lo) > plan.precision * Double(max(lo, 1)) {
        h = (lo + h) / 2
        count += 1
    }
    return count
}

/// EMC over several seeds, with its summary.
public struct EMCReport: Sendable, Codable {
    public var arch: String
    public var parameters: Int
    public var searches: [EMCSearch]

    public init(arch: String, parameters: Int, searches: [EMCSearch]) {
        self.arch = arch; self.parameters = parameters; self.searches = searches
    }

    public var perSeed: [Int] { searches.map(\.emc) }
    public var mean: Double { Double(perSeed.reduce(0, +)) / Double(max(perSeed.count, 1)) }
    /// Sample standard deviation (0 for one seed).
    public var std: Double {
        guard perSeed.count > 1 else { return 0 }
        let m = mean
        return (perSeed.map { (Double($0) - m) * (Double($0) - m) }.reduce(0, +) / Double(perSeed.count - 1)).squareRoot()
    }
    public var undecided: Int { searches.map(\.undecided).reduce(0, +) }
    /// Attempts decided only under a larger budget than the first, and all training runs.
    public var escalated: Int { searches.map(\.escalated).reduce(0, +) }
    public var runs: Int { searches.map(\.runs).reduce(0, +) }
    public var emcPerParameter: Double { mean / Double(max(parameters, 1)) }

    /// Seeds whose EMC is censored by the data set's size, and bounded by the step budget.
    public var censored: Int { searches.filter { $0.status == .censored }.count }
    public var budgetBounded: Int { searches.filter { $0.status == .budgetBounded }.count }
    /// Seeds whose search ended at a collapsed attempt (`EMCSearch.collapsed`).
    public var collapsed: Int { searches.filter(\.collapsed).count }
    /// Seeds whose search ended at a diverged attempt (`EMCStatus.diverged`).
    public var diverged: Int { searches.filter { $0.status == .diverged }.count }
    /// Every seed's EMC is its procedure's: measured, or ended by a divergence (which, like a
    /// collapse, is reported beside it); otherwise `mean` is only a lower bound.
    public var isMeasured: Bool { censored == 0 && budgetBounded == 0 }
    /// One word for the whole report: measured, censored, budget-bounded, diverged, or mixed
    /// (seeds differ).
    public var status: String {
        let kinds = Set(searches.map(\.status))
        return kinds.count == 1 ? kinds.first!.rawValue : kinds.isEmpty ? EMCStatus.measured.rawValue : "mixed"
    }

    /// The mean's 95% Student-t interval over the seeds (nil for one seed); of lower bounds
    /// where the EMC is not measured. An EMC is a count: the interval stops at 0.
    public var interval: ClosedRange<Double>? { meanInterval(perSeed.map(Double.init), atLeast: 0).interval }

    /// The largest step budget an attempt ran under (the procedure's cap).
    public var cap: Int { searches.map(\.budgets.cap).max() ?? 0 }

    /// This EMC against another's, seed by seed, scaled by `scale` and `otherScale` (per
    /// parameter, say): Welch's 95% interval of the difference of means, and the verdict it
    /// gives — larger where the interval lies above 0, not larger where it lies below 0, nil
    /// (inconclusive) where it holds 0 or with fewer than two seeds a side.
    ///
    /// A side only decides where it is a measurement of what is compared. A censored EMC is a
    /// lower bound (it proves "larger" for itself, never "smaller"). A budget-bounded EMC is a
    /// lower bound on the procedure with more budget, but it is the measured EMC of the
    /// procedure as run — capped at `cap` steps: below it everything fit, above it the capped
    /// run failed. So two EMCs under the same cap are compared as measurements, and the verdict
    /// is about the capped procedures (`atCap`); under different caps a budget-bounded EMC is
    /// only a lower bound. A diverged EMC is the procedure's own under any cap, compared as a
    /// measurement; the report says how many seeds diverged (`diverged`).
    public func comparison(with other: EMCReport, scale: Double = 1, otherScale: Double = 1) -> EMCComparison {
        guard let i = differenceInterval(perSeed.map { Double($0) * scale }, other.perSeed.map { Double($0) * otherScale }) else {
            return EMCComparison(larger: nil, interval: nil, atCap: false)
        }
        let sameCap = cap == other.cap
        func exact(_ r: EMCReport) -> Bool { r.censored == 0 && (r.budgetBounded == 0 || sameCap) }
        let atCap = (budgetBounded > 0 || other.budgetBounded > 0) && sameCap
        if i.lowerBound > 0 && exact(other) { return EMCComparison(larger: true, interval: i, atCap: atCap) }
        if i.upperBound < 0 && exact(self) { return EMCComparison(larger: false, interval: i, atCap: atCap) }
        return EMCComparison(larger: nil, interval: i, atCap: atCap)
    }

    /// The summary as text that says what it is: "276.0 ± 3.0" or "≥ 1797.0".
    public var text: String {
        isMeasured ? String(format: "%.1f ± %.1f", mean, std) : String(format: "≥ %.1f", mean)
    }
}

/// Two EMCs compared across seeds (`EMCReport.comparison`).
public struct EMCComparison: Sendable, Equatable {
    /// true: larger at 95%; false: not larger (smaller) at 95%; nil: inconclusive.
    public var larger: Bool?
    /// Welch's 95% interval of the difference (nil with fewer than two seeds a side).
    public var interval: ClosedRange<Double>?
    /// A budget-bounded EMC took part: the verdict is about the procedures capped at their
    /// common step budget, not about what more steps would fit.
    public var atCap: Bool
}
