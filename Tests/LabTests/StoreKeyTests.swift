import Adaptivity
import Capacity
import Datasets
import Foundation
import GRDB
import Lab
import Linalg
import Recovery
import Testing

/// A labelled CSV (two features, then the label) of `n` points in a fresh folder; `flip`
/// changes every label, so the same path holds another data set.
func writeCSV(_ folder: String, n: Int = 48, flip: Bool = false) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let d: LabeledData<Float> = Synthetic.gaussianMixture(n: n, dim: 2, classes: 2, separation: 0.5, seed: 7)
    var text = ""
    for i in 0..<n {
        let label = flip ? 1 - d.labels[i] : d.labels[i]
        text += "\(d.x.scalars[2 * i]),\(d.x.scalars[2 * i + 1]),\(label)\n"
    }
    let path = folder + "/data.csv"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func settings(data: String, _ more: [String: String] = [:]) throws -> EMCSettings {
    try EMCSettings(["arch": "mlp:2-3-2:relu", "data": data, "optimizer": "adam", "lr": "0.05", "batch-size": "0",
                     "steps": "150", "start": "8", "precision": "0.1"].merging(more) { $1 })
}

func storedCounts(_ path: String) throws -> (experiments: Int, attempts: Int) {
    try DatabaseQueue(path: path).read {
        (try Int.fetchOne($0, sql: "SELECT count(*) FROM experiments")!, try Int.fetchOne($0, sql: "SELECT count(*) FROM attempts")!)
    }
}

