import Capacity
import Foundation
import GRDB
import Lab
import Linalg
import PostgresNIO
import Recovery
import Testing

/// The server `dev.sh test` starts (Tests/Distributed/postgres.sh); without it the tests that
/// need one are skipped, except under CI, where that is a failure.
let testPostgres = ProcessInfo.processInfo.environment["OVERPARAM_TEST_POSTGRES"]

/// The test server's URL with a schema of its own, so that tests never see each other's queues.
func freshSchema(_ name: String) -> String {
    let url = testPostgres!
    return url + (url.contains("?") ? "&" : "?") + "schema=t_\(name)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
}

@Suite struct QueueTests {
    let yaml = """
        instrument: emc
        fixed: {data: digits, optimizer: adam, lr: 0.01, batch-size: 0, steps: 300, schedule: constant, start: 16, precision: 0.1}
        axes:
          arch: [mlp:64-2-10:relu, mlp:64-4-10:relu]
          condition: [random-labels]
        seeds: 2
        output: unused
        """

    func outcomes(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { d in
            try String.fetchAll(d, sql: """
                SELECT experiment || '|' || seed || '|' || n || '|' || verdict || '|' || train_loss || '|' || train_accuracy
                       || '|' || gradient_norm || '|' || steps FROM attempts ORDER BY 1
                """)
        }
    }

    /// A single-process run of the sweep into SQLite: what the queue must reproduce.
    func reference(_ spec: SweepSpec, _ name: String) throws -> [String] {
        let path = temporaryStore("queue-reference-\(name).sqlite")
        _ = try runSweep(spec, store: ResultStore(path: path))
        return try outcomes(path)
    }

    func pulled(_ pg: PostgresStore) throws -> [String] {
        let copy = try ResultStore.copy(of: pg)
        defer { copy.remove() }
        return try outcomes(copy.path)
    }

