import Capacity
import Datasets
import Foundation
import GRDB
import Lab
import Linalg
import Testing

func temporaryStore(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-lab-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try? FileManager.default.removeItem(atPath: path)
    return path
}

/// Passes through to a cache and stops the run ("kills" it) after `limit` new attempts.
final class Interrupting: AttemptCache {
    struct Killed: Error {}
    let inner: AttemptCache
    let limit: Int
    var saved = 0, lookedUpHits = 0
    init(_ inner: AttemptCache, limit: Int) { self.inner = inner; self.limit = limit }
    func cached(n: Int, seed: UInt64, budget: Int) throws -> FitResult? {
        let r = try inner.cached(n: n, seed: seed, budget: budget)
        if r != nil { lookedUpHits += 1 }
        return r
    }
    func save(_ result: FitResult) throws {
        try inner.save(result)
        saved += 1
        if saved >= limit { throw Killed() }
    }
}

@Suite struct StoreTests {
    func problem() -> (LabeledData<Float>, FitProcedure, SearchPlan) {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 300, dim: 4, classes: 3, separation: 1.5, seed: 3)
        var p = FitProcedure(arch: "mlp:4-4-3:relu")
        p.train.optimizer = .adam(); p.train.learningRate = 0.03; p.train.batchSize = nil; p.train.maxSteps = 300
        var plan = SearchPlan(maximum: data.count)
        plan.start = 8
        plan.precision = 0.05
        return (data, p, plan)
    }

    /// Killed half-way, then resumed from the file: only what was not stored runs, to the same
    /// answer. With escalation (a cap of 4× the budget) every budget's run is stored and counts.
    @Test(arguments: [1, 4])
    func interruptedRunResumesWithoutRepeatingRuns(capFactor: Int) throws {
        var (data, p, plan) = problem()
        p.stepCap = capFactor * p.train.maxSteps
        let reference = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan)
        let total = reference.runs, attempts = reference.searches.map(\.attempts.count).reduce(0, +)
        #expect(capFactor == 1 ? total == attempts && total >= 6 : reference.escalated > 0 && total > attempts)

        let path = temporaryStore("resume-\(capFactor).sqlite")
        let config = ["arch": p.arch, "data": "gaussian:300,4,3,1.5", "cap": "\(capFactor)"]
        let first = Interrupting(try ResultStore(path: path).experiment(instrument: "emc", config: config), limit: total / 2)
        #expect(throws: Interrupting.Killed.self) { try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: first) }

        // With seeds on two threads the other seed may finish its attempt in flight: count what
        // the interrupted run left in the file.
        let left = try ResultStore(path: path).experiment(instrument: "emc", config: config).all().count
        #expect(left >= total / 2 && left < total)

        // A new process: the store is opened again from the file.
        let second = Interrupting(try ResultStore(path: path).experiment(instrument: "emc", config: config), limit: .max)
        let resumed = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: second)
        #expect(resumed.perSeed == reference.perSeed && resumed.runs == total)
        // Without escalation each stored attempt is read back exactly once.
        #expect(capFactor > 1 || second.lookedUpHits == left, "finished attempts are read back")
        #expect(second.saved == total - left, "only the rest is run")
        let stored = try ResultStore(path: path).experiment(instrument: "emc", config: config).all()
        #expect(stored.count == total)
        #expect(Set(stored.map { "\($0.seed)-\($0.n)-\($0.budget)" }).count == total, "each run stored once")
    }

    @Test func experimentsAreKeyedByTheirWholeConfiguration() throws {
        let store = try ResultStore(path: temporaryStore("keys.sqlite"))
        let a = try store.experiment(instrument: "emc", config: ["arch": "mlp:2-2", "lr": "0.1"])
        let b = try store.experiment(instrument: "emc", config: ["lr": "0.2", "arch": "mlp:2-2"])
        let r = FitResult(n: 10, seed: 3, verdict: .noFit, trainLoss: 0.5, trainAccuracy: 0.8, gradientNorm: 1e-4, steps: 7, seconds: 0.1)
        try a.save(r)
        #expect(try a.cached(n: 10, seed: 3, budget: 0) == r)
        #expect(try b.cached(n: 10, seed: 3, budget: 0) == nil)
        #expect(try store.experiment(instrument: "emc", config: ["lr": "0.1", "arch": "mlp:2-2"]).cached(n: 10, seed: 3, budget: 0) == r)
        let csv = try store.exportCSV().split(separator: "\n")
        #expect(csv.count == 2 && csv[1].hasSuffix(",3,10,0,no-fit,0.5,0.8,0.0001,7,0.1,,"))
        let json = try JSONSerialization.jsonObject(with: Data(try store.exportJSON().utf8)) as? [[String: Any]]
        #expect(json?.first?["verdict"] as? String == "no-fit")
    }

    /// Several processes (here connections on threads) opening one new file together: each
    /// either creates it or finds it whole — never its tables without their schema version.
    @Test func openingANewStoreTogetherNeverSeesItHalfMade() throws {
        let errors = LockedMessages()
        for file in 0..<40 {
            let path = temporaryStore("together-\(file).sqlite")
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try ResultStore(path: path) } catch { errors.add("\(error)") }
            }
        }
        #expect(errors.messages.isEmpty, "\(errors.messages.prefix(3))")
    }

    @Test func incompatibleOrBrokenStoresAreClearErrors() throws {
        let path = temporaryStore("old.sqlite")
        let q = try DatabaseQueue(path: path)
        try q.write { try $0.execute(sql: "CREATE TABLE results (x INTEGER); PRAGMA user_version = 99;") }
        do {
            _ = try ResultStore(path: path)
            Issue.record("opened a store of another schema")
        } catch let e as StoreError {
            #expect(e.description.contains("schema version 99"))
        }
        let junk = temporaryStore("junk.sqlite")
        try Data("this is not a database, just text that is long enough to have a header".utf8).write(to: URL(fileURLWithPath: junk))
        #expect(throws: StoreError.self) { _ = try ResultStore(path: junk) }
    }
}

/// Messages gathered from several threads.
final class LockedMessages: @unchecked Sendable {
    private let lock = NSLock()
    private var list = [String]()
    func add(_ m: String) { lock.lock(); list.append(m); lock.unlock() }
    var messages: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
