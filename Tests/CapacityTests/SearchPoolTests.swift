import Capacity
import Datasets
import Dispatch
import Foundation
import Linalg
import NeuralNets
import Testing

/// One pool for a sweep's configurations (`measureEMCs`): the answers of each run alone, and a
/// core freed by one configuration's last search goes to the next configuration.
@Suite struct SearchPoolTests {
    /// Three small measurements that differ in data, model and seeds.
    func jobs() -> [EMCJob] {
        func job(_ arch: String, dataSeed: UInt64, seeds: [UInt64]) -> EMCJob {
            let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 160, dim: 3, classes: 3, separation: 1, seed: dataSeed)
            var p = FitProcedure(arch: arch)
            p.train.optimizer = .adam(); p.train.learningRate = 0.03; p.train.batchSize = nil; p.train.maxSteps = 150
            var plan = SearchPlan(maximum: 160)
            plan.start = 8
            return EMCJob(data: data, procedure: p, seeds: seeds, plan: plan)
        }
        return [job("mlp:3-3-3:tanh", dataSeed: 2, seeds: [0, 1, 2]), job("mlp:3-4-3:relu", dataSeed: 3, seeds: [0]),
                job("mlp:3-2-3:tanh", dataSeed: 4, seeds: [1, 2])]
    }

    @Test func theWorkerTakesTheEarliestJobWithWorkThenTheSearchFurthestBehind() {
        #expect(nextSearch([[(true, 3), (true, 1), (true, 1)], [(true, 0)]])! == (0, 1))
        // Job 0's searches all running or over: the next job's, not an idle core.
        #expect(nextSearch([[(false, 3), (false, 2)], [(true, 2), (true, 0)]])! == (1, 1))
        #expect(nextSearch([[(false, 3)], [(false, 0)]]) == nil)
        #expect(nextSearch([]) == nil)
    }

    /// The sets a search tries are nested: every attempt trains on a prefix of its seed's one
    /// permutation of the data (a new draw per size would compare unrelated sets), so each is
    /// reproduced bit for bit by a fit of that prefix, and the seeds' permutations differ.
    @Test func everyAttemptTrainsOnAPrefixOfItsSeedsPermutation() throws {
        let job = jobs()[0]
        let report = try measureEMC(job.data, procedure: job.procedure, seeds: job.seeds, plan: job.plan, workers: 2)
        #expect(Set(job.seeds.map { job.data.sampleOrder(seed: $0) }).count == job.seeds.count)
        for s in report.searches {
            let order = job.data.sampleOrder(seed: s.seed)
            #expect(s.attempts.count >= 4 && Set(s.attempts.map(\.n)).count == s.attempts.count)
            for a in s.attempts {
                let again = try attemptFit(job.data.subset(Array(order.prefix(a.n))), procedure: job.procedure.withBudget(a.budget), seed: s.seed)
                #expect(again.trainLoss.bitPattern == a.trainLoss.bitPattern && again.steps == a.steps && again.verdict == a.verdict,
                        "seed \(s.seed) n \(a.n): \(again.trainLoss) in \(again.steps) steps vs \(a.trainLoss) in \(a.steps)")
            }
        }
    }

    @Test func sharedPoolGivesEachJobItsOwnAnswer() throws {
        var started = [Int](), finished = [Int](), attempts = [Int: Int]()
        let pooled = try measureEMCs(jobs(), workers: 2, started: { started.append($0) },
                                     progress: { j, _, _, _, _, _ in attempts[j, default: 0] += 1 }) { j, _ in finished.append(j) }
        #expect(started.sorted() == [0, 1, 2] && finished.sorted() == [0, 1, 2])
        for (j, job) in jobs().enumerated() {
            let alone = try measureEMC(job.data, procedure: job.procedure, seeds: job.seeds, plan: job.plan, workers: 1)
            let together = try pooled[j].get()
            // And without any pool: each seed's search run by hand (one budget, so no escalation).
            let byHand = try job.seeds.map { seed in
                try searchEMC(plan: job.plan, seed: seed) { n in
                    try searchAttempt(job.data, order: job.data.sampleOrder(seed: seed), n: n, procedure: job.procedure, seed: seed)
                }
            }
            #expect(together.perSeed == byHand.map(\.emc))
            #expect(together.searches.map { $0.attempts.map(\.trainLoss) } == byHand.map { $0.attempts.map(\.trainLoss) })
            #expect(together.perSeed == alone.perSeed && together.parameters == alone.parameters)
            #expect(together.searches.map { $0.attempts.map(\.n) } == alone.searches.map { $0.attempts.map(\.n) })
            #expect(together.searches.map { $0.attempts.map(\.trainLoss) } == alone.searches.map { $0.attempts.map(\.trainLoss) })
            #expect(attempts[j] == alone.searches.map(\.attempts.count).reduce(0, +))
        }
    }

    /// Job 0 has one seed; its first attempt cannot be saved until job 1 has decided one. Run
    /// one after another (as sweeps ran before the shared pool) the save waits out its time
    /// limit and the measurement fails; in the pool the second worker takes job 1 meanwhile.
    @Test func aFreeWorkerStartsTheNextJobWhileOneIsStillRunning() throws {
        var all = jobs()
        let nextJobDecided = DispatchSemaphore(value: 0)
        all[1].cache = nil
        all[0].seeds = [0]
        all[0].cache = WaitingCache(until: nextJobDecided)
        var signalled = false
        let outcomes = try measureEMCs(Array(all.prefix(2)), workers: 2, progress: { j, _, _, _, _, _ in
            if j == 1 && !signalled { signalled = true; nextJobDecided.signal() }
        })
        #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
    }

    /// A job whose store fails mid-search ends with that error; with `keepGoing` the others
    /// still give their answers, and without it the error is thrown.
    @Test func aFailingJobFailsAloneWhenThePoolKeepsGoing() throws {
        var all = jobs()
        all[1].cache = FailingCache()
        var finished = [Int: Bool]()
        let outcomes = try measureEMCs(all, workers: 2, keepGoing: true, finished: { j, r in finished[j] = (try? r.get()) != nil })
        #expect(finished == [0: true, 1: false, 2: true])
        #expect((try? outcomes[0].get())?.perSeed == (try measureEMCs([jobs()[0]], workers: 1)[0].get()).perSeed)
        #expect(throws: FailingCache.Failed.self) { try outcomes[1].get() }
        #expect(throws: FailingCache.Failed.self) { _ = try measureEMCs(all, workers: 2) }
    }
}

/// Holds back its first save until `until` is signalled, failing after 60 s.
final class WaitingCache: AttemptCache, @unchecked Sendable {
    struct TimedOut: Error {}
    let until: DispatchSemaphore
    var waited = false
    init(until: DispatchSemaphore) { self.until = until }
    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? { nil }
    func save(_ result: FitResult) throws {
        if !waited {
            waited = true
            if until.wait(timeout: .now() + 60) == .timedOut { throw TimedOut() }
        }
    }
}

final class FailingCache: AttemptCache, @unchecked Sendable {
    struct Failed: Error {}
    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? { nil }
    func save(_ result: FitResult) throws { throw Failed() }
}
