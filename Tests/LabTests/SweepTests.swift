import Capacity
import Foundation
import GRDB
import Lab
import Testing

@Suite struct SweepTests {
    /// Every sweep file the repository ships parses, and each configuration's data loads and
    /// fits its model (what `sweep run` checks before training anything).
    @Test func theShippedSweepFilesAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("sweeps").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 8)
        for f in files {
            let spec = try SweepSpec.parse(String(contentsOfFile: dir + "/" + f, encoding: .utf8), file: f)
            #expect(!spec.configurations.isEmpty, "\(f)")
            #expect(throws: Never.self, "\(f)") { try spec.validateConfigurations() }
        }
    }

    /// A configuration whose search throws — here its store refuses it, as a full disk or a lost
    /// server would — ends a sweep with its error; with `keepGoing` (as `overparam reproduce` and
    /// `sweep run` run their sweeps) it is listed as failed and the others are measured. A
    /// configuration that diverges is no such failure: it is measured, and its row says so.
    @Test func aFailingConfigurationFailsAloneWhenTheSweepKeepsGoing() throws {
        let yaml = """
        instrument: emc
        fixed: {data: "gaussian:64,4,3,3", arch: "mlp:4-8-3:relu", optimizer: sgd, batch-size: 0, steps: 50, start: 8}
        axes:
          lr: [0.05, 1e9, 0.2]
        seeds: 1
        output: \(FileManager.default.temporaryDirectory.path)/overparam-diverge-\(getpid())
        """
        let spec = try SweepSpec.parse(yaml, file: "d.yaml")
        let store = RefusingStore(try ResultStore(path: temporaryStore("refusing.sqlite")), refusing: ("lr", "0.2"))
        do {
            _ = try runSweep(spec, store: store)
            Issue.record("a sweep with a failing configuration finished without an error")
        } catch {
            #expect("\(error)".contains("refused"), "\(error)")
        }
        let outcome = try runSweep(spec, store: store, keepGoing: true)
        #expect(outcome.rows.map { $0.settings["lr"] } == ["0.05", "1e9"] && outcome.rows[0].report.mean > 0)
        #expect(outcome.failed.count == 1 && outcome.failed[0].label.contains("0.2") && outcome.failed[0].error.contains("refused"), "\(outcome.failed)")
        let diverging = outcome.rows[1].report
        #expect(diverging.diverged == 1 && diverging.status == "diverged" && diverging.searches[0].attempts.filter { $0.verdict != .fit }.allSatisfy { $0.verdict == .diverged })
        let csv = try String(contentsOfFile: spec.output + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasSuffix(",collapsed,diverged") && csv[2].hasPrefix("1e9,") && csv[2].contains(",diverged,") && csv[2].hasSuffix(",0,1"), "\(csv)")
        // Every configuration failing leaves an empty table, not a crash.
        var all = spec
        all.axes = [(name: "lr", values: ["0.2"])]
        let none = try runSweep(all, store: store, keepGoing: true)
        #expect(none.rows.isEmpty && none.failed.count == 1)
    }

    @Test func parsesAndExpandsTheProduct() throws {
        let yaml = """
        instrument: emc
        fixed:
          data: gaussian:200,3,3,2
          optimizer: adam
          lr: 0.03
          batch-size: 0
          steps: 150
          start: 16
        axes:
          arch: [mlp:3-2-3:relu, mlp:3-8-3:relu]
          condition: [true, random-labels]
        seeds: 2
        output: \(FileManager.default.temporaryDirectory.path)/overparam-sweep-\(getpid())
        """
        let spec = try SweepSpec.parse(yaml, file: "s.yaml")
        let c = spec.configurations
        #expect(c.count == 4 && c.allSatisfy { $0["seeds"] == "2" && $0["optimizer"] == "adam" })
        #expect(c.map { "\($0["arch"]!) \($0["condition"]!)" } == [
            "mlp:3-2-3:relu true", "mlp:3-2-3:relu random-labels", "mlp:3-8-3:relu true", "mlp:3-8-3:relu random-labels"])

        let rows = try runSweep(spec, store: nil).rows
        #expect(rows.count == 4)
        // More hidden units fit at least as many samples, label by label.
        #expect(rows[2].report.mean >= rows[0].report.mean)
        let csv = try String(contentsOfFile: spec.output + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 5 && csv[0].hasPrefix("arch,condition,parameters,emc_mean"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spec.output + "/results.json"))) as? [[String: Any]]
        #expect(json?.count == 4)
        let svg = try String(contentsOfFile: spec.output + "/emc-vs-parameters.svg", encoding: .utf8)
        let parsed = try #require(parseSVG(svg))
        // Measurements as dots, lower bounds (censored or budget-bounded) as hollow triangles.
        let bounds = svg.components(separatedBy: "class=\"lower-bound\"").count - 1
        #expect((parsed.counts["circle"] ?? 0) + bounds >= 4)
        #expect((bounds > 0) == rows.contains { !$0.report.isMeasured })
    }

    @Test func zippedAxesVaryTogetherAfterTheAxes() throws {
        let yaml = """
        instrument: emc
        fixed: {data: digits}
        axes:
          condition: [true, random-labels]
        zip:
          - arch: [mlp:64-2-10:relu, mlp:64-4-10:relu, mlp:64-8-10:relu]
            lr: [0.1, 0.03, 0.01]
          - steps: [100, 200]
            optimizer: [sgd, adam]
        output: o
        """
        let spec = try SweepSpec.parse(yaml, file: "s.yaml")
        let c = spec.configurations
        #expect(c.count == 2 * 3 * 2)
        #expect(spec.varying == ["condition", "arch", "lr", "steps", "optimizer"])
        #expect(spec.label(c[0]) == "condition=true arch=mlp:64-2-10:relu lr=0.1 steps=100 optimizer=sgd")
        #expect(spec.label(c[3]) == "condition=true arch=mlp:64-4-10:relu lr=0.03 steps=200 optimizer=adam")
        #expect(spec.label(c[11]) == "condition=random-labels arch=mlp:64-8-10:relu lr=0.01 steps=200 optimizer=adam")
        // Only the zipped pairs occur: no configuration pairs the widest net with lr 0.1.
        #expect(!c.contains { $0["arch"] == "mlp:64-8-10:relu" && $0["lr"] != "0.01" })
    }

    @Test(arguments: [
        ("instrument: emc\noutput: o\nfixed:\n  lr: 0.1\n  colour: red\n", "s.yaml:5", "unknown setting 'colour'"),
        ("instrument: emc\noutput: o\nwhat: 1\n", "s.yaml:3", "unknown key 'what'"),
        ("instrument: emc\noutput: o\naxes:\n  arch: mlp:2-2\n", "s.yaml:4", "must be a non-empty list"),
        ("instrument: emc\noutput: o\naxes:\n  optimizer: [sgd, lbfgs]\n", "s.yaml:4", "optimizer = 'lbfgs'"),
        ("instrument: rank\noutput: o\n", "s.yaml:1", "is not supported; use emc, recovery, adapt"),
        ("output: o\n", "s.yaml", "missing 'instrument'"),
        ("instrument: emc\noutput: o\nseeds: zero\n", "s.yaml:3", "seeds must be an integer"),
        ("instrument: emc\noutput: o\nfixed: {lr: 0.1}\naxes: {lr: [0.1, 0.2]}\n", "s.yaml", "both fixed and an axis"),
        ("instrument: [emc\n", "s.yaml", "not valid YAML"),
        ("instrument: emc\noutput: o\nzip:\n  arch: [mlp:2-2, mlp:2-3-2]\n  lr: [0.1]\n", "s.yaml:4", "equal lengths: 'arch' has 2, 'lr' 1"),
        ("instrument: emc\noutput: o\nzip:\n  lr: [0.1, fast]\n", "s.yaml:4", "lr = 'fast'"),
        ("instrument: emc\noutput: o\naxes: {lr: [0.1]}\nzip: {lr: [0.2], arch: [mlp:2-2]}\n", "s.yaml", "axis 'lr' given twice"),
        ("instrument: emc\noutput: o\nzip: []\n", "s.yaml:3", "'zip' must be a mapping"),
        ("instrument: recovery\noutput: o\nfixed: {arch: mlp:2-2}\n", "s.yaml:3", "unknown setting 'arch' in fixed; known for recovery"),
        ("instrument: recovery\noutput: o\naxes:\n  method: [gd, rmsprop]\n", "s.yaml:4", "method = 'rmsprop'"),
        ("output: o\naxes:\n  gamma: [1.5, 0.5]\ninstrument: adapt\n", "s.yaml:3", "gamma must exceed 1"),
        ("instrument: adapt\noutput: o\nseeds: 3\n", "s.yaml:3", "takes 'reps' and 'seed' settings"),
        ("instrument: adapt\noutput: o\ngeneralization: 10\n", "s.yaml:3", "'generalization' is for emc sweeps"),
    ])
    func errorsNameKeyAndLine(yaml: String, location: String, phrase: String) {
        do {
            _ = try SweepSpec.parse(yaml, file: "s.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            let m = "\(error)"
            #expect(m.contains(location) && m.contains(phrase), "\(m)")
        }
    }
}

