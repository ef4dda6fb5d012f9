import ArgumentParser
import Foundation
import Lab

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every stored attempt as CSV (default) or JSON.")

    @Option(help: "The result store.") var store: String = "overparam-results.sqlite"
    @Flag(help: "JSON instead of CSV.") var json = false

    func run() throws {
        do {
            guard FileManager.default.fileExists(atPath: store) else {
                throw ValidationError("no result store at \(store)")
            }
            let s = try ResultStore(path: store)
            print(json ? try s.exportJSON() : try s.exportCSV(), terminator: json ? "\n" : "")
        } catch { fail(error) }
    }
}
