import Foundation
import Testing

/// The `overparam` binary built beside this test bundle (`swift build --build-tests` builds both).
let binary: String = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    // The runner is the bundle's executable (…/release/OverparamPackageTests.xctest) or a tool inside it.
    for candidate in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("overparam").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return dir.appendingPathComponent("overparam").path
}()

/// What one run of the binary printed and how it ended.
struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `overparam` with `arguments` in `directory`, waits for it, and returns its outcome.
@discardableResult
func overparam(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Outcome {
    try #require(FileManager.default.isExecutableFile(atPath: binary), "no overparam binary at \(binary): build with `swift build --build-tests`")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    // Read both pipes to the end before waiting, so a full pipe never blocks the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let e = Box(), group = DispatchGroup()
    DispatchQueue.global().async(group: group) { e.data = err.fileHandleForReading.readDataToEndOfFile() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self))
}

/// A fresh, empty folder for one test.
func scratchFolder(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-cli-\(name)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The PostgreSQL server `dev.sh test` starts for the tests (Tests/Distributed/postgres.sh), if any.
let testPostgres = ProcessInfo.processInfo.environment["OVERPARAM_TEST_POSTGRES"]

/// The test server's URL with a schema of its own (so that tests never see each other's
/// queues), and that schema's name.
func freshQueue(_ name: String) -> (url: String, schema: String) {
    let schema = "cli_\(name)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    return (testPostgres! + (testPostgres!.contains("?") ? "&" : "?") + "schema=" + schema, schema)
}