@Suite struct StoreKeyTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-keys-\(getpid())").path

    @Test func aDataFileEditedInPlaceIsANewExperiment() throws {
        let csv = try writeCSV(folder + "/edit")
        let path = temporaryStore("edited.sqlite")
        let store = try ResultStore(path: path)
        let first = try settings(data: "csv:" + csv).run(store: store, workers: 1)
        let afterFirst = try storedCounts(path)
        _ = try writeCSV(folder + "/edit", flip: true)
        let second = try settings(data: "csv:" + csv).run(store: store, workers: 1)
        let fresh = try settings(data: "csv:" + csv).run(store: nil, workers: 1)
        // The edited file's attempts are run and stored, not read back from the old file's.
        func outcomes(_ r: EMCReport) -> [String] { r.searches.flatMap(\.attempts).map { "\($0.n) \($0.verdict) \($0.trainLoss) \($0.steps)" } }
        #expect(outcomes(second) == outcomes(fresh))
        #expect(outcomes(first) != outcomes(fresh), "the edit changes the outcome, so a stale answer would show")
        #expect(try storedCounts(path) == (afterFirst.experiments + 1, afterFirst.attempts + fresh.searches[0].attempts.count))
        #expect(first.searches[0].attempts.count >= 2)
    }

    /// Stores written so far (engine revision 1) keep their keys: the configuration alone, as
    /// canonical JSON. A later revision adds itself to the key.
    @Test func theEngineRevisionJoinsTheKeyFromTwoOn() throws {
        let store = try ResultStore(path: temporaryStore("engine-key.sqlite"))
        let config = ["arch": "mlp:2-3-2:relu", "lr": "0.05"]
        #expect(try store.experiment(instrument: "emc", config: config, engine: 1).key == #"{"arch":"mlp:2-3-2:relu","lr":"0.05"}"#)
        #expect(try store.experiment(instrument: "emc", config: config, engine: 2).key == #"{"arch":"mlp:2-3-2:relu","engine":"2","lr":"0.05"}"#)
    }

    /// An attempt trained by one engine revision is never read back by another: a build whose
    /// arithmetic differs trains the attempt again instead of returning numbers it would not make.
    @Test func anotherEngineRevisionReadsNothingBack() throws {
        let path = temporaryStore("engine-replay.sqlite")
        let store = try ResultStore(path: path)
        let config = ["arch": "mlp:2-3-2:relu", "data": "digits"]
        let attempt = FitResult(n: 16, seed: 1, verdict: .fit, trainLoss: 0.25, trainAccuracy: 1, gradientNorm: 0.5, steps: 40, seconds: 0.1, budget: 100)
        try store.experiment(instrument: "emc", config: config, engine: 1).save(attempt)
        #expect(try store.experiment(instrument: "emc", config: config, engine: 1).cached(n: 16, seed: 1, budget: 100)?.trainLoss == 0.25)
        #expect(try store.experiment(instrument: "emc", config: config, engine: 2).cached(n: 16, seed: 1, budget: 100) == nil)
        let later = try store.experiment(instrument: "emc", config: config, engine: 2)
        try later.save(FitResult(n: 16, seed: 1, verdict: .fit, trainLoss: 0.375, trainAccuracy: 1, gradientNorm: 0.5, steps: 41, seconds: 0.1, budget: 100))
        // Both revisions' attempts are kept, each under its own experiment.
        #expect(try store.experiment(instrument: "emc", config: config, engine: 1).cached(n: 16, seed: 1, budget: 100)?.trainLoss == 0.25)
        #expect(try later.cached(n: 16, seed: 1, budget: 100)?.trainLoss == 0.375)
        #expect(try storedCounts(path) == (2, 2))
    }

    @Test func oneFileAtTwoPathsIsOneExperiment() throws {
        let a = try writeCSV(folder + "/a"), b = folder + "/b/copy.csv"
        try FileManager.default.createDirectory(atPath: folder + "/b", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: b)
        try FileManager.default.copyItem(atPath: a, toPath: b)
        #expect(try settings(data: "csv:" + a).storeKey() == settings(data: "csv:" + b).storeKey())
        let other = try writeCSV(folder + "/c", flip: true)   // same name, other contents
        #expect(try settings(data: "csv:" + a).storeKey() != settings(data: "csv:" + other).storeKey())
        #expect(try settings(data: "csv:" + a).storeKey()["data"]?.hasPrefix("csv sha256:") == true)
    }

    @Test func spellingsOfOneExperimentShareAKey() throws {
        // As `overparam emc` writes its options, and as a sweep file might.
        let command = try EMCSettings(["lr": "0.01", "momentum": "0.9", "threshold": "1.0", "batch-size": "640", "steps": "5000",
                                       "downsample": "1", "data": "gaussian:100,2,2", "optimizer": "sgd", "init": "torch"])
        let file = try EMCSettings(["lr": "1e-2", "momentum": ".9", "threshold": "1", "data": "gaussian:1e2,2,2,1",
                                    "optimizer": "SGD", "init": "pytorch", "seeds": "3", "precision": "0.05"])
        #expect(try command.storeKey() == file.storeKey())
        #expect(try EMCSettings(["init": "kaiming"]).storeKey() == EMCSettings(["init": "he"]).storeKey())
        #expect(try EMCSettings(["init": "gaussian:1e-3"]).storeKey() == EMCSettings(["init": "gaussian:0.001"]).storeKey())
        // What does change an outcome still changes the key.
        #expect(try EMCSettings(["lr": "0.01"]).storeKey() != EMCSettings(["lr": "0.011"]).storeKey())
        #expect(try EMCSettings(["data": "gaussian:100,2,2"]).storeKey() != EMCSettings(["data": "gaussian:100,2,2,2"]).storeKey())
        // Subspace training came after results were stored: without it the key is as it was
        // (every setting of the time, no "subspace"), so those results are still found.
        let plain = try EMCSettings(["data": "gaussian:100,2,2"]).storeKey()
        #expect(plain["subspace"] == nil && Set(plain.keys) == ["arch", "data", "condition", "downsample", "classes", "optimizer", "lr", "momentum",
                                                                "batch-size", "schedule", "threshold", "init", "curvature", "instrument"])
        let sub = try EMCSettings(["data": "gaussian:100,2,2", "subspace": "0200"]).storeKey()
        #expect(sub["subspace"] == "200" && sub != plain)
        #expect(throws: ExperimentError.self) { try EMCSettings(["subspace": "100", "curvature": "on"]).validate() }
        #expect(throws: ExperimentError.self) { try EMCSettings(["subspace": "0"]).validate() }
    }

    /// EMC in a subspace: per trained parameter, and a dimension the model cannot take is an error.
    @Test func anEMCInASubspaceCountsItsTrainedParameters() throws {
        let s = try EMCSettings(["data": "gaussian:120,4,3,3", "arch": "mlp:4-8-3:relu", "subspace": "20", "batch-size": "0",
                                 "lr": "0.1", "steps": "200", "max-steps": "200", "start": "8", "precision": "0.1"])
        let report = try s.run(store: nil, workers: 1)
        #expect(report.parameters == 20 && report.mean > 0)
        #expect(throws: (any Error).self) { try EMCSettings(["data": "gaussian:50,4,3", "arch": "mlp:4-8-3:relu", "subspace": "67"]).run(store: nil) }
    }

    @Test func aVersion1StoreIsRefusedForWritingAndStillExports() throws {
        let path = temporaryStore("v1.sqlite")
        try DatabaseQueue(path: path).write { d in
            try d.execute(sql: """
                CREATE TABLE experiments (key TEXT PRIMARY KEY, instrument TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL);
                CREATE TABLE attempts (experiment TEXT NOT NULL, seed INTEGER NOT NULL, n INTEGER NOT NULL, verdict TEXT NOT NULL,
                    train_loss REAL NOT NULL, train_accuracy REAL NOT NULL, gradient_norm REAL NOT NULL, steps INTEGER NOT NULL,
                    seconds REAL NOT NULL, finished TEXT NOT NULL, PRIMARY KEY (experiment, seed, n));
                INSERT INTO experiments VALUES ('{"data":"csv:data.csv"}', 'emc', '{"data":"csv:data.csv"}', 'then');
                INSERT INTO attempts VALUES ('{"data":"csv:data.csv"}', 0, 64, 'fit', 0.1, 1, 0.01, 10, 0.5, 'then');
                PRAGMA user_version = 1;
                """)
        }
        do {
            _ = try ResultStore(path: path)
            Issue.record("a path-keyed store was opened for writing")
        } catch let e as StoreError {
            #expect(e.description.contains("named data sets by their path"))
        }
        let old = try ResultStore(path: path, readOnly: true)
        #expect(old.version == 1)
        #expect(try old.exportCSV().contains(",0,64,,fit,"), "no budget in a version-1 store")
        let target = try ResultStore(path: temporaryStore("v2-target.sqlite"))
        #expect(throws: StoreError.self) { _ = try target.merge(from: path) }
    }

    @Test func onlyFilesAndPostgresURLsAreStores() throws {
        let cwd = FileManager.default.currentDirectoryPath
        for bad in ["sqlite://results.db", "postgres:results", "postgresql:host/db", "http://example.org/x", "file://tmp/x.sqlite"] {
            #expect(throws: StoreError.self, "\(bad)") { _ = try openStore(bad) }
        }
        #expect(!FileManager.default.fileExists(atPath: cwd + "/postgres:"), "no folder named after a URL")
        #expect(!FileManager.default.fileExists(atPath: cwd + "/sqlite:"))
        // A server that is not there is an error at once, not a local file.
        do {
            _ = try openStore("postgres://nobody@127.0.0.1:1/none")
            Issue.record("opened a PostgreSQL store with no server")
        } catch let e as StoreError {
            #expect(e.description.contains("cannot open the result store postgres://nobody@127.0.0.1:1/none"))
        }
        #expect(throws: StoreError.self) { _ = try openStore(temporaryStore("absent.sqlite"), readOnly: true) }
    }

    @Test func aReadOnlyStoreIsNeverWritten() throws {
        let path = temporaryStore("read-only.sqlite")
        let r = FitResult(n: 8, seed: 0, verdict: .fit, trainLoss: 0.1, trainAccuracy: 1, gradientNorm: 0.1, steps: 5, seconds: 0.1)
        try ResultStore(path: path).experiment(instrument: "emc", config: ["a": "1"]).save(r)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let ro = try ResultStore(path: path, readOnly: true)
        #expect(try ro.experiment(instrument: "emc", config: ["a": "1"]).cached(n: 8, seed: 0, budget: 0) == r)
        _ = try ro.experiment(instrument: "emc", config: ["b": "2"])   // registers nothing
        #expect(throws: (any Error).self) { try ro.experiment(instrument: "emc", config: ["a": "1"]).save(r) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try storedCounts(path).experiments == 1)
    }

    /// Every instrument's results in PostgreSQL: a second run reads them all back.
    @Test(.enabled(if: testPostgres != nil)) func everyInstrumentKeepsItsResultsInPostgres() throws {
        let store = try openStore(freshSchema("instruments"))
        // Recovery runs.
        let t = try TargetFunction.tanhTeacher(inputs: 2, width: 1)
        var p = RecoveryProcedure()
        p.steps = 300
        let rows = [RecoveryRow(label: "w2", student: "mlp:2-2-1:tanh:nobias", procedure: p)]
        let first = try runRecovery(target: t, rows: rows, sizes: [2, 4], seeds: 2, store: store, workers: 1)
        let again = try runRecovery(target: t, rows: rows, sizes: [2, 4], seeds: 2, store: store, workers: 1)
        // Read back, not run again: even the recorded times are the first run's.
        #expect(again.cells.flatMap { $0.flatMap(\.runs) }.map(\.seconds) == first.cells.flatMap { $0.flatMap(\.runs) }.map(\.seconds))
        #expect(again.cells.map { $0.map(\.medianTestMSE) } == first.cells.map { $0.map(\.medianTestMSE) })
        // Rate units, bit for bit.
        let problem = try SequenceProblem(truth: SequenceProblem.misaligned(count: 100, p: 1, q: 2),
                                          eigenvalues: SequenceProblem.powerLawEigenvalues(100, gamma: 1.5), name: "small")
        var s = RateSettings(problem: problem, estimators: [.vanilla, .opgd(depth: 1)], sizes: [100, 200], repetitions: 2)
        s.grid = TimeGrid(from: 1e-1, to: 1e4, perDecade: 4)
        let rates = try runRates(s, store: store, workers: 1)
        let ratesAgain = try runRates(s, store: store, workers: 1)
        #expect(rates.computedUnits == 4 && ratesAgain.computedUnits == 0)
        #expect(ratesAgain.estimators.map(\.meanErrors) == rates.estimators.map(\.meanErrors))
        // Generalization runs, and an export of everything through a SQLite copy.
        let g = try settings(data: "gaussian:80,2,2").generalization(trainSize: 40, store: store)
        #expect(try settings(data: "gaussian:80,2,2").generalization(trainSize: 40, store: store) == g)
        let copy = try ResultStore.copy(of: store as! PostgresStore)
        defer { copy.remove() }
        let counts = try DatabaseQueue(path: copy.path).read { d in
            try ["recovery_runs", "rate_units", "generalization_runs"].map { try Int.fetchOne(d, sql: "SELECT count(*) FROM \($0)")! }
        }
        #expect(counts == [4, 4, 1])
    }
}

