import ArgumentParser
import Capacity
import Datasets
import Foundation
import Lab
import Linalg

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a sweep file, see where it stands, run one shard of it, or queue it for workers.",
        subcommands: [Run.self, Status.self, Submit.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the product of a sweep file's axes; write results.csv, results.json and the figures to its output folder.")
        @OptionGroup var options: SweepRunOptions
        func run() throws { options.execute() }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Done / running / left per configuration, from the store alone (nothing is trained).")
        @Argument(help: "The sweep files (YAML).") var files: [String]
        @Option(help: "The result store: a SQLite file or a postgres:// URL.") var store: String = "overparam-results.sqlite"

        func run() throws {
            do {
                guard !files.isEmpty else { throw ExperimentError("name at least one sweep file") }
                let specs = try files.map(loadSweep)
                let opened = try openStore(store, readOnly: true)
                for (file, spec) in zip(files, specs) {
                    if files.count > 1 { print(file + ":") }
                    let rows = try sweepStatus(spec, store: opened)
                    for (i, r) in rows.enumerated() {
                        print(String(format: "%4d  %-7@ %d/%d seeds done, %d attempts  %@", i + 1, r.state, r.done, r.seeds, r.attempts, r.label))
                    }
                    let count = { (s: String) in rows.filter { $0.state == s }.count }
                    print("\(count("done")) done, \(count("running")) running or interrupted, \(count("left")) left, of \(rows.count) configurations")
                }
                if let pg = opened as? PostgresStore { printQueue(try pg.queueStatus()) }
            } catch { fail(error) }
        }
    }

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue sweeps' searches in a PostgreSQL store for `overparam worker` on any number of machines.")
        @Argument(help: "The sweep files (YAML); every file is checked, and all are queued in one transaction, before any worker can start.")
        var files: [String]
        @Option(help: "The PostgreSQL store, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME].") var store: String

        func run() throws {
            do {
                guard !files.isEmpty else { throw ExperimentError("name at least one sweep file") }
                let specs = try files.map(loadSweep)
                // Checked as `sweep run` checks them (settings, data, model) before anything is
                // queued: a bad configuration would otherwise fail on every worker that claims it.
                for (file, spec) in zip(files, specs) {
                    do {
                        try spec.checkQueueable()
                        _ = try spec.validateConfigurations()
                    } catch where files.count > 1 { throw ExperimentError(file + ": " + plainMessage(error)) }
                }
                guard let pg = try openStore(store) as? PostgresStore else {
                    throw ExperimentError("--store '\(store)': submit needs a postgres:// URL; for a SQLite file use `overparam sweep run`")
                }
                let counts = try pg.submit(specs)
                for (f, (added, present)) in counts.enumerated() {
                    print("\(added) searches queued, \(present) already in the queue, from \(specs[f].configurations.count) configurations of \(files[f])")
                }
                let all = files.joined(separator: " ")
                print("start workers with `overparam worker --store URL`; `overparam sweep run \(all) --store URL` writes the tables once they are done")
            } catch { fail(error) }
        }
    }
}

/// Searches of a queue held to another arithmetic than this machine's: a command that would
/// train their next attempts here (mixing two kernel paths in one search) stops with this.
func heldElsewhereError(_ count: Int) -> ExperimentError {
    ExperimentError("\(count) searches are held to workers of another arithmetic than this machine's (\(Engine.arithmetic)); once workers of theirs have finished them (`overparam worker --store URL` on such a machine; `sweep status` shows the queue), run this command again")
}

/// The queue's counts, its live leases and its failures.
func printQueue(_ q: QueueStatus) {
    print("queue: \(q.queued) searches waiting or running (\(q.leased) leased now), \(q.done) done, \(q.failed) failed")
    for l in q.leases {
        print(String(format: "  leased to %@ for %.0f s more: %@ seed %llu", l.worker, l.secondsLeft, l.label, l.seed))
    }
    for f in q.failures { print("  FAILED \(f.label) seed \(f.seed): \(f.error)") }
    // Only where a search waits for a worker unlike this machine's, as the one thing to act on.
    if q.heldElsewhere(than: Engine.arithmetic) > 0 {
        for h in q.held {
            print("  \(h.searches) held to workers computing with \(h.arithmetic)" + (h.arithmetic == Engine.arithmetic ? " (as this machine)" : ""))
        }
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine shard stores into one, each result once; then `sweep run --store` on it writes the tables without training.")
    @Option(help: "The store to merge into: a SQLite file (created if missing) or a postgres:// URL.") var into: String
    @Argument(help: "Shard store files, or postgres:// URLs (their results are copied in the same way).") var files: [String]

    func run() throws {
        do {
            guard !files.isEmpty else { throw ExperimentError("name at least one store file to merge") }
            let target = try openStore(into)
            for f in files {
                let source = try openStore(f, readOnly: true)
                let s: MergeSummary
                switch (target, source) {
                case let (sqlite as ResultStore, pg as PostgresStore): s = try sqlite.merge(from: pg)
                case let (sqlite as ResultStore, _): s = try sqlite.merge(from: f)
                case let (pg as PostgresStore, _ as ResultStore): s = try pg.merge(from: f)
                default: throw ExperimentError("\(f): merging one PostgreSQL store into another is not supported; export one to SQLite first (`merge --into FILE URL`)")
                }
                print("\(f): \(s.added) results added, \(s.duplicates) already present" + (s.conflicts > 0 ? ", \(s.conflicts) CONFLICTING (kept the existing ones)" : ""))
            }
        } catch { fail(error) }
    }
}

func loadSweep(_ file: String) throws -> SweepSpec {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ExperimentError("cannot read \(file)") }
    return try SweepSpec.parse(text, file: file)
}

