import Adaptivity
import Datasets
import Foundation
import Lab
import Linalg
import Testing

/// The adaptive kernel through the store: a re-run reads every unit back, bit for bit, and more
/// splits or repetitions run only what is new.
@Suite struct KernelLabTests {
    func temporary(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    @Test func dataRunsResumeFromTheStoreAndWriteTheirFiles() throws {
        let csv = temporary("wave.csv"), storePath = temporary("kernel.sqlite"), out = temporary("kernel-out")
        defer { for p in [csv, storePath, out] { try? FileManager.default.removeItem(atPath: p) } }
        var g = RNG(seed: 2)
        var text = "a,b,y\n"
        for _ in 0..<200 {
            let a = 10 * g.uniform(), b = 10 * g.uniform()
            text += "\(a),\(b),\(Double.sin(1.5 * a) + 0.3 * g.normal())\n"
        }
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        var s = KernelDataSettings()
        s.cutoff = 3; s.splits = 2; s.times = TimeGrid(from: 1, to: 100, perDecade: 4)
        let store = try ResultStore(path: storePath)
        let first = try runKernelOnData(RegressionData.load("csv:" + csv), spec: "csv:" + csv, settings: s, store: store, workers: 2)
        #expect(first.computedSplits == 2 && first.count == 200 && first.dimension == 2)
        let again = try runKernelOnData(RegressionData.load("csv:" + csv), spec: "csv:" + csv, settings: s, store: ResultStore(path: storePath), workers: 1)
        #expect(again.computedSplits == 0)
        #expect(again.methods.map(\.runs) == first.methods.map(\.runs))
        // A third split runs alone, and the first two are what they were.
        s.splits = 3
        let more = try runKernelOnData(RegressionData.load("csv:" + csv), spec: "csv:" + csv, settings: s, store: store)
        #expect(more.computedSplits == 1 && more.methods.map { Array($0.runs.prefix(2)) } == first.methods.map(\.runs))
        let fresh = try runKernelOnData(RegressionData.load("csv:" + csv), spec: "csv:" + csv, settings: s, store: nil)
        #expect(fresh.methods.map(\.runs) == more.methods.map(\.runs))
        // Another r is another experiment.
        s.r = 2
        #expect(try runKernelOnData(RegressionData.load("csv:" + csv), spec: "csv:" + csv, settings: s, store: store).computedSplits == 3)

        let paths = try writeKernelDataOutputs(more, to: out)
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        let runs = try String(contentsOfFile: out + "/kernel-data.csv", encoding: .utf8).split(separator: "\n")
        #expect(runs.count == 1 + 4 * 3 && runs[0].hasPrefix("method,split,stop_time,train_mse,validation_mse,test_mse"))
        let weights = try String(contentsOfFile: out + "/kernel-data-weights.csv", encoding: .utf8).split(separator: "\n")
        #expect(weights.count == 1 + 4 * 49)   // 7² functions per method
        let lines = kernelDataSummary(more, spec: "csv:wave.csv", store: nil)
        #expect(lines.contains { $0.hasPrefix("adaptive D=1") } && lines.contains { $0.contains("grew most") })
        // Test MSEs of 1e-4, 1e-4 and 0.5 over three splits: the t-interval of their mean reaches
        // −0.55, which no MSE can; printed and written, it stops at 0.
        var spread = more
        for (k, v) in [1e-4, 1e-4, 0.5].enumerated() { spread.methods[0].runs[k].test[spread.methods[0].runs[k].stop] = v }
        let written = kernelDataReportObject(spread)["methods"] as! [[String: Any]]
        let interval = (written[0]["test_error"] as! [String: Any])["interval"] as! [Double]
        #expect(interval[0] == 0 && interval[1] > 0.5, "\(interval)")
        let printed = kernelDataSummary(spread, spec: "csv:wave.csv", store: nil).first { $0.hasPrefix("\(spread.methods[0].method)") }
        #expect(printed?.contains("[0, ") == true, "\(printed ?? "no line")")
    }

    @Test func figureFiveResumesFromTheStore() throws {
        let storePath = temporary("fig5.sqlite")
        defer { try? FileManager.default.removeItem(atPath: storePath) }
        var s = KernelSettings()
        s.cutoff = 3; s.sizes = [40, 80]; s.repetitions = 2; s.times = TimeGrid(from: 1, to: 100, perDecade: 4)
        var units = [Int]()
        let first = try runKernelRates(s, store: ResultStore(path: storePath)) { done, _ in units.append(done) }
        let again = try runKernelRates(s, store: ResultStore(path: storePath)) { done, total in #expect(done == total) }
        #expect(units.last == 4 && again.map(\.meanErrors) == first.map(\.meanErrors) && again.map(\.halvings) == first.map(\.halvings))
        #expect(first.map(\.meanErrors) == (try measureKernelRates(s, workers: 1)).map(\.meanErrors))
    }
}
