import ArgumentParser
import Capacity
import Foundation
import Lab

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a sweep file, see where it stands, or run one shard of it.",
        subcommands: [Run.self, Status.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the product of a sweep file's axes; write results.csv, results.json and the figures to its output folder.")
        @OptionGroup var options: SweepRunOptions
        func run() throws { options.execute() }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Done / running / left per configuration, from the store alone (nothing is trained).")
        @Argument(help: "The sweep file (YAML).") var file: String
        @Option(help: "SQLite result store.") var store: String = "overparam-results.sqlite"

        func run() throws {
            do {
                let spec = try loadSweep(file)
                guard FileManager.default.fileExists(atPath: store) else { throw ExperimentError("no store at \(store): nothing has run yet") }
                let rows = try sweepStatus(spec, store: ResultStore(path: store))
                for (i, r) in rows.enumerated() {
                    print(String(format: "%4d  %-7@ %d/%d seeds done, %d attempts  %@", i + 1, r.state, r.done, r.seeds, r.attempts, r.label))
                }
                let count = { (s: String) in rows.filter { $0.state == s }.count }
                print("\(count("done")) done, \(count("running")) running or interrupted, \(count("left")) left, of \(rows.count) configurations")
            } catch { fail(error) }
        }
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine shard stores into one, each result once; then `sweep run --store` on it writes the tables without training.")
    @Option(help: "The store to merge into (created if missing).") var into: String
    @Argument(help: "Shard store files.") var files: [String]

    func run() throws {
        do {
            guard !files.isEmpty else { throw ExperimentError("name at least one store file to merge") }
            let target = try ResultStore(path: into)
            for f in files {
                let s = try target.merge(from: f)
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
    @Argument(help: "The sweep file (YAML).") var file: String
    @Option(help: "SQLite result store shared by every configuration.") var store: String = "overparam-results.sqlite"
    @Option(help: "Run only shard i of N (0 ≤ i < N): configurations k with k mod N = i, e.g. $SLURM_ARRAY_TASK_ID/N; give each shard its own --store and `overparam merge` them.")
    var shard: String?
    @Flag(help: "Only validate the file and list the configurations.") var dryRun = false

    func execute() {
        do {
            let spec = try loadSweep(file)
            let shard = try self.shard.map(Shard.init)
            if dryRun {
                for (i, c) in spec.configurations.enumerated() where shard?.owns(i) ?? true { print("\(i + 1): " + spec.label(c)) }
                return
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let rows = try runSweep(spec, store: try ResultStore(path: store), shard: shard, log: { print($0); fflush(stdout) }) { seed, r, lo, hi in
                printAttempt(seed, r, lo, hi, since: started)
            }
            if let shard {
                print("shard \(shard.index)/\(shard.count): \(rows.count) of \(spec.configurations.count) configurations in \(store); merge the shards, then `overparam sweep run \(file) --store MERGED` writes the tables")
            } else {
                print("\(rows.count) configurations; tables and figure in \(spec.output)/")
            }
        } catch { fail(error) }
    }
}