    @Test func postgresIsThereUnderCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(testPostgres != nil, "CI must run the PostgreSQL tests: dev.sh test starts a server and sets OVERPARAM_TEST_POSTGRES")
        }
    }

    @Test(.enabled(if: testPostgres != nil)) func workersReproduceTheSingleProcessRun() throws {
        var spec = try SweepSpec.parse(yaml)
        spec.output = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-workers-\(getpid())").path
        let expected = try reference(spec, "workers")
        let pg = try PostgresStore(url: freshSchema("workers"))
        #expect(try pg.submit(spec) == (4, 0))
        #expect(try pg.submit(spec) == (0, 4), "submitting again queues nothing twice")
        var options = WorkerOptions(name: "test")
        options.threads = 3
        let summary = try runWorker(store: pg, options: options) { _ in }
        #expect(summary.searchesFinished == 4 && summary.failed == 0 && summary.takenOver == 0)
        #expect(summary.attempts == expected.count)
        #expect(try pulled(pg) == expected, "every attempt once, identical to one process")
        let q = try pg.queueStatus()
        #expect(q.queued == 0 && q.done == 4 && q.failed == 0)
        let status = try sweepStatus(spec, store: pg)
        #expect(status.allSatisfy { $0.state == "done" })
    }

    /// Failures that learned nothing run again under the next budgets on the workers as in one
    /// process: from all-zero weights every failure collapses, and is trained up to the cap.
    @Test(.enabled(if: testPostgres != nil)) func workersRetryCollapsedFailuresAsOneProcessDoes() throws {
        var spec = try SweepSpec.parse("""
            instrument: emc
            fixed: {data: "gaussian:64,4,3,3", arch: "mlp:4-8-3:relu", optimizer: sgd, lr: 0.1, batch-size: 0, steps: 400, max-steps: 1600, schedule: constant, start: 8}
            axes:
              init: ["gaussian:0", torch]
            seeds: 2
            output: unused
            """)
        spec.output = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-collapse-\(getpid())").path
        let expected = try reference(spec, "collapse")
        #expect(expected.contains { $0.contains("|no-fit|") }, "the dead net fails")
        let pg = try PostgresStore(url: freshSchema("collapse"))
        #expect(try pg.submit(spec) == (4, 0))
        let summary = try runWorker(store: pg, options: WorkerOptions(name: "test")) { _ in }
        #expect(summary.searchesFinished == 4 && summary.failed == 0)
        #expect(try pulled(pg) == expected, "the same attempts, budgets included, as one process")
        let rows = try runSweep(spec, store: pg).rows
        #expect(rows.map(\.report.collapsed) == [2, 0])
    }

    /// A diverged attempt is a result, not a failed search: workers store it (loss +∞) and end
    /// the searches as one process does.
    @Test(.enabled(if: testPostgres != nil)) func workersStoreDivergedAttemptsAsOneProcessDoes() throws {
        var spec = try SweepSpec.parse("""
            instrument: emc
            fixed: {data: "gaussian:200,4,3,1.5", arch: "mlp:4-16-16-3:linear", optimizer: sgd, lr: 1, batch-size: 0, steps: 100, schedule: constant, start: 8}
            seeds: 2
            output: unused
            """)
        spec.output = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-diverged-\(getpid())").path
        let expected = try reference(spec, "diverged")
        #expect(expected.contains { $0.contains("|diverged|Inf|0.0|Inf|") }, "\(expected)")
        let pg = try PostgresStore(url: freshSchema("diverged"))
        #expect(try pg.submit(spec) == (2, 0))
        let summary = try runWorker(store: pg, options: WorkerOptions(name: "test")) { _ in }
        #expect(summary.searchesFinished == 2 && summary.failed == 0)
        #expect(try pulled(pg) == expected, "the same attempts, their infinite losses included, as one process")
        #expect(try runSweep(spec, store: pg).rows.map(\.report.diverged) == [2])
    }

    @Test(.enabled(if: testPostgres != nil)) func anExpiredLeaseIsTakenOverAndItsAttemptRerun() throws {
        var spec = try SweepSpec.parse(yaml)
        spec.output = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-lease-\(getpid())").path
        let expected = try reference(spec, "lease")
        let url = freshSchema("lease")
        let pg = try PostgresStore(url: url)
        _ = try pg.submit(spec)
        // A worker that claims its first attempt and dies: it never writes, never renews.
        #expect(try PostgresStore(url: url).claim(worker: "ghost", lease: 2) != nil)
        var options = WorkerOptions(name: "survivor")
        options.lease = 2
        options.poll = 0.2
        let summary = try runWorker(store: pg, options: options) { _ in }
        #expect(summary.takenOver == 1, "the ghost's search was taken over once its lease expired")
        #expect(summary.searchesFinished == 4)
        #expect(try pulled(pg) == expected)
    }

    @Test(.enabled(if: testPostgres != nil)) func aLeaseHoldsUntilItExpiresThenPassesOn() throws {
        let pg = try PostgresStore(url: freshSchema("lease_rules"))
        var spec = try SweepSpec.parse(yaml)
        spec.axes = [("arch", ["mlp:64-2-10:relu"])]
        spec.seeds = 1
        #expect(try pg.submit(spec) == (1, 0))
        let a = try #require(try pg.claim(worker: "a", lease: 1))
        #expect(a.previousWorker == nil)
        #expect(try pg.claim(worker: "b", lease: 10) == nil, "a live lease is not handed out twice")
        #expect(try pg.renew(a, worker: "a", lease: 1), "the holder renews")
        #expect(try pg.queueStatus().leases.map(\.worker) == ["a"])
        Thread.sleep(forTimeInterval: 1.3)
        let b = try #require(try pg.claim(worker: "b", lease: 10), "an expired lease passes on")
        #expect(b.id == a.id && b.previousWorker == "a")
        #expect(try !pg.renew(a, worker: "a", lease: 1), "the old holder can no longer renew")
        #expect(try !pg.release(a, worker: "a", attempts: 1, next: nil, state: "done"), "nor let it go")
        #expect(try pg.release(b, worker: "b", attempts: 0, next: 16, state: "queued"))
        #expect(try pg.queueStatus().queued == 1)
    }

    @Test(.enabled(if: testPostgres != nil)) func aResultIsStoredOnce() throws {
        let pg = try PostgresStore(url: freshSchema("once"))
        let cache = try pg.cache(instrument: "emc", config: ["arch": "mlp:1-1-2"], description: [:])
        let r = FitResult(n: 10, seed: 3, verdict: .fit, trainLoss: 0.125, trainAccuracy: 1, gradientNorm: 0.5, steps: 7, seconds: 1)
        try cache.save(r)
        var late = r
        late.trainLoss = 9
        try cache.save(late)   // a worker whose lease had expired, finishing after all
        #expect(try cache.cached(n: 10, seed: 3, budget: 0) == r, "the first result is kept")
        #expect(try pulled(pg).count == 1)
    }

    @Test(.enabled(if: testPostgres != nil)) func aFailingSearchIsMarkedAndTheWorkerGoesOn() throws {
        // Two data files that the worker finds gone or changed after the sweep was submitted.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-data-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ name: String, offset: Int) throws {
            let rows = (0..<20).map { i in (0..<64).map { j in "\(Double((i * 7 + j * 3 + offset) % 17) / 17)" }.joined(separator: ",") + ",\(i % 10)" }
            try rows.joined(separator: "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("gone.csv", offset: 0)
        try write("changed.csv", offset: 0)
        let bad = """
            instrument: emc
            fixed: {optimizer: adam, lr: 0.01, batch-size: 0, steps: 100, schedule: constant, start: 16}
            axes:
              data: [csv:\(dir)/gone.csv, csv:\(dir)/changed.csv, digits]
              arch: [mlp:64-2-10:relu]
            seeds: 1
            output: unused
            """
        let spec = try SweepSpec.parse(bad)
        let pg = try PostgresStore(url: freshSchema("failing"))
        _ = try pg.submit(spec)
        try FileManager.default.removeItem(atPath: dir + "/gone.csv")
        try write("changed.csv", offset: 5)
        let summary = try runWorker(store: pg, options: WorkerOptions(name: "test")) { _ in }
        #expect(summary.failed == 2 && summary.searchesFinished == 1)
        let q = try pg.queueStatus()
        #expect(q.failed == 2 && q.done == 1 && q.queued == 0)
        let errors = q.failures.map(\.error).joined(separator: "\n")
        #expect(errors.contains("\(dir)/gone.csv"), "the error names the file: \(errors)")
        // A changed file must not store results under the submitted data's experiment.
        #expect(errors.contains("differs from the data the search was submitted with"), "\(errors)")
    }

    /// Searches submitted by a build of another engine revision are refused with that reason, and
    /// nothing is stored under their experiments.
    @Test(.enabled(if: testPostgres != nil)) func aWorkerOfAnotherEngineRevisionRefusesTheSearches() async throws {
        let url = freshSchema("engine")
        let pg = try PostgresStore(url: url)
        _ = try pg.submit(try SweepSpec.parse(yaml))
        let schema = String(url.split(separator: "schema=").last!)
        // As a build of revision 99 would have keyed them (a revision-1 key has no engine entry).
        let (from, to) = Engine.revision == 1 ? ("{", #"{"engine":"99","#) : (#""engine":"\#(Engine.revision)""#, #""engine":"99""#)
        try await rawSQL("""
            INSERT INTO \(schema).experiments (key, instrument, config, created)
                SELECT replace(key, '\(from)', '\(to)'), instrument, config, created FROM \(schema).experiments
            """)
        try await rawSQL("UPDATE \(schema).searches SET experiment = replace(experiment, '\(from)', '\(to)')")
        let summary = try runWorker(store: pg, options: WorkerOptions(name: "test")) { _ in }
        #expect(summary.failed == 4 && summary.searchesFinished == 0)
        let errors = try pg.queueStatus().failures.map(\.error)
        #expect(errors.count == 4 && errors.allSatisfy { $0.contains("engine revision 99") && $0.contains("computes revision \(Engine.revision)") }, "\(errors)")
        #expect(try pulled(pg).isEmpty, "no attempt stored")
    }

    /// The first claim holds a search to its worker's arithmetic (machines are stood in for by
    /// naming two; the bits are this machine's either way): a worker of another takes every
    /// other search, leaves that one waiting and exits, saying so, rather than polling for it;
    /// a worker of the first arithmetic then finishes it. Each search's attempts come from one
    /// worker, and the results are the single-process run's.
    @Test(.enabled(if: testPostgres != nil)) func aSearchStaysWithTheArithmeticThatFirstClaimedIt() async throws {
        var spec = try SweepSpec.parse(yaml)
        spec.output = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-queue-arithmetic-\(getpid())").path
        let url = freshSchema("arithmetic")
        let pg = try PostgresStore(url: url)
        _ = try pg.submit(spec)
        let first = try #require(try pg.claim(worker: "x", lease: 60, arithmetic: "X"))
        #expect(try pg.release(first, worker: "x", attempts: 0, next: nil, state: "queued"))
        let other = try #require(try pg.claim(worker: "y", lease: 60, arithmetic: "Y"))
        #expect(other.id != first.id, "the search held to X is not Y's to take")
        #expect(try pg.release(other, worker: "y", attempts: 0, next: nil, state: "queued"))
        #expect(try pg.queueStatus().held.map { "\($0.arithmetic) \($0.searches)" } == ["X 1", "Y 1"])
        var y = WorkerOptions(name: "y")
        y.arithmetic = "Y"
        let ys = try runWorker(store: pg, options: y) { _ in }
        #expect(ys.searchesFinished == 3 && ys.heldElsewhere == 1)
        let q = try pg.queueStatus()
        #expect(q.queued == 1 && q.done == 3 && q.held.map(\.arithmetic) == ["X"] && q.heldElsewhere(than: "Y") == 1)
        var x = WorkerOptions(name: "x")
        x.arithmetic = "X"
        let xs = try runWorker(store: pg, options: x) { _ in }
        #expect(xs.searchesFinished == 1 && xs.heldElsewhere == 0 && xs.attempts > 0)
        let schema = String(url.split(separator: "schema=").last!)
        let workers = try await rawRows("""
            SELECT experiment, seed::text, string_agg(DISTINCT worker, ',') FROM \(schema).attempts GROUP BY experiment, seed
            """)
        #expect(workers.count == 4 && workers.allSatisfy { $0[2] == "x" || $0[2] == "y" }, "\(workers)")
        #expect(workers.filter { $0[2] == "x" }.map { [$0[0], $0[1]] } == [[first.experiment, String(first.seed)]], "\(workers)")
        #expect(try pulled(pg) == reference(spec, "arithmetic"))
    }

    /// A search whose stored attempts another arithmetic computed (a store merged in from another
    /// machine) is not continued by a worker here: it is marked failed with the reason, storing
    /// nothing, and the worker goes on.
    @Test(.enabled(if: testPostgres != nil)) func aWorkerDoesNotContinueASearchBegunByAnotherArithmetic() async throws {
        let url = freshSchema("begun")
        let pg = try PostgresStore(url: url)
        _ = try pg.submit(try SweepSpec.parse(yaml))
        #expect(try runWorker(store: pg, options: WorkerOptions(name: "here")) { _ in }.searchesFinished == 4)
        let schema = String(url.split(separator: "schema=").last!)
        #expect(try await rawRows("SELECT DISTINCT arithmetic FROM \(schema).attempts") == [[Engine.arithmetic]])
        // The first search as if begun elsewhere and merged in before its largest size was tried.
        let first = try await rawRows("SELECT experiment, seed::text FROM \(schema).searches ORDER BY id LIMIT 1")[0]
        let search = "experiment = '\(first[0])' AND seed = \(first[1])"
        try await rawSQL("UPDATE \(schema).attempts SET arithmetic = 'another machine' WHERE \(search)")
        try await rawSQL("DELETE FROM \(schema).attempts WHERE \(search) AND n = (SELECT max(n) FROM \(schema).attempts WHERE \(search))")
        let left = try await rawRows("SELECT count(*)::text FROM \(schema).attempts")
        try await rawSQL("UPDATE \(schema).searches SET state = 'queued', arithmetic = NULL WHERE \(search)")
        let summary = try runWorker(store: pg, options: WorkerOptions(name: "here")) { _ in }
        #expect(summary.failed == 1 && summary.attempts == 0, "\(summary)")
        let q = try pg.queueStatus()
        #expect(q.failed == 1 && q.done == 3)
        let error = q.failures.map(\.error).joined()
        #expect(error.contains("was begun by another arithmetic (another machine) than this machine's (\(Engine.arithmetic))"), "\(error)")
        #expect(try await rawRows("SELECT count(*)::text FROM \(schema).attempts") == left, "nothing stored")
    }

    /// A queue of schema version 3 (searches held to no arithmetic) gains the column on first use
    /// and keeps its searches.
    @Test(.enabled(if: testPostgres != nil)) func aVersionThreeQueueGainsTheArithmeticColumn() async throws {
        let url = freshSchema("v3")
        _ = try PostgresStore(url: url).submit(try SweepSpec.parse(yaml))
        let schema = String(url.split(separator: "schema=").last!)
        try await rawSQL("ALTER TABLE \(schema).searches DROP COLUMN arithmetic")
        try await rawSQL("ALTER TABLE \(schema).attempts DROP COLUMN arithmetic")
        try await rawSQL("UPDATE \(schema).meta SET value = '3' WHERE key = 'schema_version'")
        let again = try PostgresStore(url: url)
        #expect(try again.queueStatus().queued == 4)
        _ = try #require(try again.claim(worker: "w", lease: 60, arithmetic: "A"))
        #expect(try again.queueStatus().held.map { "\($0.arithmetic) \($0.searches)" } == ["A 1"])
    }

    /// A schema-5 database (only attempts say their arithmetic) gains the column for recovery runs,
    /// rate units and generalization runs on first use; its old rows stay, new ones say, and both
    /// come across to SQLite as they are.
    @Test(.enabled(if: testPostgres != nil)) func aVersionFiveSchemaGainsTheResultsArithmetic() async throws {
        let url = freshSchema("v5")
        let old = RecoveryRun(n: 5, seed: 1, trainMSE: 1e-9, testMSE: 2e-3, steps: 100, seconds: 0.5, diverged: false)
        try PostgresStore(url: url).cache(instrument: "recovery", config: ["b": "2"], description: [:]).saveRun(old)
        let schema = String(url.split(separator: "schema=").last!)
        for table in ["recovery_runs", "rate_units", "generalization_runs"] {
            try await rawSQL("ALTER TABLE \(schema).\(table) DROP COLUMN arithmetic")
        }
        try await rawSQL("UPDATE \(schema).meta SET value = '5' WHERE key = 'schema_version'")
        let again = try PostgresStore(url: url)
        let runs = try again.cache(instrument: "recovery", config: ["b": "2"], description: [:])
        #expect(try runs.cachedRun(n: 5, seed: 1) == old)
        var fresh = old
        fresh.n = 6
        try runs.saveRun(fresh)
        try runs.saveCurves([[1, 2]], n: 6, repetition: 0, seconds: 0.25)
        try runs.saveGeneralization(GeneralizationResult(trainSize: 6, testSize: 2, trainAccuracy: 1, testAccuracy: 0.5), seed: 1)
        #expect(try again.arithmetics() == [ArithmeticCount(Engine.arithmetic, 3), ArithmeticCount(nil, 1)])
        let copy = try ResultStore(path: temporaryStore("v6-copy.sqlite"))
        #expect(try again.copyResults(into: copy) == 4)
        for (table, expected) in [(ResultTable.recovery, ["-", Engine.arithmetic]), (.adapt, [Engine.arithmetic]), (.generalization, [Engine.arithmetic])] {
            let rows = try JSONSerialization.jsonObject(with: Data(try copy.exportJSON(table).utf8)) as? [[String: Any]] ?? []
            #expect(rows.map { $0["arithmetic"] as? String ?? "-" } == expected, "\(table)")
        }
    }

    @Test(.enabled(if: testPostgres != nil)) func aStoreOfAnotherVersionIsRefusedUntouched() async throws {
        let url = freshSchema("version")
        let pg = try PostgresStore(url: url)
        _ = try pg.submit(try SweepSpec.parse(yaml))
        let schema = String(url.split(separator: "schema=").last!)
        try await rawSQL("UPDATE \(schema).meta SET value = '99' WHERE key = 'schema_version'")
        #expect {
            _ = try PostgresStore(url: url)
        } throws: { error in
            "\(error)".contains("schema version 99, this overparam uses \(PostgresStore.schemaVersion)") && "\(error)".contains("nothing was changed")
        }
        #expect(try pg.queueStatus().queued == 4, "the queue is as it was")
    }

    /// A version-2 schema (no measures column) gains it on first use, keeps its runs, and then
    /// stores a run's measures and reads them back bit for bit.
    @Test(.enabled(if: testPostgres != nil)) func aVersionTwoSchemaGainsTheMeasuresColumn() async throws {
        let url = freshSchema("v2")
        let pg = try PostgresStore(url: url)
        let cache = try pg.cache(instrument: "recovery", config: ["b": "2"], description: [:])
        let old = RecoveryRun(n: 5, seed: 1, trainMSE: 1e-9, testMSE: 2e-3, steps: 100, seconds: 0.5, diverged: false)
        try cache.saveRun(old)
        let schema = String(url.split(separator: "schema=").last!)
        try await rawSQL("ALTER TABLE \(schema).recovery_runs DROP COLUMN measures")
        try await rawSQL("ALTER TABLE \(schema).searches DROP COLUMN arithmetic")
        try await rawSQL("ALTER TABLE \(schema).attempts DROP COLUMN arithmetic")
        try await rawSQL("UPDATE \(schema).meta SET value = '2' WHERE key = 'schema_version'")
        let again = try PostgresStore(url: url)
        let runs = try again.cache(instrument: "recovery", config: ["b": "2"], description: [:])
        #expect(try runs.cachedRun(n: 5, seed: 1) == old)
        let measures = RunMeasures(spectrum: TangentSpectrum(inputs: 3, parameters: 4, singularValues: [2, 0.1 + 0.2, 1e-300]),
                                   condensation: condensation(vectors: [[1, 0], [2, 0], [0, 1]]))
        let fresh = RecoveryRun(n: 6, seed: 1, trainMSE: 1e-10, testMSE: 1e-4, steps: 50, seconds: 0.25, diverged: false, measures: measures)
        try runs.saveRun(fresh)
        #expect(try runs.cachedRun(n: 6, seed: 1) == fresh)
        #expect(try PostgresStore(url: url).cache(instrument: "recovery", config: ["b": "2"], description: [:]).cachedRun(n: 6, seed: 1) == fresh)
    }

    @Test func anUnreachableServerIsAClearErrorNotAHang() {
        let start = Date()
        #expect {
            _ = try PostgresStore(url: "postgres://nobody@127.0.0.1:1/none?sslmode=disable", connectTimeout: 5)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot open the result store postgres://nobody@127.0.0.1:1/none") && text.lowercased().contains("refused")
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func malformedURLsSayWhatIsExpected() {
        for (url, why) in [("postgres://localhost", "no database name"), ("postgres:///db", "no host"),
                           ("postgres://h/db?schema=Bad-Name", "schema 'Bad-Name'"), ("postgres://h/db?sslmode=sometimes", "sslmode 'sometimes'"),
                           ("postgres://h/db?colour=red", "unknown parameter 'colour'")] {
            #expect {
                _ = try PostgresStore(url: url)
            } throws: { error in
                "\(error)".contains(why) && "\(error)".contains("expected postgres://USER")
            }
        }
        #expect {
            _ = try PostgresStore(url: "postgres://u:secret@h:1/db?sslmode=disable", connectTimeout: 2)
        } throws: { error in
            !"\(error)".contains("secret")
        }
    }
}

/// One statement on the test server, as another client (not through the store).
func rawSQL(_ sql: String) async throws { _ = try await rawRows(sql) }

/// The rows of one query on the test server, as another client, every column as text.
func rawRows(_ sql: String) async throws -> [[String]] {
    let url = URLComponents(string: testPostgres!)!
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let c = try await PostgresConnection.connect(
        configuration: .init(host: url.host!, port: url.port ?? 5432, username: url.user ?? "postgres", password: url.password,
                             database: String(url.path.dropFirst()), tls: .disable),
        id: 1, logger: logger)
    var rows = [[String]]()
    for try await row in try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
        rows.append(try row.map { try $0.decode(String.self) })
    }
    try await c.close()
    return rows
}