@Suite struct GeneralizationTests {
    @Test func heldOutAccuracyAndTheGapStudy() throws {
        let out = "\(FileManager.default.temporaryDirectory.path)/overparam-gap-\(getpid())"
        let yaml = """
        instrument: emc
        fixed: {data: "gaussian:240,4,3,3", optimizer: adam, lr: 0.03, batch-size: 0, steps: 200, start: 16}
        axes:
          arch: [mlp:4-1-3:relu, mlp:4-3-3:relu, mlp:4-12-3:relu]
          condition: [true, random-labels]
        seeds: 1
        generalization: 120
        output: \(out)
        """
        let spec = try SweepSpec.parse(yaml, file: "g.yaml")
        #expect(spec.generalizationSize == 120)
        let outcome = try runSweep(spec, store: nil)
        let study = try #require(outcome.gap, "a sweep with generalization: N returns its study")
        #expect(study.points.count == 3)
        #expect(study.points.allSatisfy { $0.testAccuracy > 0.5 && $0.testAccuracy <= 1 })
        // At 200 steps every search ends on an undecided attempt or fits all 240 samples: no EMC
        // is a converged measurement. Budget-bounded pairs (one cap) are the capped procedure's
        // EMCs and are correlated, marked so; a pair with a censored EMC is not a number.
        func censored(_ label: String) -> Bool { outcome.rows.contains { $0.settings["arch"].map { label.contains($0) } == true && $0.report.censored > 0 } }
        #expect(study.points.allSatisfy { !$0.measured && $0.comparable == !censored($0.label) })
        #expect(study.atCap == study.correlated.count && study.correlated.count == study.points.filter { !censored($0.label) }.count)
        let lines = try String(contentsOfFile: out + "/generalization.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5 && lines[4].hasPrefix("# EMC gap vs generalization gap over \(study.correlated.count) configurations"))
        for (line, p) in zip(lines[1...3], study.points) {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(f[6] == "false" && f[7] == "\(p.comparable)" && (f[3] == "") == !p.comparable, "\(line)")
        }
        #expect(FileManager.default.fileExists(atPath: out + "/emc-gap-vs-generalization.svg") == (study.correlated.count >= 2))
        // Well-separated clusters: the widest net generalizes at 120 samples.
        #expect(study.points[2].testAccuracy > 0.9 && abs(study.points[2].generalizationGap) < 0.1)

        // The same configurations with measured EMCs (each search ends on a converged failure):
        // every point is correlated, and the figure is drawn.
        func measured(_ emc: Int) -> EMCReport {
            EMCReport(arch: "mlp", parameters: 10, searches: [EMCSearch(seed: 0, attempts: [
                FitResult(n: emc, seed: 0, verdict: .fit, trainLoss: 0, trainAccuracy: 1, gradientNorm: 0, steps: 1, seconds: 0),
                FitResult(n: emc + 1, seed: 0, verdict: .noFit, trainLoss: 1, trainAccuracy: 0.9, gradientNorm: 0, steps: 1, seconds: 0)],
                emc: emc, firstFailure: emc + 1)])
        }
        let rows = spec.configurations.enumerated().map { i, c in SweepRow(settings: c, report: measured(c["condition"] == "true" ? 100 + 40 * i : 30)) }
        let decided = try relateGapToGeneralization(spec, rows, trainSize: 120)
        #expect(decided.correlated.count == 3 && decided.kendallGap != nil)
        #expect(decided.points.map { $0.emcGap } == [70, 150, 230])
        #expect(parseSVG(try String(contentsOfFile: out + "/emc-gap-vs-generalization.svg", encoding: .utf8)) != nil)
    }

    @Test func theStudysRunsAreStoredAndReadBack() throws {
        let out = "\(FileManager.default.temporaryDirectory.path)/overparam-gap-store-\(getpid())"
        let spec = try SweepSpec.parse("""
            instrument: emc
            fixed: {data: "gaussian:240,4,3,3", optimizer: adam, lr: 0.03, batch-size: 0, steps: 200, start: 16}
            axes:
              arch: [mlp:4-1-3:relu, mlp:4-12-3:relu]
              condition: [true, random-labels]
            seeds: 2
            generalization: 120
            output: \(out)
            """, file: "g.yaml")
        let path = temporaryStore("gap-store.sqlite")
        let first = try #require(try runSweep(spec, store: ResultStore(path: path)).gap)
        let stored = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM generalization_runs") }
        #expect(stored == 2 * 2, "one run per architecture and seed, under true labels")
        #expect(try runSweep(spec, store: ResultStore(path: path)).gap?.points.map(\.testAccuracy) == first.points.map(\.testAccuracy))
        // A re-run reads the runs back rather than training them: a changed row shows through.
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE generalization_runs SET test_accuracy = 0.25") }
        let again = try #require(try runSweep(spec, store: ResultStore(path: path)).gap)
        #expect(again.points.allSatisfy { $0.testAccuracy == 0.25 })
    }

    /// A configuration whose EMCs are measured but whose generalization training diverges is
    /// left out of the study, which says so, rather than ending the sweep after its searches.
    @Test func aDivergingGeneralizationRunIsLeftOutOfTheStudy() throws {
        let out = "\(FileManager.default.temporaryDirectory.path)/overparam-gap-diverged-\(getpid())"
        let spec = try SweepSpec.parse("""
            instrument: emc
            fixed: {data: "gaussian:200,4,3,1.5", arch: "mlp:4-16-16-3:linear", optimizer: sgd, batch-size: 0, steps: 100, schedule: constant, start: 8}
            axes:
              lr: [0.05, 1]
              condition: [true, random-labels]
            seeds: 2
            generalization: 50
            output: \(out)
            """, file: "g.yaml")
        let outcome = try runSweep(spec, store: nil)
        #expect(outcome.rows.count == 4 && outcome.rows.filter { $0.settings["lr"] == "1" }.allSatisfy { $0.report.diverged == 2 })
        let study = try #require(outcome.gap)
        #expect(study.points.map(\.label) == ["lr=0.05"] && study.diverged == ["lr=1"], "\(study.points.map(\.label)) \(study.diverged)")
        #expect(study.summary.contains("(1 left out: generalization training diverged)"), "\(study.summary)")
        let csv = try String(contentsOfFile: out + "/generalization.csv", encoding: .utf8)
        #expect(csv.contains("# left out, its generalization training diverged: lr=1\n"), "\(csv)")
    }

    @Test func needsBothConditions() {
        let yaml = "instrument: emc\noutput: o\ngeneralization: 10\naxes:\n  condition: [true]\n"
        #expect(throws: ExperimentError.self) { try SweepSpec.parse(yaml) }
    }
}

/// A store that refuses the experiments of configurations with one setting, as a full disk or a
/// lost server fails a search part-way through a sweep.
final class RefusingStore: Store, @unchecked Sendable {
    struct Refused: Error, CustomStringConvertible { var description: String { "the store refused the experiment" } }
    let inner: ResultStore
    let refusing: (name: String, value: String)
    init(_ inner: ResultStore, refusing: (String, String)) { self.inner = inner; self.refusing = refusing }
    var location: String { inner.location }
    func cache(instrument: String, config: [String: String], description: [String: String]) throws -> any ExperimentCache {
        if config[refusing.name] == refusing.value { throw Refused() }
        return try inner.cache(instrument: instrument, config: config, description: description)
    }
    func arithmetics() throws -> [ArithmeticCount] { try inner.arithmetics() }
}
