import Foundation
import Testing

/// The paths that once gave a wrong answer with exit status 0, run on the built binary.
@Suite struct TrustTests {
    /// A tiny EMC run's options: full-batch Adam on a 4-dimensional Gaussian mixture.
    func emc(_ data: String, arch: String = "mlp:4-3-2:relu", _ more: [String] = []) -> [String] {
        ["emc", "--data", data, "--arch", arch, "--optimizer", "adam", "--lr", "0.05", "--batch-size", "0",
         "--steps", "150", "--start", "8", "--precision", "0.1"] + more
    }

    func exportRows(_ store: String) throws -> [[String: Any]] {
        let out = try overparam(["export", "--store", store, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        return try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test func aCensoredEMCSaysSo() throws {
        // 40 well-separated points and a wide net: every size fits, up to the whole set.
        let text = try overparam(emc("gaussian:40,4,2,6", arch: "mlp:4-32-2:relu", ["--no-store"]))
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("EMC ≥ 40.0 over 1 seed(s) (per seed: ≥ 40)"), "\(text.stdout)")
        #expect(text.stdout.contains("censored: 1 of 1 seed(s) fit all 40 samples"))
        let json = try overparam(emc("gaussian:40,4,2,6", arch: "mlp:4-32-2:relu", ["--no-store", "--json"]))
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(o["status"] as? String == "censored" && o["censored"] as? Bool == true && o["data_size"] as? Int == 40)
        #expect(o["status_per_seed"] as? [String] == ["censored"])
    }

    /// From all-zero weights no ReLU unit ever learns: every failure ends at the labels'
    /// entropy, and the command, its JSON and a sweep's table all say the EMC is a collapse's.
    @Test func aCollapsedEMCSaysSo() throws {
        let dead = ["emc", "--data", "gaussian:64,4,3,3", "--arch", "mlp:4-8-3:relu", "--initialization", "gaussian:0",
                    "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "0", "--steps", "400", "--schedule", "constant",
                    "--start", "8", "--seeds", "2", "--no-store"]
        let text = try overparam(dead)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("collapsed: for 2 of 2 seed(s) the smallest size that did not fit ended having learned nothing"), "\(text.stdout)")
        let json = try overparam(dead + ["--json"])
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(o["collapsed"] as? Int == 2 && o["collapsed_per_seed"] as? [Bool] == [true, true] && o["status"] as? String == "measured")
        let live = try overparam(emc("gaussian:40,4,2,6", arch: "mlp:4-32-2:relu", ["--no-store", "--json"]))
        let l = try #require(try JSONSerialization.jsonObject(with: Data(live.stdout.utf8)) as? [String: Any])
        #expect(l["collapsed"] as? Int == 0 && l["collapsed_per_seed"] as? [Bool] == [false])

        let dir = try scratchFolder("collapsed")
        try """
            instrument: emc
            fixed: {data: "gaussian:64,4,3,3", arch: "mlp:4-8-3:relu", optimizer: sgd, lr: 0.1, batch-size: 0, steps: 400, schedule: constant, start: 8}
            axes:
              init: ["gaussian:0", torch]
            seeds: 2
            output: \(dir)/sweep
            """.write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
        let run = try overparam(["sweep", "run", dir + "/sweep.yaml", "--store", dir + "/store.sqlite"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("2 seed(s) ended at a collapse"), "\(run.stdout)")
        let csv = try String(contentsOfFile: dir + "/sweep/results.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let column = try #require(csv[0].firstIndex(of: "collapsed"))
        #expect(csv.count == 3 && csv[1][0] == "gaussian:0" && csv[1][column] == "2" && csv[2][column] == "0", "\(csv)")
    }

    @Test func theSameRelativePathInTwoFoldersIsTwoDataSets() throws {
        let dir = try scratchFolder("relative")
        let store = dir + "/store.sqlite"
        for (folder, flip) in [("one", false), ("two", true)] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
            var csv = ""
            for i in 0..<40 { csv += "\(Double(i % 7) / 7),\(Double(i % 5) / 5),0.5,0.25,\((i % 3 == 0) != flip ? 1 : 0)\n" }
            try csv.write(toFile: "\(dir)/\(folder)/data.csv", atomically: true, encoding: .utf8)
            let r = try overparam(emc("csv:data.csv", ["--store", store]), in: dir + "/" + folder)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let configs = Set(try exportRows(store).compactMap { ($0["config"] as? [String: Any])?["data"] as? String })
        #expect(configs.count == 2, "each folder's data.csv is its own experiment: \(configs)")
        #expect(configs.allSatisfy { $0.hasPrefix("csv sha256:") })
    }

    @Test func theCommandAndASweepShareOneExperiment() throws {
        let dir = try scratchFolder("shared")
        let store = dir + "/store.sqlite"
        let first = try overparam(emc("gaussian:64,4,2", ["--store", store]))
        #expect(first.status == 0, "\(first.stderr)")
        let before = try exportRows(store)
        try """
            instrument: emc
            fixed: {data: "gaussian:6.4e1,4,2,1", arch: "mlp:4-3-2:relu", optimizer: adam, lr: 5e-2, batch-size: 0, steps: 150, start: 8, precision: 0.1, threshold: 1}
            axes:
              momentum: [0.90]
            seeds: 1
            output: \(dir)/sweep
            """.write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
        let sweep = try overparam(["sweep", "run", dir + "/sweep.yaml", "--store", store])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let attempts = sweep.stdout.split(separator: "\n").filter { $0.hasPrefix("[1]  seed 0  n") }
        #expect(!attempts.isEmpty && attempts.allSatisfy { $0.hasSuffix("replayed from the store") }, "no attempt is trained again: \(sweep.stdout)")
        let after = try exportRows(store)
        #expect(after.count == before.count && !before.isEmpty)
    }

    /// A procedure that diverges is measured, not failed: `emc` prints each seed's EMC as ended
    /// by a divergence and says so in a line and in its JSON; a sweep tables it with the others,
    /// its status says it diverged, and the run succeeds.
    @Test func aDivergingConfigurationIsMeasuredAndSaysSo() throws {
        let diverging = ["emc", "--data", "gaussian:200,4,3,1.5", "--arch", "mlp:4-16-16-3:linear", "--optimizer", "sgd", "--lr", "1",
                         "--batch-size", "0", "--steps", "100", "--schedule", "constant", "--start", "8", "--seeds", "2", "--no-store"]
        let text = try overparam(diverging)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains(try Regex(#"\(per seed: \d+ \(diverged\), \d+ \(diverged\)\)"#)), "\(text.stdout)")
        #expect(text.stdout.contains("diverged: for 2 of 2 seed(s) the smallest size that did not fit diverged"), "\(text.stdout)")
        #expect(text.stdout.contains(" diverged acc   0.00%  loss inf  |g| inf "), "the attempt's own line: \(text.stdout)")
        let json = try overparam(diverging + ["--json"])
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(o["diverged"] as? Int == 2 && o["status"] as? String == "diverged" && o["status_per_seed"] as? [String] == ["diverged", "diverged"])
        #expect((o["emc_per_seed"] as? [Int])?.count == 2 && o["budget_bounded"] as? Bool == false, "\(o)")

        let dir = try scratchFolder("diverging")
        try """
            instrument: emc
            fixed: {data: "gaussian:64,4,3,3", arch: "mlp:4-8-3:relu", optimizer: sgd, batch-size: 0, steps: 50, start: 8}
            axes:
              lr: [1e9, 0.05]
            seeds: 1
            output: \(dir)/sweep
            """.write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
        let run = try overparam(["sweep", "run", dir + "/sweep.yaml", "--store", dir + "/store.sqlite"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("1 seed(s) ended at a divergence"), "\(run.stdout)")
        let csv = try String(contentsOfFile: dir + "/sweep/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3 && csv[1].hasPrefix("1e9,") && csv[1].contains(",diverged,") && csv[2].hasPrefix("0.05,"), "\(csv)")
    }

    /// Four processes started together on one new file (three times: the file's creation is
    /// where they collide most).
    @Test(arguments: [0, 1, 2])
    func fourProcessesShareOneStore(round: Int) throws {
        let dir = try scratchFolder("concurrent-\(round)")
        let store = dir + "/store.sqlite"
        let lrs = ["0.02", "0.03", "0.04", "0.05"]
        final class Results: @unchecked Sendable { var outcomes = [Outcome?](repeating: nil, count: 4); let lock = NSLock() }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let r = try? overparam(emc("gaussian:96,4,2", ["--lr", lrs[i], "--seeds", "2", "--workers", "1", "--store", store, "--json"]))
            results.lock.withLock { results.outcomes[i] = r }
        }
        var expected = 0
        for r in results.outcomes {
            let r = try #require(r)
            #expect(r.status == 0, "\(r.stderr)")
            let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            expected += o["runs"] as? Int ?? -1000   // every training run is stored, escalated budgets too
        }
        let rows = try exportRows(store)
        #expect(rows.count == expected, "the union of the four runs' attempts, each once")
        let keys = rows.map { "\(($0["config"] as? [String: Any])?["lr"] ?? "?")/\($0["seed"]!)/\($0["n"]!)/\($0["budget"]!)" }
        #expect(Set(keys).count == rows.count)
    }

    @Test func aPostgresURLIsNeverTakenForAFile() throws {
        let dir = try scratchFolder("urls")
        let url = "postgres://nobody@127.0.0.1:1/none"
        for command in [emc("gaussian:64,4,2", ["--store", url]), ["recover", "--sizes", "2", "--store", url],
                        ["adapt", "rates", "--n", "100", "--reps", "1", "--store", url], ["reproduce", "--smoke", "--store", url, "--output", "out"],
                        ["merge", "--into", url, "shard.sqlite"], ["export", "--store", url]] {
            let r = try overparam(command, in: dir)
            #expect(r.status == 1 && r.stderr.hasPrefix("error: "), "\(command): \(r.stderr)")
            #expect(r.stderr.contains("127.0.0.1:1/none"), "\(command): \(r.stderr)")
        }
        let r = try overparam(emc("gaussian:64,4,2", ["--store", "sqlite://results.db"]), in: dir)
        #expect(r.status == 1 && r.stderr.contains("not a store"), "\(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(left.isEmpty || left == ["out"], "nothing named after a URL: \(left)")
    }

    @Test func nonFiniteInputsAndUnfitLabelsStopBeforeTraining() throws {
        let dir = try scratchFolder("inputs")
        try "0.5,0.25,1\n0.1,nan,0\n".write(toFile: dir + "/nan.csv", atomically: true, encoding: .utf8)
        let nan = try overparam(emc("csv:" + dir + "/nan.csv", arch: "mlp:2-3-2:relu", ["--no-store"]))
        #expect(nan.status == 1 && nan.stderr.contains("nan.csv") && !nan.stdout.contains("EMC "), "\(nan.stderr)")
        let labels = try overparam(emc("gaussian:60,4,3", arch: "mlp:4-8-2:relu", ["--no-store"]))
        #expect(labels.status == 1 && labels.stderr.contains("labels up to 2"), "\(labels.stderr)")
        #expect(!labels.stdout.contains("  seed 0  n"), "nothing trained: \(labels.stdout)")
    }

    @Test func aSweepIsCheckedWholeBeforeAnythingTrains() throws {
        let dir = try scratchFolder("sweep-check")
        try """
            instrument: emc
            fixed: {data: digits, optimizer: adam, lr: 0.01, batch-size: 0, steps: 50}
            axes:
              arch: [mlp:64-4-10:relu, mlp:3-4-10:relu]
            seeds: 1
            output: \(dir)/out
            """.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let dry = try overparam(["sweep", "run", dir + "/bad.yaml", "--dry-run"])
        #expect(dry.status == 1 && dry.stderr.contains("configuration 2 (arch=mlp:3-4-10:relu)"), "\(dry.stderr)")
        let run = try overparam(["sweep", "run", dir + "/bad.yaml", "--store", dir + "/store.sqlite"])
        #expect(run.status == 1 && run.stderr.contains("configuration 2"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/store.sqlite"), "configuration 1 was not trained")
    }

    /// Two sweep files in one run: both checked before anything trains (an error names its
    /// file), then on one pool, each line naming its file, each file's table written, and the
    /// configuration both share measured once.
    /// DIR/NAME.yaml: an EMC sweep over `archs` on a small Gaussian mixture, 2 seeds, its
    /// output in DIR/NAME; returns the file's path.
    func tinySweepFile(_ dir: String, _ name: String, _ archs: String) throws -> String {
        try """
            instrument: emc
            fixed: {data: "gaussian:96,4,3,1", optimizer: adam, lr: 0.03, batch-size: 0, steps: 150, start: 8}
            axes:
              arch: [\(archs)]
            seeds: 2
            output: \(dir)/\(name)
            """.write(toFile: dir + "/\(name).yaml", atomically: true, encoding: .utf8)
        return dir + "/\(name).yaml"
    }

    @Test func severalSweepFilesRunTogether() throws {
        let dir = try scratchFolder("two-sweeps")
        func file(_ name: String, _ archs: String) throws -> String { try tinySweepFile(dir, name, archs) }
        let a = try file("a", "mlp:4-6-3:tanh, mlp:4-3-3:relu"), b = try file("b", "mlp:4-3-3:relu, mlp:4-2-3:tanh")
        let bad = try overparam(["sweep", "run", a, try file("bad", "mlp:3-4-3:relu"), "--store", dir + "/store.sqlite"])
        #expect(bad.status == 1 && bad.stderr.contains("bad.yaml: configuration 1 (arch=mlp:3-4-3:relu)"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/store.sqlite"), "a.yaml was not trained")
        let run = try overparam(["sweep", "run", a, b, "--store", dir + "/store.sqlite"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        func emc(_ prefix: String) -> String? { lines.first { $0.hasPrefix(prefix) }?.components(separatedBy: ": EMC").last }
        let shared = emc("\(a) [2/2] arch=mlp:4-3-3:relu: EMC")
        #expect(shared != nil && shared == emc("\(b) [1/2] arch=mlp:4-3-3:relu: EMC"), "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("[\(a) 2]  seed 0  n") } && lines.contains { $0.hasPrefix("[\(b) 2]  seed 0  n") })
        #expect(!lines.contains { $0.hasPrefix("[\(b) 1]  seed") }, "the shared configuration's attempts ran under a.yaml alone")
        for name in ["a", "b"] {
            #expect(try String(contentsOfFile: dir + "/\(name)/results.csv", encoding: .utf8).split(separator: "\n").count == 3)
        }
        let status = try overparam(["sweep", "status", a, b, "--store", dir + "/store.sqlite"])
        #expect(status.status == 0 && status.stdout.components(separatedBy: "2 done, 0 running or interrupted, 0 left, of 2 configurations").count == 3
                && status.stdout.hasPrefix(a + ":\n") && status.stdout.contains("\n" + b + ":\n"), "\(status.stdout)")
    }

    /// `sweep submit` with several files: a bad configuration in the second queues nothing (the
    /// first is not left half-queued), and the error names its file; a configuration both files
    /// share is queued once; workers then drain the queue and `sweep run` writes both tables
    /// from it.
    @Test(.enabled(if: testPostgres != nil))
    func severalSweepFilesQueueTogether() throws {
        let dir = try scratchFolder("two-sweeps-queued")
        let (url, _) = freshQueue("submit")
        func file(_ name: String, _ archs: String) throws -> String { try tinySweepFile(dir, name, archs) }
        let a = try file("a", "mlp:4-6-3:tanh, mlp:4-3-3:relu"), b = try file("b", "mlp:4-3-3:relu, mlp:4-2-3:tanh")
        let bad = try overparam(["sweep", "submit", a, try file("bad", "mlp:3-4-3:relu"), "--store", url])
        #expect(bad.status == 1 && bad.stderr.contains("bad.yaml: configuration 1 (arch=mlp:3-4-3:relu)"), "\(bad.stderr)")
        let empty = try overparam(["sweep", "status", a, "--store", url])
        #expect(empty.stdout.contains("queue: 0 searches waiting or running (0 leased now), 0 done, 0 failed"), "\(empty.stdout)\(empty.stderr)")
        let submit = try overparam(["sweep", "submit", a, b, "--store", url])
        #expect(submit.status == 0, "\(submit.stderr)")
        #expect(submit.stdout.contains("4 searches queued, 0 already in the queue, from 2 configurations of \(a)\n")
                && submit.stdout.contains("2 searches queued, 2 already in the queue, from 2 configurations of \(b)\n")
                && submit.stdout.contains("`overparam sweep run \(a) \(b) --store URL`"), "\(submit.stdout)")
        let worker = try overparam(["worker", "--store", url, "--workers", "2"])
        #expect(worker.status == 0, "\(worker.stderr)")
        let tables = try overparam(["sweep", "run", a, b, "--store", url])
        #expect(tables.status == 0 && tables.stdout.contains("\(a) 0 searches queued, 4 already in the queue")
                && tables.stdout.contains("\(b) 0 searches queued, 4 already in the queue"), "\(tables.stdout)\(tables.stderr)")
        for name in ["a", "b"] {
            #expect(try String(contentsOfFile: dir + "/\(name)/results.csv", encoding: .utf8).split(separator: "\n").count == 3)
        }
    }

    /// A worker says which arithmetic it computes with — the one its searches are held to — and
    /// `OVERPARAM_SGEMM=openblas` changes it where Overparam's own sgemm would run.
    @Test(.enabled(if: testPostgres != nil))
    func aWorkerSaysWhichArithmeticItComputes() throws {
        let (url, _) = freshQueue("arith")
        func line(_ environment: [String: String]) throws -> String {
            let r = try overparam(["worker", "--store", url, "--workers", "1"], environment: environment)
            #expect(r.status == 0 && r.stdout.contains("\nno search left waiting: 0 attempts run"), "\(r.stdout)\(r.stderr)")
            return r.stdout.split(separator: "\n").first.map(String.init) ?? ""
        }
        let own = try line([:]), openblas = try line(["OVERPARAM_SGEMM": "openblas"])
        #expect(openblas.contains(", computing with ") && openblas.contains(" kernels, openblas sgemm, OpenBLAS "), "\(openblas)")
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx2") && flags.contains(" fma") {
            #expect((own.contains("avx2 sgemm") || own.contains("avx512 sgemm")) && own != openblas, "\(own)")
        }
    }

    /// A queued search held to another machine's arithmetic is not trained here: `sweep run
    /// --store URL` says how many wait for which arithmetic and stops, and so does `reproduce`,
    /// storing nothing.
    @Test(.enabled(if: testPostgres != nil))
    func searchesHeldToAnotherArithmeticAreNotTrainedHere() throws {
        let dir = try scratchFolder("held-elsewhere")
        let (url, schema) = freshQueue("held")
        let file = try tinySweepFile(dir, "s", "mlp:4-3-3:relu")
        #expect(try overparam(["sweep", "submit", file, "--store", url]).status == 0)
        // As if a worker of another machine had claimed both searches (psql, as another client).
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "-q", testPostgres!.components(separatedBy: "?").first! + "?sslmode=disable",
                          "-c", "UPDATE \(schema).searches SET arithmetic = 'another machine'"]
        try psql.run()
        psql.waitUntilExit()
        try #require(psql.terminationStatus == 0)
        let run = try overparam(["sweep", "run", file, "--store", url])
        #expect(run.status == 1 && run.stderr.contains("2 searches are held to workers of another arithmetic than this machine's"), "\(run.stderr)")
        #expect(run.stdout.contains("  2 held to workers computing with another machine\n"), "\(run.stdout)")
        let report = try overparam(["reproduce", "--smoke", "--store", url, "--output", dir + "/report"])
        #expect(report.status == 1 && report.stderr.contains("2 searches are held to workers of another arithmetic than this machine's"), "\(report.stderr)")
        let export = try overparam(["export", "--store", url])
        #expect(export.status == 0 && export.stdout.split(separator: "\n").count == 1, "only the header: \(export.stdout)")
    }

    /// `reproduce --sweeps DIR` writes the preset's sweep files and prints the one command that
    /// queues them all.
    @Test func reproduceSweepsPrintsOneSubmitForEveryFile() throws {
        let dir = try scratchFolder("reproduce-sweeps")
        let r = try overparam(["reproduce", "--sweeps", dir + "/sweeps"])
        #expect(r.status == 0, "\(r.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: dir + "/sweeps").filter { $0.hasSuffix(".yaml") }.sorted()
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(written.count > 1 && lines.count == 1 && lines[0].hasPrefix("overparam sweep submit ")
                && lines[0].hasSuffix(" --store postgres://USER@HOST/DATABASE"), "\(r.stdout)")
        let named = Set(lines[0].split(separator: " ").filter { $0.hasSuffix(".yaml") }.map { ($0 as NSString).lastPathComponent })
        #expect(named == Set(written), "\(named) against \(written)")
    }

    @Test func anOutputFolderThatCannotBeMadeStopsTheRunFirst() throws {
        let dir = try scratchFolder("output")
        try "not a folder".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        let r = try overparam(["recover", "--sizes", "2", "--no-store", "--output", dir + "/file/out"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("cannot create the output folder \(dir)/file/out"), "\(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("Error Domain"), "\(r.stderr)")
        #expect(!r.stdout.contains("Recovery"), "nothing ran: \(r.stdout)")
    }

    /// The new recovery and rank options: a bad value is a one-line error; the study's table and
    /// a gd-adaptive run's stop reasons are printed.
    @Test func recoveryAndRankStudyOptions() throws {
        let badMethod = try overparam(["recover", "--method", "gd-fast", "--no-store"])
        #expect(badMethod.status == 1 && badMethod.stderr.contains("use gd, sgd, adam or gd-adaptive"), "\(badMethod.stderr)")
        let dropout = try overparam(["recover", "--method", "gd-adaptive", "--dropout", "0.1", "--sizes", "2", "--seeds", "1", "--no-store"])
        #expect(dropout.status == 1 && dropout.stderr.contains("gd-adaptive needs a deterministic loss"), "\(dropout.stderr)")
        let run = try overparam(["recover", "--method", "gd-adaptive", "--steps", "50", "--sizes", "2,4", "--seeds", "1", "--no-store"])
        #expect(run.status == 0 && run.stdout.contains("runs: 2 at the step cap"), "\(run.stdout)")
        // Each trained student's tangent rank and condensation: printed, in the CSV and the figure.
        let dir = try scratchFolder("end-rank")
        let sgd = try overparam(["recover", "--method", "sgd", "--steps", "200", "--sizes", "2,8", "--seeds", "1", "--no-store", "--output", dir])
        #expect(sgd.status == 0 && sgd.stdout.contains("rank of the trained student's tangent matrix (σ > 1e-6·σ₁")
                && sgd.stdout.contains("holding 90% of its norm"), "\(sgd.stdout)")
        let csv = try String(contentsOfFile: dir + "/recovery.csv", encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",").map(String.init), row = csv[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rank = try #require(header.firstIndex(of: "rank_1e-6")), inputs = try #require(header.firstIndex(of: "spectrum_inputs"))
        #expect(row[inputs] == "70" && (Int(row[rank]) ?? 0) >= 1 && (Int(row[rank]) ?? 99) <= 60, "\(csv[1])")
        #expect(FileManager.default.fileExists(atPath: dir + "/recovery-rank.svg"))
        // An EMC search's largest fit, measured: printed per seed and in the JSON.
        let emc = try overparam(["emc", "--data", "gaussian:80,4,2", "--arch", "mlp:4-6-2:tanh", "--optimizer", "adam", "--lr", "0.05",
                                 "--batch-size", "0", "--steps", "300", "--start", "16", "--no-store", "--end-rank"])
        #expect(emc.status == 0 && emc.stdout.contains("tangent rank of each seed's largest fit") && emc.stdout.contains("2 classes stacked"), "\(emc.stdout)")
        let emcJSON = try overparam(["emc", "--data", "gaussian:80,4,2", "--arch", "mlp:4-6-2:tanh", "--optimizer", "adam", "--lr", "0.05",
                                     "--batch-size", "0", "--steps", "300", "--start", "16", "--no-store", "--end-rank", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(emcJSON.stdout.utf8)) as? [String: Any]
        let first = (object?["end_rank"] as? [[String: Any]])?.first
        #expect(first?["parameters"] as? Int == 44 && (first?["stacked_rank_1e-6"] as? Int ?? 0) >= 1, "\(emcJSON.stdout)")
        // The adaptive kernel on samples: a table with a slope per method, and its files.
        let kdir = try scratchFolder("kernel")
        let kernel = try overparam(["adapt", "kernel", "--cutoff", "3", "--n", "40,80", "--reps", "2", "--t-max", "100", "--output", kdir, "--no-store"])
        #expect(kernel.status == 0 && kernel.stdout.contains("adaptive D=2") && kernel.stdout.contains("outside the basis"), "\(kernel.stdout)")
        #expect(["kernel.json", "kernel-rates.svg", "kernel-time.svg"].allSatisfy { FileManager.default.fileExists(atPath: kdir + "/" + $0) })
        // On a CSV a user writes: the table, what the kernel learned, the files, and a store beside it.
        var wave = "x1,x2,y\n"
        for i in 0..<150 { wave += "\(Double(i % 15) * 0.7),\(Double(i / 15) * 1.3),\(sin(0.9 * Double(i % 15)))\n" }
        try wave.write(toFile: kdir + "/wave.csv", atomically: true, encoding: .utf8)
        let onData = try overparam(["adapt", "kernel", "--data", "csv:wave.csv", "--cutoff", "3", "--splits", "2", "--t-max", "100", "--output", "d"], in: kdir)
        #expect(onData.status == 0 && onData.stdout.contains("150 samples in 2 dimension(s)") && onData.stdout.contains("adaptive D=2 grew most"), "\(onData.stdout)\(onData.stderr)")
        #expect(["kernel-data.json", "kernel-data.csv", "kernel-data-weights.svg", "kernel-data-time.svg"].allSatisfy { FileManager.default.fileExists(atPath: kdir + "/d/" + $0) })
        let resumed = try overparam(["adapt", "kernel", "--data", "csv:wave.csv", "--cutoff", "3", "--splits", "2", "--t-max", "100"], in: kdir)
        #expect(resumed.status == 0 && resumed.stdout.contains("2 of 2 splits read from overparam-results.sqlite"), "\(resumed.stdout)")
        let additive = try overparam(["adapt", "kernel", "--data", "csv:wave.csv", "--order", "1", "--splits", "2", "--t-max", "100", "--no-store"], in: kdir)
        #expect(additive.status == 0 && additive.stdout.contains("33 Fourier functions (cutoff 8, order 1)"), "\(additive.stdout)\(additive.stderr)")
        let tooHigh = try overparam(["adapt", "kernel", "--data", "csv:wave.csv", "--order", "3", "--no-store"], in: kdir)
        #expect(tooHigh.status == 1 && tooHigh.stderr.contains("the order must be from 1 to the data's 2 input(s)"), "\(tooHigh.stderr)")
        let orderAlone = try overparam(["adapt", "kernel", "--order", "1", "--no-store"], in: kdir)
        #expect(orderAlone.status == 1 && orderAlone.stderr.contains("--order goes with --data"), "\(orderAlone.stderr)")
        let splitsAlone = try overparam(["adapt", "kernel", "--splits", "3", "--no-store"], in: kdir)
        #expect(splitsAlone.status == 1 && splitsAlone.stderr.contains("--splits goes with --data"), "\(splitsAlone.stderr)")
        let mixed = try overparam(["adapt", "kernel", "--data", "csv:wave.csv", "--omega", "3"], in: kdir)
        #expect(mixed.status == 1 && mixed.stderr.contains("--omega sets the sine target"), "\(mixed.stderr)")
        let missing = try overparam(["adapt", "kernel", "--data", "csv:nothing.csv", "--no-store"], in: kdir)
        #expect(missing.status == 1 && missing.stderr.contains("nothing.csv") && missing.stderr.contains("no such file"), "\(missing.stderr)")
        let badKernel = try overparam(["adapt", "kernel", "--step-fraction", "1.5"])
        #expect(badKernel.status == 1 && badKernel.stderr.contains("step fraction"), "\(badKernel.stderr)")
        let badStudy = try overparam(["rank", "--study", "wide"])
        #expect(badStudy.status == 1 && badStudy.stderr.contains("the study is 'deep'"), "\(badStudy.stderr)")
        let seeds = try overparam(["rank", "--seeds", "2"])
        #expect(seeds.status == 1 && seeds.stderr.contains("--seeds goes with --study"), "\(seeds.stderr)")
        let study = try overparam(["rank", "--study", "deep", "--seeds", "1"])
        #expect(study.status == 0 && study.stdout.contains("tanh, no biases: of 10 teachers 10 at the bound"), "\(study.stdout)")
    }
}
