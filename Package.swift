// swift-tools-version:6.0
import PackageDescription

// Layering (lowest first): CBLAS/CZlib/CKernels → Linalg → NeuralNets → Datasets → Capacity (and the other
// instruments) → Lab → overparam.
let package = Package(
    name: "Overparam",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "overparam", targets: ["overparam"]),
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "NeuralNets", targets: ["NeuralNets"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Capacity", targets: ["Capacity"]),
        .library(name: "Recovery", targets: ["Recovery"]),
        .library(name: "Adaptivity", targets: ["Adaptivity"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.20.0"),
        // Already in the graph through postgres-nio; Datasets uses its SHA-256 for data identities.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: nil,
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: nil,
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Hot float32 kernels (attention, GELU, layer norm, ...) in C, so one source is built both for
        // AVX2 + FMA (picked at run time on x86-64) and portably; Swift targets baseline x86-64.
        // Also OpenBLAS's kernel choice on CPUs newer than its release (blascore.c).
        .target(name: "CKernels"),
        .target(
            name: "Linalg",
            dependencies: ["CBLAS", "CKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "NeuralNets",
            dependencies: ["Linalg", "CKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "Datasets",
            dependencies: ["Linalg", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/digits.csv.gz")]
        ),
        .target(
            name: "Capacity",
            dependencies: ["Linalg", "NeuralNets", "Datasets"]
        ),
        .target(
            name: "Recovery",
            dependencies: ["Linalg", "NeuralNets", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "Adaptivity",
            dependencies: ["Linalg", "CKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "Lab",
            dependencies: ["Capacity", "Recovery", "Adaptivity", "NeuralNets", "Datasets", "Linalg",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
                           .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .executableTarget(
            name: "overparam",
            dependencies: [
                "Linalg", "NeuralNets", "Datasets", "Capacity", "Recovery", "Adaptivity", "Lab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CapacityTests", dependencies: ["Capacity", "NeuralNets", "Datasets", "Linalg"]),
        .testTarget(name: "AdaptivityTests", dependencies: ["Adaptivity", "Linalg"]),
        .testTarget(name: "RecoveryTests", dependencies: ["Recovery", "NeuralNets", "Linalg"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Recovery", "Capacity", "Adaptivity", "Datasets", "Linalg", .product(name: "GRDB", package: "GRDB.swift"),
                                                  .product(name: "PostgresNIO", package: "postgres-nio")]),
        // Runs the built `overparam` binary end to end (its output, errors and exit status).
        .testTarget(name: "CLITests"),
        .testTarget(name: "NeuralNetsTests", dependencies: ["NeuralNets", "Linalg", "Datasets", "CKernels"]),
        .testTarget(
            name: "DatasetsTests", dependencies: ["Datasets", "Linalg"],
            exclude: ["Fixtures/README.md"], resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
