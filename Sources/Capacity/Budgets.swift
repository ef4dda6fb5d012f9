import NeuralNets

/// The step budgets one attempt may run under: `first`, doubled each time the attempt ends
/// `undecided` (still improving when the budget ran out), up to `cap`. A schedule that depends on
/// the budget (cosine to 0) is stretched over it, so each budget is a fresh run from the same
/// initialization; under any other schedule the attempt goes on from where the last budget
/// stopped (`FitProcedure.continuesExactly`: the same bits, the new steps only). Each budget's
/// result is stored, so a resumed search repeats none of them (one resumed mid-way runs the
/// next budget from the start: the same result). An attempt is decided by the first budget that fits or
/// converges without fitting — except a failure that learned nothing, which runs again
/// (`FitProcedure.retried`) — and one still undecided at the cap stays undecided.
public struct BudgetSchedule: Sendable, Equatable, Codable {
    public var first: Int
    public var cap: Int

    /// `cap` below `first` (or nil) means no escalation.
    public init(first: Int, cap: Int? = nil) {
        self.first = max(1, first)
        self.cap = max(self.first, cap ?? first)
    }

    /// first, 2·first, 4·first, …, and the cap last.
    public var budgets: [Int] {
        var out = [first]
        while out.last! < cap { out.append(min(cap, out.last! * 2)) }
        return out
    }

    /// What is known of one attempt from its results by budget: the deciding result, or the
    /// budget to run next.
    public enum Resolution: Equatable {
        case decided(FitResult)
        case run(budget: Int)
    }

    /// `retrying`: the decided results below the cap that are run again under the next budget all
    /// the same (`FitProcedure.retried`).
    public func resolve(retrying: (FitResult) -> Bool = { _ in false }, _ result: (Int) throws -> FitResult?) rethrows -> Resolution {
        let all = budgets
        for b in all {
            guard let r = try result(b) else { return .run(budget: b) }
            if (r.verdict != .undecided && !retrying(r)) || b == all.last { return .decided(r) }
        }
        preconditionFailure("a schedule has at least one budget")
    }
}

extension FitProcedure {
    /// The procedure's budgets: its step budget, escalated up to `stepCap`.
    public var budgets: BudgetSchedule { BudgetSchedule(first: train.maxSteps, cap: stepCap) }

    /// Whether an undecided attempt goes on under the next budget rather than starting again:
    /// only where nothing but the budget changes — a constant schedule (or one fixed in steps),
    /// not cosine to 0 over the budget — so that going on is the longer run, bit for bit.
    public var continuesExactly: Bool {
        withBudget(2 * max(1, train.maxSteps)).train.schedule == train.schedule && train.plateau == nil
    }

    /// The same procedure under another step budget; a cosine schedule over the old budget is
    /// stretched over the new one.
    public func withBudget(_ steps: Int) -> FitProcedure {
        var p = self
        if case let .cosine(n, floor) = train.schedule, n == train.maxSteps { p.train.schedule = .cosine(steps: steps, floor: floor) }
        p.train.maxSteps = steps
        return p
    }
}
