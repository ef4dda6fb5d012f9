import Datasets
import Foundation
import Linalg
import NeuralNets

/// One EMC measurement for `measureEMCs`: `procedure` on `data` (already under its condition)
/// for each seed, searched by `plan`, finished attempts kept in `cache`.
public struct EMCJob {
    public var data: LabeledData<Float>
    public var procedure: FitProcedure
    public var seeds: [UInt64]
    public var plan: SearchPlan
    public var cache: AttemptCache?

    public init(data: LabeledData<Float>, procedure: FitProcedure, seeds: [UInt64], plan: SearchPlan, cache: AttemptCache? = nil) {
        self.data = data; self.procedure = procedure; self.seeds = seeds; self.plan = plan; self.cache = cache
    }
}

/// The search a free worker takes next, given each job's searches as (ready: idle, unfinished
/// and in a job still running; attempts made so far): the earliest job with a ready search, and
/// in it the search furthest behind (lowest index on ties). Jobs finish in about their order,
/// as when run one after another, but a core never waits for a job's last search while a later
/// job has work: a sweep of 3-seed configurations on two cores would otherwise leave one core
/// idle through every configuration's last search.
package func nextSearch(_ jobs: [[(ready: Bool, attempts: Int)]]) -> (job: Int, search: Int)? {
    for (j, searches) in jobs.enumerated() {
        let ready = searches.indices.filter { searches[$0].ready }
        if let s = ready.min(by: { searches[$0].attempts < searches[$1].attempts }) { return (j, s) }
    }
    return nil
}

/// The EMC of `procedure` on `data` for each seed: `measureEMCs` of one job.
/// With a cache, finished attempts are read back instead of run, and each new attempt is saved
/// as soon as it finishes: an interrupted measurement resumes where it stopped. An attempt that
/// ends undecided, or fails having learned nothing (`FitProcedure.retried`), is run again under
/// the procedure's next budget (`FitProcedure.budgets`) until it is decided or the cap is
/// reached. `progress` hears of every decided attempt (seed, result, bracket), and whether it was
/// read back whole (replayed). Seeds run side by side on `workers` threads (default: one per core).
public func measureEMC(_ data: LabeledData<Float>, procedure: FitProcedure, seeds: [UInt64], plan: SearchPlan,
                       cache: AttemptCache? = nil, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                       progress: ((UInt64, FitResult, Int, Int?, Bool) -> Void)? = nil) throws -> EMCReport {
    let job = EMCJob(data: data, procedure: procedure, seeds: seeds, plan: plan, cache: cache)
    return try measureEMCs([job], workers: workers, progress: progress.map { p in { _, seed, r, lo, hi, replayed in p(seed, r, lo, hi, replayed) } })[0].get()
}

