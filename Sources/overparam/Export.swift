import ArgumentParser
import Foundation
import Lab

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a store's results as CSV (default) or JSON, one table per kind of result, or a summary of what it holds.",
        discussion: "Each row carries its experiment's settings as columns. The store is opened read-only: nothing in it changes.")

    @Option(help: "The result store: a SQLite file or a postgres:// URL.") var store: String = "overparam-results.sqlite"
    @Option(help: "Which results: \(ResultTable.allCases.map(\.rawValue).joined(separator: ", ")).") var results: String = "emc"
    @Flag(help: "JSON instead of CSV.") var json = false
    @Flag(help: "Only say what the store holds: experiments and rows per kind of result.") var summary = false

    func run() throws {
        do {
            guard let table = ResultTable(rawValue: results) else {
                throw ExperimentError("--results '\(results)': use one of \(ResultTable.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let opened = try openStore(store, readOnly: true)
            let (s, isCopy) = try sqliteView(of: opened)
            defer { if isCopy { s.remove() } }
            if summary {
                print(try s.summary(name: opened.location), terminator: "")
                return
            }
            print(json ? try s.exportJSON(table) : try s.exportCSV(table), terminator: json ? "\n" : "")
        } catch { fail(error) }
    }
}
