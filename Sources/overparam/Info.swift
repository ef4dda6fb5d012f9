import ArgumentParser
import Foundation
import Linalg
import NeuralNets

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model spec: layers, shapes and parameter count.")

    @Argument(help: "A model spec, e.g. mlp:784-512-512-10:relu, cnn:28x28x1-c16-m2-c32-m2-10:relu, vit:28x28x1-p4-d64-b2-h4-m128-10.")
    var spec: String

    func run() throws {
        let net: Network<Float>
        do { net = try Network<Float>(spec: spec) } catch { fail(error) }
        print("\(spec)")
        print("input \(net.inputShape) → output \(net.outputShape)")
        for v in net.parameterViews { print("  \(pad(v.name, 22)) \(v.shape)") }
        print("parameters: \(net.parameterCount)")
        print("training FLOPs per sample (matrix products): \(net.flopsPerStep(batch: 1))")
    }
}