/// Several EMC measurements (a sweep's configurations) on one pool of `workers` threads.
/// Scheduling is per attempt, not per seed or job: a free thread takes the next attempt of
/// `nextSearch`'s choice, so two cores stay busy until the last search of the last job ends, and
/// every search sees the same outcomes in the same order as when run alone — the answers (and
/// the store's contents) do not depend on the pool. BLAS stays single-threaded inside each.
///
/// The calls below come one at a time, under the pool's lock: `started(j)` before job j's first
/// attempt, `progress(j, seed, result, lo, hi, replayed)` after each decided attempt, and
/// `finished(j, result)` when job j is over. A job whose procedure does not suit its data, or
/// whose attempt throws (its store failing, say; a divergence is a verdict, not an error), ends
/// with that error: with `keepGoing` the other jobs go on, and its entry of the result holds
/// the error; otherwise no new attempt starts and the first error is thrown.
public func measureEMCs(_ jobs: [EMCJob], workers: Int = ProcessInfo.processInfo.activeProcessorCount, keepGoing: Bool = false,
                        started: ((Int) -> Void)? = nil,
                        progress: ((Int, UInt64, FitResult, Int, Int?, Bool) -> Void)? = nil,
                        finished: ((Int, Result<EMCReport, Error>) -> Void)? = nil) throws -> [Result<EMCReport, Error>] {
    // Per job: each seed's permutation, and the labels its attempts train on (for retries and collapses).
    let orders = jobs.map { job in job.seeds.map { job.data.sampleOrder(seed: $0) } }
    let labels = zip(jobs, orders).map { job, orders in orders.map { attemptLabels(job.data, order: $0) } }
    var states = jobs.map { job in job.seeds.map { SearchState(plan: job.plan, seed: $0) } }
    var busy = jobs.map { [Bool](repeating: false, count: $0.seeds.count) }
    var outcomes = [Result<EMCReport, Error>?](repeating: nil, count: jobs.count)
    var errors = [Error?](repeating: nil, count: jobs.count)
    var parameters = [Int](repeating: 0, count: jobs.count)
    var begun = [Bool](repeating: false, count: jobs.count)
    var abort = false   // without keepGoing: an error stops every job
    let condition = NSCondition()
    // The store has its own lock: a thread reading or saving an attempt does not hold up the
    // scheduling of the others.
    let storeLock = NSLock()

    // Ends job j (under the lock) once none of its searches is running and none has work left.
    func finishIfOver(_ j: Int) {
        guard outcomes[j] == nil, !busy[j].contains(true) else { return }
        if let e = errors[j] {
            outcomes[j] = .failure(e)
        } else {
            guard states[j].allSatisfy({ $0.next == nil }) else { return }
            outcomes[j] = .success(report(jobs[j], parameters: parameters[j], states[j], labels[j]))
        }
        finished?(j, outcomes[j]!)
    }
    for j in jobs.indices {
        do { parameters[j] = try jobs[j].procedure.check(jobs[j].data) } catch {
            errors[j] = error
            if !keepGoing { abort = true }
        }
    }

    func work() {
        condition.lock()
        defer { condition.unlock() }
        while !abort {
            let choice = nextSearch(jobs.indices.map { j in
                states[j].indices.map { s in (!busy[j][s] && errors[j] == nil && states[j][s].next != nil, states[j][s].attempts.count) }
            })
            guard let (j, s) = choice else {
                if !busy.contains(where: { $0.contains(true) }) { return }   // every job is over
                condition.wait()
                continue
            }
            if !begun[j] { begun[j] = true; started?(j) }
            let job = jobs[j], n = states[j][s].next!, seed = job.seeds[s], budgets = job.procedure.budgets
            let retried = job.procedure.retried(labels: labels[j][s]), order = orders[j][s]
            var read = states[j][s].attempts   // with the lower budgets read back below: what this search was computed by
            busy[j][s] = true
            condition.unlock()
            let outcome = Result<(FitResult, Bool), Error>(catching: {
                var ran = [Int: FitResult]()   // this attempt's runs by budget, for runs without a cache
                var stopped: AttemptState? = nil   // where the last budget's run stopped, to go on
                while true {
                    let known = try budgets.resolve(retrying: retried) { b in
                        if let r = ran[b] { return r }
                        let r = try job.cache.flatMap { cache in try storeLock.withLock { try cache.cached(n: n, seed: seed, budget: b) } }
                        if let r { read.append(r) }
                        return r
                    }
                    switch known {
                    case let .decided(r): return (r, ran.isEmpty)
                    case let .run(b):
                        let here = Engine.arithmetic
                        if let other = foreignArithmetic(read, here: here) { throw SearchBegunElsewhere(seed: seed, arithmetic: other, here: here) }
                        let r = try searchAttempt(job.data, order: order, n: n, procedure: job.procedure.withBudget(b), seed: seed,
                                                  continuing: &stopped)
                        if let cache = job.cache { try storeLock.withLock { try cache.save(r) } }
                        ran[b] = r
                    }
                }
            })
            condition.lock()
            busy[j][s] = false
            switch outcome {
            case let .success((r, replayed)):
                states[j][s].record(r)
                progress?(j, seed, r, states[j][s].lo, states[j][s].hi, replayed)
            case let .failure(e):
                if errors[j] == nil { errors[j] = e }
                if !keepGoing { abort = true }
            }
            finishIfOver(j)
            condition.broadcast()
        }
    }
    condition.withLock { for j in jobs.indices { finishIfOver(j) } }   // jobs that failed their check, or have no seeds
    let threads = max(1, min(workers, states.map(\.count).reduce(0, +)))
    if threads == 1 { work() } else { onThreads(threads, work) }
    if abort, let first = errors.compactMap({ $0 }).first { throw first }
    return outcomes.map { $0! }
}

/// A finished job's report. Each collapse is judged here, from the labels the failure trained
/// on, so that attempts read back from a store are judged as fresh ones are.
private func report(_ job: EMCJob, parameters: Int, _ states: [SearchState], _ labels: [(Int) -> [Int]]) -> EMCReport {
    EMCReport(arch: job.procedure.arch, parameters: parameters, searches: zip(states, labels).map { state, labels in
        var s = state.result
        s.budgets = job.procedure.budgets
        if let hi = s.firstFailure, let failure = s.attempts.first(where: { $0.n == hi }) {
            s.collapsed = job.procedure.collapsed(failure, labels: labels(hi))
        }
        return s
    })
}

/// Runs `body` on `count` threads of their own at once and waits for them all. Unlike a dispatch
/// pool, as many run together as asked whatever the machine's core count, so a test can rely on
/// two attempts running at once.
func onThreads(_ count: Int, _ body: () -> Void) {
    withoutActuallyEscaping(body) { body in
        let shared = Unchecked(body), group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            let thread = Thread { shared.value?(); group.leave() }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        // The threads' objects may outlive the call; `body` may not.
        shared.value = nil
    }
}

/// A value handed to other threads whose safety its user ensures (here: `body` locks itself,
/// and is dropped only once every thread is done with it).
private final class Unchecked<T>: @unchecked Sendable {
    var value: T?
    init(_ value: T) { self.value = value }
}
