import ArgumentParser
import Foundation
import Lab
import Linalg
import NeuralNets

@main
struct Overparam: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overparam",
        abstract: "How flexible are overparameterized neural networks? Capacity, recovery and adaptivity instruments.",
        version: "overparam 0.2.0 (result store schema \(ResultStore.schemaVersion))",
        subcommands: [Reproduce.self, SweepCommand.self, Worker.self, Merge.self, Train.self, EMC.self, Rank.self, Recover.self, Adapt.self, Export.self, Bench.self, Info.self]
    )

    /// Refuses an `OVERPARAM_KERNELS` it cannot honour before any command computes or stores.
    static func main() {
        if let problem = Engine.kernelsSettingProblem { fail(OptionError(description: problem)) }
        main(nil)
    }
}

/// Prints a user-facing error and exits non-zero: never a crash trace for bad input.
func fail(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("error: \(plainMessage(error))\n".utf8))
    Foundation.exit(1)
}

/// The store a command's `--store` names, or none with `--no-store`.
func openStore(_ location: String, unless noStore: Bool) throws -> (any Store)? {
    noStore ? nil : try openStore(location)
}

/// A command-line option whose value does not parse; printed as `error: …` by `fail`.
struct OptionError: Error, CustomStringConvertible {
    let description: String
}

/// The values of a comma-separated option (`--sizes 2,4,8`), each parsed by `parse`; an empty
/// list or any value that does not parse is an error naming the option.
func commaList<T>(_ s: String, option: String, _ parse: (String) -> T?) throws -> [T] {
    let v = s.split(separator: ",").map { parse(String($0).trimmingCharacters(in: .whitespaces)) }
    guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw OptionError(description: "--\(option) '\(s)': expected a comma-separated list") }
    return v.map { $0! }
}
