// swift-tools-version:6.0
// An outside package that depends on Overparam, as a researcher's own project would: a model
// written in Swift, its EMC on synthetic data and its model rank. By default it uses the checkout
// it sits in (a path dependency); with OVERPARAM_URL set it depends on that git repository by
// version, from 0.1.0, as on a tagged release (examples/run-custom-model.sh does that).
import PackageDescription

let overparam: Package.Dependency = Context.environment["OVERPARAM_URL"].map { .package(url: $0, from: "0.1.0") }
    ?? .package(name: "Overparam", path: "../..")

let package = Package(
    name: "CustomModel",
    dependencies: [overparam],
    targets: [
        .executableTarget(name: "CustomModel", dependencies: [
            .product(name: "NeuralNets", package: "Overparam"),
            .product(name: "Datasets", package: "Overparam"),
            .product(name: "Capacity", package: "Overparam"),
            .product(name: "Recovery", package: "Overparam"),
        ]),
    ]
)
