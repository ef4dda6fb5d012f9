import Capacity
import Foundation
import Lab
import Testing

/// Several sweep files on one pool (`runSweeps`, as `overparam reproduce` runs its capacity
/// sweeps): each file's answers as when run alone, a configuration two files share measured
/// once, and a core freed by one file's last search taking the next file's first.
@Suite struct SweepFilesTogetherTests {
    func spec(_ name: String, archs: [String], seeds: Int = 2) throws -> SweepSpec {
        try SweepSpec.parse("""
        instrument: emc
        fixed: {data: "gaussian:96,4,3,1", optimizer: adam, lr: 0.03, batch-size: 0, steps: 150, start: 8}
        axes:
          arch: [\(archs.joined(separator: ", "))]
        seeds: \(seeds)
        output: \(FileManager.default.temporaryDirectory.path)/overparam-together-\(name)-\(getpid())
        """, file: name + ".yaml")
    }

    @Test func eachFileGetsItsOwnAnswersAndASharedConfigurationRunsOnce() throws {
        let a = try spec("a", archs: ["mlp:4-6-3:tanh", "mlp:4-3-3:relu"]), b = try spec("b", archs: ["mlp:4-3-3:relu", "mlp:4-2-3:tanh"])
        var attempts = [[Int]](repeating: [0, 0], count: 2), logged = [String]()
        let together = try runSweeps([a, b], store: nil, workers: 2, log: { s, line in logged.append("\(s) \(line)") }, progress: { s, k, _, _, _, _, _ in
            attempts[s][k] += 1
        })
        for (s, alone) in [try runSweep(a, store: nil, workers: 1), try runSweep(b, store: nil, workers: 1)].enumerated() {
            #expect(together[s].rows.map(\.settings) == alone.rows.map(\.settings))
            #expect(together[s].rows.map(\.report.perSeed) == alone.rows.map(\.report.perSeed))
            #expect(together[s].rows.map { $0.report.searches.map { $0.attempts.map(\.trainLoss) } }
                    == alone.rows.map { $0.report.searches.map { $0.attempts.map(\.trainLoss) } })
            // Each file's own tables.
            let csv = try String(contentsOfFile: [a, b][s].output + "/results.csv", encoding: .utf8)
            #expect(csv.split(separator: "\n").count == 3)
        }
        // mlp:4-3-3:relu is a's second configuration and b's first: its attempts ran (and were
        // reported) once, under a's name, and both files' logs give its EMC.
        let shared = together[0].rows[1].report
        #expect(attempts[0][1] == shared.searches.map(\.attempts.count).reduce(0, +) && attempts[1][0] == 0)
        #expect(together[1].rows[0].report.perSeed == shared.perSeed)
        #expect(logged.contains { $0.hasPrefix("0 [2/2] arch=mlp:4-3-3:relu: EMC") } && logged.contains { $0.hasPrefix("1 [1/2] arch=mlp:4-3-3:relu: EMC") })
    }

    /// File a's one search takes a second or so; b's starts on the second worker long before it
    /// ends. Run one file after the other, b's first line would follow a's last. (The store is
    /// left out: a store is read and written one attempt at a time, so holding a's save back, as
    /// `SearchPoolTests` holds a job's, would hold b's too.)
    @Test func aFreeWorkerStartsTheNextFileWhileOneIsStillRunning() throws {
        var a = try spec("long", archs: ["mlp:4-12-3:tanh"], seeds: 1), b = try spec("short", archs: ["mlp:4-2-3:tanh"], seeds: 1)
        a.fixed["data"] = "gaussian:192,4,3,1"
        a.fixed["steps"] = "300"
        var logged = [String]()
        let outcomes = try runSweeps([a, b], store: nil, workers: 2, log: { s, line in logged.append("\(s) \(line)") })
        #expect(outcomes.allSatisfy { $0.rows.count == 1 })
        let bStarted = try #require(logged.firstIndex(of: "1 [1/1] arch=mlp:4-2-3:tanh"))
        let aEnded = try #require(logged.firstIndex { $0.hasPrefix("0 [1/1] arch=mlp:4-12-3:tanh: EMC") })
        #expect(bStarted < aEnded, "\(logged)")
    }
}
