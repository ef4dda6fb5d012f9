import Foundation
import Testing

/// What a newcomer meets first: the version, option parsing, the installation check.
@Suite struct FirstContactTests {
    @Test func versionNamesTheStoreSchema() throws {
        let r = try overparam(["--version"])
        #expect(r.status == 0 && r.stdout.hasPrefix("overparam ") && r.stdout.contains("result store schema 5"), "\(r.stdout)")
    }

    @Test func negativeNumbersParseAndAreJudgedLikeOthers() throws {
        let lr = try overparam(["emc", "--lr", "-1", "--no-store"])
        #expect(lr.status == 1 && lr.stderr.contains("lr = '-1.0': a positive learning rate"), "\(lr.stderr)")
        #expect(!lr.stderr.contains("Missing value"))
        let momentum = try overparam(["emc", "--momentum", "-0.5", "--no-store"])
        #expect(momentum.status == 1 && momentum.stderr.contains("momentum = '-0.5'"), "\(momentum.stderr)")
    }

    /// A model that cannot be built, or cannot take the data, is refused before anything is
    /// announced: no "EMC of …" header above the error.
    @Test func aBadModelFailsBeforeTheHeader() throws {
        let spec = try overparam(["emc", "--arch", "mlp:64-x-10", "--no-store"])
        #expect(spec.status == 1 && spec.stderr.contains("'x' is not a positive layer width"), "\(spec.stderr)")
        #expect(spec.stdout.isEmpty, "\(spec.stdout)")
        let shape = try overparam(["emc", "--data", "gaussian:40,4,3", "--arch", "mlp:4-3-2:relu", "--no-store"])
        #expect(shape.status == 1 && shape.stderr.contains("labels up to 2"), "\(shape.stderr)")
        #expect(shape.stdout.isEmpty, "\(shape.stdout)")
        let student = try overparam(["recover", "--students", "mlp:2-x-1", "--no-store"])
        #expect(student.status == 1 && student.stderr.contains("students = 'mlp:2-x-1'") && student.stderr.contains("'x' is not a positive layer width"),
                "\(student.stderr)")
        #expect(student.stdout.isEmpty, "\(student.stdout)")
        let outputs = try overparam(["recover", "--students", "mlp:2-8-3:tanh", "--no-store"])
        #expect(outputs.status == 1 && outputs.stderr.contains("this one maps 2 to 3"), "\(outputs.stderr)")
        #expect(outputs.stdout.isEmpty, "\(outputs.stdout)")
        let image = try overparam(["recover", "--preset", "fig3", "--students", "cnn:5x1x1-c2-1:tanh", "--no-store"])
        #expect(image.status == 1 && image.stderr.contains("takes inputs of shape [5, 1, 1]"), "\(image.stderr)")
        #expect(image.stdout.isEmpty, "\(image.stdout)")
    }

    @Test func theSmokePresetSaysItChecksTheInstallationOnly() throws {
        let dir = try scratchFolder("smoke")
        let r = try overparam(["reproduce", "--smoke", "--no-store", "--output", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("checks the installation only; it reproduces nothing"), "\(r.stdout)")
        #expect(!r.stdout.contains("NOT reproduced") && !r.stdout.contains("findings held"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
    }

    @Test func emcHelpListsTheMeasurementsOptions() throws {
        let r = try overparam(["emc", "--help"])
        #expect(r.status == 0 && r.stdout.contains("--arch <arch>") && r.stdout.contains("--steps <steps>") && r.stdout.contains("--store <store>"), "\(r.stdout)")
    }

    @Test func progressGoesToStandardErrorAsPlainLinesInALog() throws {
        let r = try overparam(["recover", "--sizes", "2,3", "--seeds", "1", "--steps", "100", "--no-store", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) != nil, "standard output is the JSON alone: \(r.stdout)")
        #expect(!r.stderr.contains("\r"), "a log gets no carriage returns")
        #expect(r.stderr.split(separator: "\n").last?.hasPrefix("[2/2] ") == true, "\(r.stderr)")
        let emc = try overparam(["emc", "--data", "gaussian:40,4,2", "--arch", "mlp:4-3-2:relu", "--steps", "50", "--no-store", "--json"])
        #expect(emc.status == 0 && emc.stderr.contains("  seed 0  n      64") == false && emc.stderr.contains("  seed 0  n "), "\(emc.stderr)")
    }

    @Test func exportSaysWhatAStoreHoldsAndPrintsEachKindOfResult() throws {
        let dir = try scratchFolder("export")
        let store = dir + "/store.sqlite"
        #expect(try overparam(["recover", "--sizes", "2,3", "--seeds", "1", "--steps", "100", "--store", store]).status == 0)
        let summary = try overparam(["export", "--store", store, "--summary"])
        #expect(summary.status == 0 && summary.stdout.contains("recovery            1 experiment(s),       2 recovery runs"), "\(summary.stdout)")
        let csv = try overparam(["export", "--store", store, "--results", "recovery"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasSuffix("seed,n,train_mse,test_mse,diverged,steps,seconds,arithmetic") && lines[0].contains("student"),
                "\(csv.stdout)")
        #expect(lines.dropFirst().allSatisfy { $0.contains(",\"") && $0.contains(" kernels, ") && $0.contains(" sgemm, OpenBLAS ") }, "each run says what computed it: \(csv.stdout)")
        let bad = try overparam(["export", "--store", store, "--results", "nothing"])
        #expect(bad.status == 1 && bad.stderr.contains("use one of emc, generalization, recovery, adapt"))
    }

    @Test func trainHoldsOutATestSetWhereTheDataHasNone() throws {
        let r = try overparam(["train", "--data", "digits", "--arch", "mlp:64-16-10:relu", "--epochs", "2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        // A fifth of the 1,797 digits held out, the rest trained on: together exactly the data set.
        #expect(o["test_size"] as? Int == 359 && o["train_size"] as? Int == 1438, "\(o)")
        #expect(o["test_source"] as? String == "held out of the training data" && (o["test_accuracy"] as? Double ?? 0) > 0.5)
        let capped = try overparam(["train", "--data", "gaussian:100,4,3", "--arch", "mlp:4-8-3:relu", "--train-size", "30", "--test-size", "40", "--epochs", "1", "--json"])
        let c = try #require(try JSONSerialization.jsonObject(with: Data(capped.stdout.utf8)) as? [String: Any])
        #expect(c["test_size"] as? Int == 40 && c["train_size"] as? Int == 30)
        let all = try overparam(["train", "--data", "digits", "--test-size", "1797"])
        #expect(all.status == 1 && all.stderr.contains("has 1797 samples and no test set"), "\(all.stderr)")
    }
}