@Suite struct ExportTests {
    @Test func anAttemptsBudgetAndCurvatureComeBackFromTheStore() throws {
        let store = try ResultStore(path: temporaryStore("curvature.sqlite"))
        let cache = try store.experiment(instrument: "emc", config: ["a": "1"])
        let checked = FitResult(n: 10, seed: 1, verdict: .noFit, trainLoss: 0.3, trainAccuracy: 0.9, gradientNorm: 1e-3, steps: 400,
                                seconds: 0.1, budget: 400, hessian: (-1e-3, 2.5))
        let unchecked = FitResult(n: 10, seed: 1, verdict: .undecided, trainLoss: 0.4, trainAccuracy: 0.8, gradientNorm: 1e-1, steps: 200,
                                  seconds: 0.1, budget: 200)
        try cache.save(checked); try cache.save(unchecked)
        #expect(try cache.cached(n: 10, seed: 1, budget: 400) == checked && cache.cached(n: 10, seed: 1, budget: 200) == unchecked)
        #expect(try cache.cached(n: 10, seed: 1, budget: 800) == nil)
        #expect(try store.exportCSV(.emc).contains(",400,0.1,-0.001,2.5,\n"))
    }

    @Test func everyKindOfResultExportsWithItsSettingsAsColumns() throws {
        let path = temporaryStore("export.sqlite")
        let store = try ResultStore(path: path)
        try store.experiment(instrument: "emc", config: ["arch": "mlp:2-2", "lr": "0.1"]).save(
            FitResult(n: 10, seed: 3, verdict: .noFit, trainLoss: 0.5, trainAccuracy: 0.8, gradientNorm: 1e-4, steps: 7, seconds: 0.1,
                      arithmetic: "avx2 kernels, avx2 sgemm, OpenBLAS Zen"))
        try store.experiment(instrument: "emc", config: ["arch": "mlp:2-2", "lr": "0.1"]).saveGeneralization(
            GeneralizationResult(trainSize: 50, testSize: 20, trainAccuracy: 1, testAccuracy: 0.75), seed: 1)
        try store.experiment(instrument: "recovery", config: ["student": "mlp:2-4-1", "steps": "100"]).saveRun(
            RecoveryRun(n: 4, seed: 2, trainMSE: 1e-6, testMSE: .infinity, steps: 100, seconds: 0.5, diverged: true))
        try store.experiment(instrument: "adaptivity", config: ["problem": "p = 1"]).saveCurves([[1, 2], [3]], n: 100, repetition: 0, seconds: 0.25)

        // The engine revision that computed a row is one of its settings (from revision 2 on);
        // each result keeps the arithmetic of the process that computed and saved it.
        let engine = Engine.revision, here = "\"\(Engine.arithmetic)\""
        try #require(engine > 1)
        let emc = try store.exportCSV(.emc).split(separator: "\n")
        #expect(emc == ["arch,engine,lr,seed,n,budget,verdict,train_loss,train_accuracy,gradient_norm,steps,seconds,hessian_min,hessian_max,arithmetic",
                        "mlp:2-2,\(engine),0.1,3,10,0,no-fit,0.5,0.8,0.0001,7,0.1,,,\"avx2 kernels, avx2 sgemm, OpenBLAS Zen\""])
        let recovery = try store.exportCSV(.recovery).split(separator: "\n")
        // A diverged run's infinite test error is stored and exported as empty (NULL).
        #expect(recovery == ["engine,setting:steps,student,seed,n,train_mse,test_mse,diverged,steps,seconds,arithmetic",
                             "\(engine),100,mlp:2-4-1,2,4,1e-06,,1,100,0.5,\(here)"])
        let general = try store.exportCSV(.generalization).split(separator: "\n")
        #expect(general.last == "mlp:2-2,\(engine),0.1,1,50,20,1.0,0.75,\(here)")
        let adapt = try JSONSerialization.jsonObject(with: Data(try store.exportJSON(.adapt).utf8)) as? [[String: Any]]
        #expect(adapt?.first?["curves"] as? [[Double]] == [[1, 2], [3]] && adapt?.first?["n"] as? Int == 100)
        #expect(try store.exportCSV(.adapt).hasSuffix("p = 1,100,0,0.25,\(here),2\n"))
        #expect(adapt?.first?["arithmetic"] as? String == Engine.arithmetic)
        let summary = try ResultStore(path: path, readOnly: true).summary()
        #expect(summary.contains("  emc                 1 experiment(s),       1 EMC training runs"), "\(summary)")
        #expect(summary.contains("  recovery            1 experiment(s),       1 recovery runs"), "\(summary)")
        #expect(summary.contains("  adapt               1 experiment(s),       1 rate units"), "\(summary)")
    }
}

