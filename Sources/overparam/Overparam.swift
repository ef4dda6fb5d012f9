import ArgumentParser
import Foundation
import Linalg
import NeuralNets

@main
struct Overparam: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overparam",
        abstract: "How flexible are overparameterized neural networks? Capacity, recovery and adaptivity instruments.",
        subcommands: [Train.self, EMC.self, Rank.self, Recover.self, Adapt.self, Export.self, Bench.self, Info.self]
    )
}

/// Prints a user-facing error and exits non-zero: never a crash trace for bad input.
func fail(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    Foundation.exit(1)
}
