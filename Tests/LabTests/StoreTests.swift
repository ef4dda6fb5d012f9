import Capacity
import Datasets
import Foundation
import GRDB
import Lab
import Linalg
import Recovery
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
        #expect(csv.count == 2 && csv[1].hasSuffix(",3,10,0,no-fit,0.5,0.8,0.0001,7,0.1,,,"))
        let json = try JSONSerialization.jsonObject(with: Data(try store.exportJSON().utf8)) as? [[String: Any]]
        #expect(json?.first?["verdict"] as? String == "no-fit")
    }

    /// A diverged attempt (loss +∞) is stored, read back equal, and exported: "inf" in CSV,
    /// null in JSON (which has no infinity); a resumed search replays it rather than failing.
    @Test func aDivergedAttemptIsStoredAndExported() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 200, dim: 4, classes: 3, separation: 1.5, seed: 0)
        var p = FitProcedure(arch: "mlp:4-16-16-3:linear")
        p.train.optimizer = .sgd(momentum: 0.9); p.train.learningRate = 1; p.train.batchSize = nil
        p.train.maxSteps = 100; p.train.schedule = .constant
        var plan = SearchPlan(maximum: data.count)
        plan.start = 8
        let store = try ResultStore(path: temporaryStore("diverged.sqlite"))
        let cache = Interrupting(try store.experiment(instrument: "emc", config: ["arch": p.arch, "lr": "1"]), limit: .max)
        let first = try measureEMC(data, procedure: p, seeds: [0], plan: plan, cache: cache)
        let diverged = try #require(first.searches[0].attempts.first { $0.verdict == .diverged })
        #expect(try cache.cached(n: diverged.n, seed: 0, budget: 100) == diverged)
        let again = Interrupting(try store.experiment(instrument: "emc", config: ["arch": p.arch, "lr": "1"]), limit: .max)
        let replayed = try measureEMC(data, procedure: p, seeds: [0], plan: plan, cache: again)
        #expect(again.saved == 0 && replayed.searches[0].attempts == first.searches[0].attempts && replayed.diverged == 1)
        #expect(try store.exportCSV().contains(",0,\(diverged.n),100,diverged,inf,0.0,inf,\(diverged.steps),"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try store.exportJSON().utf8)) as? [[String: Any]])
        let row = try #require(json.first { $0["verdict"] as? String == "diverged" })
        #expect(row["train_loss"] is NSNull && row["gradient_norm"] is NSNull && row["train_accuracy"] as? Double == 0)
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

    /// A version-2 file (as every store before the measures column): opened for writing, it
    /// gains the column, keeps its runs (without measures) and stores new runs with theirs; a
    /// version-2 shard merges, measures and all, after the same step.
    @Test func aVersionTwoStoreGainsTheMeasuresColumn() throws {
        func versionTwo(_ name: String) throws -> String {
            let path = temporaryStore(name)
            try DatabaseQueue(path: path).write { d in
                try d.execute(sql: """
                    CREATE TABLE experiments (key TEXT PRIMARY KEY, instrument TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL);
                    CREATE TABLE attempts (experiment TEXT NOT NULL, seed INTEGER NOT NULL, n INTEGER NOT NULL, budget INTEGER NOT NULL,
                        verdict TEXT NOT NULL, train_loss REAL NOT NULL, train_accuracy REAL NOT NULL, gradient_norm REAL NOT NULL,
                        steps INTEGER NOT NULL, seconds REAL NOT NULL, finished TEXT NOT NULL, hessian_min REAL, hessian_max REAL,
                        PRIMARY KEY (experiment, seed, n, budget));
                    CREATE TABLE recovery_runs (experiment TEXT NOT NULL, seed INTEGER NOT NULL, n INTEGER NOT NULL,
                        train_mse REAL, test_mse REAL, diverged INTEGER NOT NULL, steps INTEGER NOT NULL, seconds REAL NOT NULL,
                        finished TEXT NOT NULL, PRIMARY KEY (experiment, seed, n));
                    CREATE TABLE rate_units (experiment TEXT NOT NULL, n INTEGER NOT NULL, repetition INTEGER NOT NULL, curves BLOB NOT NULL,
                        seconds REAL NOT NULL, finished TEXT NOT NULL, PRIMARY KEY (experiment, n, repetition));
                    CREATE TABLE generalization_runs (experiment TEXT NOT NULL, seed INTEGER NOT NULL, train_size INTEGER NOT NULL,
                        test_size INTEGER NOT NULL, train_accuracy REAL NOT NULL, test_accuracy REAL NOT NULL, finished TEXT NOT NULL,
                        PRIMARY KEY (experiment, seed, train_size));
                    INSERT INTO experiments VALUES ('{"b":"2"}', 'recovery', '{"b":"2"}', 'then');
                    INSERT INTO recovery_runs VALUES ('{"b":"2"}', 1, 5, 1e-9, 2e-3, 0, 100, 0.5, 'then');
                    PRAGMA user_version = 2;
                    """)
            }
            return path
        }
        let old = try versionTwo("v2.sqlite")
        #expect(try ResultStore(path: old, readOnly: true).version == 2, "reading changes nothing")
        let store = try ResultStore(path: old)
        #expect(store.version == ResultStore.schemaVersion)
        // Written then, by engine revision 1, whose keys are the configuration alone.
        let runs = try store.experiment(instrument: "recovery", config: ["b": "2"], engine: 1)
        let kept = try #require(try runs.cachedRun(n: 5, seed: 1))
        #expect(kept.testMSE == 2e-3 && kept.steps == 100 && kept.measures == nil)
        let measures = RunMeasures(spectrum: TangentSpectrum(inputs: 3, parameters: 4, singularValues: [2, 0.1 + 0.2, 1e-300]),
                                   condensation: condensation(vectors: [[1, 0], [2, 0], [0, 1]]))
        let fresh = RecoveryRun(n: 6, seed: 1, trainMSE: 1e-10, testMSE: 1e-4, steps: 50, seconds: 0.25, diverged: false, measures: measures)
        try runs.saveRun(fresh)
        #expect(try runs.cachedRun(n: 6, seed: 1) == fresh)
        #expect(try ResultStore(path: old).version == ResultStore.schemaVersion, "a second open finds it current")
        let exported = try JSONSerialization.jsonObject(with: Data(try store.exportJSON(.recovery).utf8)) as? [[String: Any]]
        #expect((exported?.last?["measures"] as? [String: Any])?["condensation"] != nil)
        #expect(!(try store.exportCSV(.recovery)).contains("measures"))

        let shard = try versionTwo("v2-shard.sqlite")
        let main = try ResultStore(path: temporaryStore("v3-main.sqlite"))
        #expect(try main.merge(from: shard) == MergeSummary(added: 1, duplicates: 0, conflicts: 0))
        #expect(try main.merge(from: old) == MergeSummary(added: 1, duplicates: 1, conflicts: 0))
        #expect(try main.experiment(instrument: "recovery", config: ["b": "2"], engine: 1).cachedRun(n: 6, seed: 1) == fresh)
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