@Suite struct PostgresMergeTests {
    /// A shard's SQLite file merged into PostgreSQL: every kind of result once, a second merge
    /// adds nothing, and a row that differs is reported as a conflict and left as it was.
    @Test(.enabled(if: testPostgres != nil)) func aShardMergesIntoPostgresOnce() throws {
        let path = temporaryStore("shard-for-pg.sqlite")
        let shard = try ResultStore(path: path)
        let attempt = FitResult(n: 10, seed: 3, verdict: .noFit, trainLoss: 0.5, trainAccuracy: 0.8, gradientNorm: 1e-4, steps: 7, seconds: 0.1,
                                budget: 7, hessian: (-1e-4, 3))
        try shard.experiment(instrument: "emc", config: ["a": "1"]).save(attempt)
        try shard.experiment(instrument: "emc", config: ["a": "1"]).saveGeneralization(
            GeneralizationResult(trainSize: 50, testSize: 20, trainAccuracy: 1, testAccuracy: 0.75), seed: 1)
        try shard.experiment(instrument: "recovery", config: ["b": "2"]).saveRun(
            RecoveryRun(n: 4, seed: 2, trainMSE: 1e-6, testMSE: .infinity, steps: 100, seconds: 0.5, diverged: true))
        try shard.experiment(instrument: "adaptivity", config: ["c": "3"]).saveCurves([[1, 2], [3]], n: 100, repetition: 0, seconds: 0.25)

        let pg = try PostgresStore(url: freshSchema("merge"))
        #expect(try pg.merge(from: path) == MergeSummary(added: 4, duplicates: 0, conflicts: 0))
        #expect(try pg.merge(from: path) == MergeSummary(added: 0, duplicates: 4, conflicts: 0))
        let cache = try pg.cache(instrument: "emc", config: ["a": "1"], description: [:])
        #expect(try cache.cached(n: 10, seed: 3, budget: 7) == attempt)
        #expect(try pg.cache(instrument: "adaptivity", config: ["c": "3"], description: [:]).cachedCurves(n: 100, repetition: 0) == [[1, 2], [3]])
        #expect(try pg.cache(instrument: "recovery", config: ["b": "2"], description: [:]).cachedRun(n: 4, seed: 2)?.diverged == true)
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE attempts SET train_loss = 9") }
        #expect(try pg.merge(from: path) == MergeSummary(added: 0, duplicates: 3, conflicts: 1))
        #expect(try cache.cached(n: 10, seed: 3, budget: 7)?.trainLoss == 0.5, "the stored result is kept")
    }
}
