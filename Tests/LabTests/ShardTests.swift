import Foundation
import GRDB
import Lab
import Testing

@Suite struct ShardTests {
    let yaml = """
        instrument: emc
        fixed: {data: digits, optimizer: adam, lr: 0.01, batch-size: 0, steps: 60, schedule: constant, start: 16}
        axes:
          arch: [mlp:64-2-10:relu, mlp:64-3-10:relu, mlp:64-4-10:relu]
          condition: [true, random-labels]
        seeds: 1
        output: unused
        """

    func outcomes(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { d in
            try String.fetchAll(d, sql: "SELECT experiment || '|' || seed || '|' || n || '|' || verdict || '|' || train_loss || '|' || steps FROM attempts ORDER BY 1")
        }
    }

    @Test func shardsMergedEqualOneRunAndStatusSeesItDone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-shards-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var spec = try SweepSpec.parse(yaml)
        spec.output = dir + "/out"
        let whole = dir + "/whole.sqlite"
        _ = try runSweep(spec, store: ResultStore(path: whole))
        var shardRows = 0
        for i in 0..<2 {
            shardRows += try runSweep(spec, store: ResultStore(path: dir + "/shard\(i).sqlite"), shard: Shard("\(i)/2")).rows.count
        }
        #expect(shardRows == 6, "the shards cover the six configurations once between them")
        let merged = try ResultStore(path: dir + "/merged.sqlite")
        let first = try merged.merge(from: dir + "/shard0.sqlite"), second = try merged.merge(from: dir + "/shard1.sqlite")
        #expect(first.conflicts == 0 && second.conflicts == 0 && first.duplicates == 0 && second.duplicates == 0)
        #expect(try outcomes(dir + "/merged.sqlite") == outcomes(whole), "every attempt once, identical to a single-process run")
        // Merging again adds nothing.
        let again = try merged.merge(from: dir + "/shard1.sqlite")
        #expect(again.added == 0 && again.duplicates == second.added)
        #expect(try sweepStatus(spec, store: merged).allSatisfy { $0.state == "done" })
        // A half-run store shows what is left.
        let half = try ResultStore(path: dir + "/shard0.sqlite")
        let status = try sweepStatus(spec, store: half)
        #expect(status.filter { $0.state == "done" }.count == 3 && status.filter { $0.state == "left" }.count == 3)
        // A store of another schema version is refused and nothing is copied.
        let alien = dir + "/alien.sqlite"
        try DatabaseQueue(path: alien).write { try $0.execute(sql: "CREATE TABLE t (x); PRAGMA user_version = 99") }
        let before = try outcomes(dir + "/merged.sqlite")
        #expect(throws: StoreError.self) { try merged.merge(from: alien) }
        #expect(try outcomes(dir + "/merged.sqlite") == before)
        #expect(throws: (any Error).self) { try Shard("2/2") }
    }

    /// A stored failure that learned nothing, below the cap, is not the end of its attempt: the
    /// status replays as a run does, so such a seed is not done until the next budgets ran.
    @Test func statusRetriesACollapsedFailureAsARunDoes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-collapse-status-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func spec(cap: Int) throws -> SweepSpec {
            var s = try SweepSpec.parse("""
                instrument: emc
                fixed: {data: "gaussian:64,4,3,3", arch: "mlp:4-8-3:relu", init: "gaussian:0", optimizer: sgd, lr: 0.1, batch-size: 0, steps: 400, max-steps: \(cap), schedule: constant, start: 8}
                axes:
                  momentum: [0.9]
                seeds: 2
                output: unused
                """)
            s.output = dir + "/out"
            return s
        }
        let store = try ResultStore(path: dir + "/store.sqlite")
        let once = try runSweep(spec(cap: 400), store: store)
        #expect(once.rows[0].report.collapsed == 2)
        #expect(try sweepStatus(spec(cap: 400), store: store).map(\.state) == ["done"])
        // Under a cap of 1,600 every collapsed failure runs again under 800 and 1,600 steps — the
        // first attempt (n = 8) already, so nothing of the search is replayed.
        #expect(try sweepStatus(spec(cap: 1600), store: store).map(\.state) == ["left"])
        let capped = try runSweep(spec(cap: 1600), store: store)
        #expect(try sweepStatus(spec(cap: 1600), store: store).map(\.state) == ["done"])
        #expect(capped.rows[0].report.collapsed == 2 && capped.rows[0].report.perSeed == once.rows[0].report.perSeed)
    }
}
