import Linalg
import NeuralNets
import Testing

/// Models written in Swift: the same layers as the spec that names them (so the same parameter
/// buffer, passes and speed), sizes inferred from the input, and finite-difference gradients for
/// an architecture no spec can say.
@Suite struct BuilderTests {
    @Test func theBuilderGivesTheSpecsLayers() throws {
        let mlp = try Network<Float>(input: [64]) { Dense(32); ReLU(); Dense(16); ReLU(); Dense(10) }
        #expect(mlp.layers == (try Network<Float>(spec: "mlp:64-32-16-10:relu")).layers)
        let spec = try Network<Float>(spec: "cnn:8x8x1-c4-m2-c8-m2-10:relu")
        let cnn = try Network<Float>(input: [8, 8, 1]) {
            Conv(4, kernel: 3, padding: 1); ReLU(); MaxPool(2)
            Conv(8, kernel: 3, padding: 1); ReLU(); MaxPool(2)
            Flatten(); Dense(10)
        }
        #expect(cnn.layers == spec.layers, "\(cnn.layers)\nagainst\n\(spec.layers)")
        #expect(cnn.parameterCount == spec.parameterCount && cnn.parameterViews == spec.parameterViews)
        let vit = try Network<Float>(input: [8, 8, 1]) {
            PatchEmbedding(patch: 4, dim: 16); PositionEmbedding()
            Residual { LayerNorm(); SelfAttention(heads: 2) }
            Residual { LayerNorm(); Dense(32); GELU(); Dense(16) }
            LayerNorm(); MeanPoolTokens(); Dense(10)
        }
        #expect(vit.outputShape == [10] && vit.parameterCount > 0)
    }

    /// A residual MLP with a norm inside the block and a tanh head, beyond what `mlp:` specs say:
    /// its hand-written gradient against central differences in Double.
    @Test func aCustomArchitecturesGradientsAreRight() throws {
        let layers = try buildLayers(input: [6], [
            Dense(8), Tanh(),
            Residual { LayerNorm(); Dense(8); Sigmoid(); Dense(8) },
            ProjectedResidual(branch: { Dense(5); Tanh() }, shortcut: { Dense(5, bias: false) }),
            Dense(3),
        ])
        let e = try gradientCheckError(layers: layers, inputShape: [6], batch: 4, seed: 3)
        #expect(e < 1e-7, "relative gradient error \(e)")
    }

    @Test func shapesThatDoNotFitAreErrors() {
        #expect(throws: (any Error).self) { _ = try Network<Float>(input: [10]) { Conv(4, kernel: 3) } }
        #expect(throws: (any Error).self) { _ = try Network<Float>(input: [10]) { Residual { Dense(5) } } }
        #expect(throws: (any Error).self) { _ = try Network<Float>(input: [4, 4, 1]) { MaxPool(8) } }
    }
}
