import Foundation
import Testing

/// What a newcomer meets first: the version, option parsing, the installation check.
@Suite struct FirstContactTests {
    @Test func versionNamesTheStoreSchema() throws {
        let r = try overparam(["--version"])
        #expect(r.status == 0 && r.stdout.hasPrefix("overparam ") && r.stdout.contains("result store schema 2"), "\(r.stdout)")
    }

    @Test func negativeNumbersParseAndAreJudgedLikeOthers() throws {
        let lr = try overparam(["emc", "--lr", "-1", "--no-store"])
        #expect(lr.status == 1 && lr.stderr.contains("lr = '-1.0': a positive learning rate"), "\(lr.stderr)")
        #expect(!lr.stderr.contains("Missing value"))
        let momentum = try overparam(["emc", "--momentum", "-0.5", "--no-store"])
        #expect(momentum.status == 1 && momentum.stderr.contains("momentum = '-0.5'"), "\(momentum.stderr)")
    }

    @Test func theSmokePresetSaysItChecksTheInstallationOnly() throws {
        let dir = try scratchFolder("smoke")
        let r = try overparam(["reproduce", "--smoke", "--no-store", "--output", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("checks the installation only; it reproduces nothing"), "\(r.stdout)")
        #expect(!r.stdout.contains("NOT reproduced") && !r.stdout.contains("findings held"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
    }
}