struct SweepRunOptions: ParsableArguments {
    @Argument(help: "The sweep files (YAML). Several EMC sweeps share one pool of workers: a core freed by one file's last search takes the next file's first.")
    var files: [String]
    @Option(help: "Result store shared by every configuration: a SQLite file, or a postgres:// URL (the sweep is queued there and this process works on it beside any `overparam worker`).")
    var store: String = "overparam-results.sqlite"
    @Option(help: "Run only shard i of N (0 ≤ i < N): configurations k with k mod N = i, e.g. $SLURM_ARRAY_TASK_ID/N; give each shard its own --store and `overparam merge` them.")
    var shard: String?
    @Flag(help: "Only validate the files and list the configurations.") var dryRun = false

    func execute() {
        do {
            guard !files.isEmpty else { throw ExperimentError("name at least one sweep file") }
            let specs = try files.map(loadSweep)
            let shard = try self.shard.map(Shard.init)
            // Every sweep is checked before anything trains (and by --dry-run): every
            // configuration's settings, data and model.
            // With several files, each line (and error) names its file.
            let several = files.count > 1
            func named(_ f: Int) -> String { several ? files[f] + " " : "" }
            var datasets = [String: LabeledData<Float>]()
            for (f, spec) in specs.enumerated() {
                do { datasets.merge(try spec.validateConfigurations()) { loaded, _ in loaded } } catch where several {
                    throw ExperimentError(files[f] + ": " + plainMessage(error))
                }
            }
            if dryRun {
                for (f, spec) in specs.enumerated() {
                    for i in spec.owned(by: shard) { print(named(f) + "\(i + 1): " + spec.label(spec.configurations[i])) }
                }
                return
            }
            if shard == nil { for spec in specs { try prepareOutputFolder(spec.output) } }
            let started = DispatchTime.now().uptimeNanoseconds
            let opened = try openStore(store)
            if let pg = opened as? PostgresStore {
                guard shard == nil else {
                    throw ExperimentError("--shard slices a sweep into SQLite files; with a PostgreSQL store start `overparam worker` on each machine instead")
                }
                for (f, (added, present)) in try pg.submit(specs).enumerated() {
                    print(named(f) + "\(added) searches queued, \(present) already in the queue")
                }
                print("working on the queue until every search is finished")
                var options = WorkerOptions(name: workerName())
                options.threads = ProcessInfo.processInfo.activeProcessorCount
                let worked = try runWorker(store: pg, options: options) { print($0); fflush(stdout) }
                let q = try pg.queueStatus()
                if q.failed > 0 || worked.heldElsewhere > 0 { printQueue(q) }
                // The tables would otherwise train those searches' next attempts here.
                if worked.heldElsewhere > 0 { throw heldElsewhereError(worked.heldElsewhere) }
            }
            let owned = specs.map { $0.owned(by: shard).count }
            let bar = ProgressBar(total: owned.reduce(0, +), unit: "configurations")
            var rows = [Int](repeating: 0, count: specs.count), failed = specs.map { _ in [(label: String, error: String)]() }
            // The EMC sweeps on one pool. A configuration that fails with an error (a divergence
            // is a verdict, not an error) does not stop the others; the run names it and exits
            // with an error at the end.
            let emc = specs.indices.filter { specs[$0].kind == .emc }
            var attempts = 0, before = 0
            if !emc.isEmpty {
                // Configurations overlap (a free core starts the next one), so each attempt line
                // names its configuration (and its file, when there are several).
                let outcomes = try runSweeps(emc.map { specs[$0] }, store: opened, shard: shard, datasets: datasets, keepGoing: true,
                                             log: { s, line in bar.print(named(emc[s]) + line) },
                                             finished: { k, _ in bar.update(done: k) }) { s, k, seed, r, lo, hi, replayed in
                    attempts += 1
                    bar.print("[\(named(emc[s]))\(k + 1)]" + attemptLine(seed, r, lo, hi, since: started, replayed: replayed))
                    bar.update(detail: "\(attempts) attempts")
                }
                for (s, outcome) in outcomes.enumerated() { rows[emc[s]] = outcome.rows.count; failed[emc[s]] = outcome.failed }
                before = emc.map { owned[$0] }.reduce(0, +)
            }
            // Recovery and rate sweeps, one file after another.
            for (f, spec) in specs.enumerated() where spec.kind != .emc {
                let done: (Int, Int) -> Void = { k, _ in bar.update(done: before + k) }
                let log: (String) -> Void = { bar.print(named(f) + $0) }
                rows[f] = spec.kind == .recovery
                    ? try runRecoverySweep(spec, store: opened, shard: shard, log: log, finished: done).count
                    : try runRateSweep(spec, store: opened, shard: shard, log: log, finished: done).count
                before += owned[f]
            }
            bar.finish()
            for (f, spec) in specs.enumerated() {
                if let shard {
                    print(named(f) + "shard \(shard.index)/\(shard.count): \(rows[f]) of \(spec.configurations.count) configurations in \(store); merge the shards, then `overparam sweep run \(files[f]) --store MERGED` writes the tables")
                } else {
                    print(named(f) + "\(rows[f]) configurations; tables and figures in \(spec.output)/")
                }
            }
            let failures = specs.indices.flatMap { f in failed[f].map { named(f) + "\($0.label): \($0.error)" } }
            if !failures.isEmpty {
                throw ExperimentError("\(failures.count) of \(owned.reduce(0, +)) configurations failed and are left out of the tables: "
                                      + failures.joined(separator: "; "))
            }
        } catch { fail(error) }
    }
}
