import ArgumentParser
import Foundation
import Lab

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every stored attempt as CSV (default) or JSON.")

    @Option(help: "The result store: a SQLite file or a postgres:// URL.") var store: String = "overparam-results.sqlite"
    @Flag(help: "JSON instead of CSV.") var json = false

    func run() throws {
        do {
            let opened = try openStore(store, readOnly: true)
            let s = try (opened as? PostgresStore).map(ResultStore.copy(of:)) ?? opened as! ResultStore
            defer { if opened is PostgresStore { s.remove() } }
            print(json ? try s.exportJSON() : try s.exportCSV(), terminator: json ? "\n" : "")
        } catch { fail(error) }
    }
}
