import Capacity
import Datasets
import Foundation
import GRDB
import Lab
import Linalg
import Recovery
import Testing

/// Each stored attempt keeps the arithmetic that computed it, and a search begun by one is not
/// continued by another (a store carried between machines).
@Suite struct ArithmeticStoreTests {
    let config = ["arch": "mlp:4-4-3:relu", "data": "gaussian:300,4,3,1.5"]

    /// The small search of the store's resumption test.
    func problem() -> (LabeledData<Float>, FitProcedure, SearchPlan) { StoreTests().problem() }

    func setArithmetic(_ path: String, _ value: String?) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE attempts SET arithmetic = ?", arguments: [value]) }
    }

    /// Killed half-way on "another machine" (one thread: both seeds have begun), then resumed here: refused, storing nothing, with
    /// the arithmetic it was begun by; from a store that does not say (written before it was
    /// recorded) it resumes to the uninterrupted answer; and a finished search is read back
    /// whatever computed it.
    @Test func aSearchIsContinuedOnlyByTheArithmeticThatBeganIt() throws {
        let (data, p, plan) = problem()
        let reference = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, workers: 1)
        let path = temporaryStore("arithmetic-resume.sqlite")
        let first = Interrupting(try ResultStore(path: path).experiment(instrument: "emc", config: config), limit: reference.runs / 2)
        #expect(throws: Interrupting.Killed.self) { try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: first, workers: 1) }
        let stored = try ResultStore(path: path).experiment(instrument: "emc", config: config).all()
        #expect(!stored.isEmpty && stored.allSatisfy { $0.arithmetic == Engine.arithmetic }, "\(stored.map(\.arithmetic))")

        try setArithmetic(path, "another machine")
        let resumed = try ResultStore(path: path).experiment(instrument: "emc", config: config)
        #expect {
            _ = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: resumed, workers: 1)
        } throws: { error in
            guard let e = error as? SearchBegunElsewhere else { return false }
            return e.arithmetic == "another machine" && e.here == Engine.arithmetic
                && "\(e)".contains("was begun by another arithmetic (another machine) than this machine's (\(Engine.arithmetic))")
        }
        #expect(try resumed.all().count == stored.count, "nothing of this arithmetic was added")

        try setArithmetic(path, nil)
        let legacy = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: resumed, workers: 1)
        #expect(legacy.perSeed == reference.perSeed && legacy.runs == reference.runs)

        try setArithmetic(path, "another machine")
        let finished = try measureEMC(data, procedure: p, seeds: [0, 1], plan: plan, cache: resumed, workers: 1)
        #expect(finished.perSeed == reference.perSeed && finished.runs == reference.runs)
        #expect(try resumed.all().allSatisfy { $0.arithmetic == "another machine" })
    }

    /// A schema-3 file (attempts without the column) gains it when opened for writing: its
    /// attempts read back as not saying, and new ones keep theirs; a schema-3 shard merges, and a
    /// shard's attempt that differs from the one kept is counted as a conflict.
    @Test func aVersionThreeStoreGainsTheArithmeticColumn() throws {
        func versionThree(_ name: String) throws -> String {
            let path = temporaryStore(name)
            try ResultStore(path: path).experiment(instrument: "emc", config: config).save(
                FitResult(n: 8, seed: 0, verdict: .fit, trainLoss: 0.25, trainAccuracy: 1, gradientNorm: 0.5, steps: 40, seconds: 0.1,
                          budget: 300, arithmetic: "dropped"))
            try DatabaseQueue(path: path).write { d in
                for table in ["attempts", "recovery_runs", "rate_units", "generalization_runs"] {
                    try d.execute(sql: "ALTER TABLE \(table) DROP COLUMN arithmetic")
                }
                try d.execute(sql: "PRAGMA user_version = 3")
            }
            return path
        }
        let path = try versionThree("v3.sqlite")
        #expect(try ResultStore(path: path, readOnly: true).version == 3, "reading changes nothing")
        #expect(try ResultStore(path: path, readOnly: true).exportCSV(.emc).hasSuffix(",0.1,,,\n"), "exported without one")
        let store = try ResultStore(path: path)
        #expect(store.version == ResultStore.schemaVersion)
        let attempts = try store.experiment(instrument: "emc", config: config)
        let old = try #require(try attempts.cached(n: 8, seed: 0, budget: 300))
        #expect(old.arithmetic == nil && old.trainLoss == 0.25 && old.steps == 40)
        let fresh = FitResult(n: 16, seed: 0, verdict: .noFit, trainLoss: 0.5, trainAccuracy: 0.9, gradientNorm: 1e-4, steps: 300,
                              seconds: 0.2, budget: 300, arithmetic: "avx2 kernels, avx2 sgemm, OpenBLAS Zen")
        try attempts.save(fresh)
        #expect(try ResultStore(path: path).experiment(instrument: "emc", config: config).cached(n: 16, seed: 0, budget: 300) == fresh)

        let main = try ResultStore(path: temporaryStore("v4-main.sqlite"))
        #expect(try main.merge(from: try versionThree("v3-shard.sqlite")) == MergeSummary(added: 1, duplicates: 0, conflicts: 0))
        #expect(try main.merge(from: path) == MergeSummary(added: 1, duplicates: 1, conflicts: 0))
        #expect(try main.experiment(instrument: "emc", config: config).cached(n: 16, seed: 0, budget: 300) == fresh)

        // The same attempt from another machine: the same outcome is a duplicate whatever computed
        // it; another outcome is a conflict, and the first stays.
        func shard(_ name: String, loss: Double) throws -> String {
            let other = temporaryStore(name)
            var r = fresh
            r.trainLoss = loss; r.arithmetic = "another machine"
            try ResultStore(path: other).experiment(instrument: "emc", config: config).save(r)
            return other
        }
        #expect(try main.merge(from: try shard("same.sqlite", loss: 0.5)) == MergeSummary(added: 0, duplicates: 1, conflicts: 0))
        #expect(try main.merge(from: try shard("other.sqlite", loss: 0.625)) == MergeSummary(added: 0, duplicates: 0, conflicts: 1))
        #expect(try main.experiment(instrument: "emc", config: config).cached(n: 16, seed: 0, budget: 300) == fresh)
    }

    /// Recovery runs, rate units and generalization runs keep the arithmetic of the process that
    /// computed and saved them (schema 5). A schema-4 file (only attempts say) gains the columns
    /// when opened for writing: its old rows export as not saying, new ones say; a schema-4 shard
    /// merges, and the same outcome from another arithmetic is a duplicate there too.
    @Test func everyKindOfResultKeepsItsArithmetic() throws {
        let run = RecoveryRun(n: 4, seed: 2, trainMSE: 1e-6, testMSE: 2e-3, steps: 100, seconds: 0.5, diverged: false)
        let general = GeneralizationResult(trainSize: 50, testSize: 20, trainAccuracy: 1, testAccuracy: 0.75)
        func fill(_ store: ResultStore, n: Int) throws {
            var r = run
            r.n = n
            try store.experiment(instrument: "recovery", config: ["student": "mlp:2-4-1"]).saveRun(r)
            try store.experiment(instrument: "adaptivity", config: ["problem": "p = 1"]).saveCurves([[1, 2]], n: n, repetition: 0, seconds: 0.25)
            var g = general
            g.trainSize = n
            try store.experiment(instrument: "emc", config: config).saveGeneralization(g, seed: 1)
        }
        func versionFour(_ name: String) throws -> String {
            let path = temporaryStore(name)
            try fill(try ResultStore(path: path), n: 4)
            try DatabaseQueue(path: path).write { d in
                for table in ["recovery_runs", "rate_units", "generalization_runs"] { try d.execute(sql: "ALTER TABLE \(table) DROP COLUMN arithmetic") }
                try d.execute(sql: "PRAGMA user_version = 4")
            }
            return path
        }
        func arithmetics(_ store: ResultStore, _ table: ResultTable) throws -> [String] {
            let rows = try JSONSerialization.jsonObject(with: Data(try store.exportJSON(table).utf8)) as? [[String: Any]] ?? []
            return rows.map { $0["arithmetic"] as? String ?? "-" }
        }
        let path = try versionFour("v4.sqlite")
        #expect(try ResultStore(path: path, readOnly: true).version == 4, "reading changes nothing")
        #expect(try arithmetics(ResultStore(path: path, readOnly: true), .recovery) == ["-"], "exported without one")
        let store = try ResultStore(path: path)
        #expect(store.version == ResultStore.schemaVersion)
        try fill(store, n: 8)
        for table in [ResultTable.recovery, .adapt, .generalization] {
            #expect(try arithmetics(store, table) == ["-", Engine.arithmetic], "\(table): the old row does not say, the new one does")
        }
        var read = try #require(try store.experiment(instrument: "recovery", config: ["student": "mlp:2-4-1"]).cachedRun(n: 4, seed: 2))
        read.n = run.n
        #expect(read == run, "an old row reads back as it was")

        let main = try ResultStore(path: temporaryStore("v5-main.sqlite"))
        #expect(try main.merge(from: try versionFour("v4-shard.sqlite")) == MergeSummary(added: 3, duplicates: 0, conflicts: 0))
        #expect(try main.merge(from: path) == MergeSummary(added: 3, duplicates: 3, conflicts: 0))
        for table in [ResultTable.recovery, .adapt, .generalization] {
            #expect(try arithmetics(main, table) == ["-", Engine.arithmetic], "\(table) merged with its arithmetic")
        }
        // Counted over every kind of result, for the report's "Computed by".
        try main.experiment(instrument: "emc", config: config).save(
            FitResult(n: 8, seed: 0, verdict: .fit, trainLoss: 0.25, trainAccuracy: 1, gradientNorm: 0.5, steps: 40, seconds: 0.1,
                      budget: 300, arithmetic: "another machine"))
        #expect(try main.arithmetics() == [ArithmeticCount(Engine.arithmetic, 3), ArithmeticCount(nil, 3), ArithmeticCount("another machine", 1)])
        #expect(try ResultStore(path: path, readOnly: true).arithmetics().map(\.results).reduce(0, +) == 6)
    }

    /// The report's account of what computed its numbers.
    @Test func computedBySaysWhichArithmeticsTheStoreHolds() {
        #expect(computedByText([], here: "A") == "A (this process; no stored results)")
        #expect(computedByText([ArithmeticCount("A", 12)], here: "A") == "A (all 12 stored results)")
        #expect(computedByText([ArithmeticCount("B", 12)], here: "A") == "B (12 results) — of the store's 12; this process: A",
                "read back from another machine's store")
        #expect(computedByText([ArithmeticCount("A", 10), ArithmeticCount(nil, 2)], here: "A")
                == "A (10 results); not recorded (2 results) — of the store's 12; this process: A")
    }

    /// The settings that compute a printed arithmetic here, for the refusal's advice.
    @Test func theSettingsForAnArithmetic() {
        let level = Arithmetic.levels.firstIndex(of: Arithmetic.here.level)!
        #expect(Arithmetic("portable kernels, openblas sgemm, OpenBLAS Haswell")?.settings
                == "OVERPARAM_KERNELS=portable OPENBLAS_CORETYPE=Haswell")
        #expect(Arithmetic("avx2 kernels, avx2 sgemm, OpenBLAS Zen")?.settings
                == (level >= 1 ? "OVERPARAM_KERNELS=avx2 OPENBLAS_CORETYPE=Zen" : nil))
        #expect(Arithmetic("avx512 kernels, openblas sgemm, OpenBLAS SkylakeX")?.settings
                == (level == 2 ? "OVERPARAM_KERNELS=avx512 OVERPARAM_SGEMM=openblas OPENBLAS_CORETYPE=SkylakeX" : nil))
        #expect(Arithmetic("avx2 kernels, avx512 sgemm, OpenBLAS Zen")?.settings == nil, "no machine computes that")
        #expect(Arithmetic("another machine")?.settings == nil)
        #expect(Arithmetic(Engine.arithmetic)?.settings != nil, "this machine's own")
        #expect(Arithmetic(Engine.arithmetic) == Arithmetic.here, "printed and read back")
    }
}
