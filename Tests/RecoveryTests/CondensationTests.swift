import Foundation
import Linalg
import NeuralNets
import Recovery
import Testing

/// The condensation measure on hand-made neurons, where the clusters and cosines are known.
@Suite struct CondensationTests {
    /// Three directions: neurons 0, 1 and 3 along (1, 2, 0) up to sign and scale (|cos| = 1),
    /// neuron 2 along (0, 0, 1) (|cos| 0 with them), neuron 4 at 45° between e3 and (1, 2, 0)/√5
    /// (|cos| = 1/√2 with each), neuron 5 silent (zero). Clusters at 0.99: {0, 1, 3}, {2}, {4}.
    @Test func handMadeNeurons() {
        let u: [Double] = [1, 2, 0], s5 = 5.0.squareRoot()
        let vectors: [[Double]] = [u, u.map { -3 * $0 }, [0, 0, 1], u.map { 0.5 * $0 }, [1 / s5, 2 / s5, 1], [0, 0, 0]]
        let c = condensation(vectors: vectors)
        #expect(c.neurons == 5 && c.silent == 1 && c.clusters == 3, "\(c)")
        // 10 pairs: 3 at |cos| 1 (bin 9), 3 at 0 (bin 0: 2–0, 2–1, 2–3), 4 at 1/√2 ≈ 0.707 (bin 7).
        #expect(c.histogram == [3, 0, 0, 0, 0, 0, 0, 4, 0, 3], "\(c.histogram)")
        let mean = (3 * 1 + 4 * 0.5.squareRoot()) / 10
        #expect(abs(c.meanAbsCosine - mean) < 1e-12)
        // Norms 3√5 + √5 + √5/2 (the u group), √2, 1: the u group holds 80.6% of 12.48, with
        // the √2 neuron 92% — two groups hold 90%.
        #expect(c.majorClusters == 2)
        // Groups by leader, not by chain: unit vectors 0.1 rad apart (neighbours at |cos| 0.995)
        // form {0, 1}, {2, 3}, {4} at 0.99 — single linkage would join all five — and five at 0.999.
        let chain = (0..<5).map { k -> [Double] in let a = 0.1 * Double(k); return [Foundation.cos(a), Foundation.sin(a)] }
        #expect(condensation(vectors: chain, threshold: 0.99).clusters == 3)
        #expect(condensation(vectors: chain, threshold: 0.999).clusters == 5)
        // The largest neuron leads: put a long vector at 0.2 rad and {1, 2, 3} join it, 0 and 4 stay apart.
        var led = chain
        led[2] = led[2].map { 10 * $0 }
        let l = condensation(vectors: led, threshold: 0.99)
        // Its group holds 12 of the norm 14 (86%): with one more, 13/14, two groups hold 90%.
        #expect(l.clusters == 3 && l.majorClusters == 2, "\(l)")
        led[2] = led[2].map { 3 * $0 }   // now 32 of 34 (94%)
        #expect(condensation(vectors: led, threshold: 0.99).majorClusters == 1)
    }

    /// Read from a network: the first dense layer's (w_i, b_i), biases included when present.
    @Test func fromANetwork() throws {
        var net = try Network<Double>(spec: "mlp:2-3-1:tanh")
        // Weights [3, 2] then biases [3]: neurons (1, 0 | 0), (2, 0 | 0), (0, 1 | 5).
        net.parameters.replaceSubrange(0..<9, with: [1, 0, 2, 0, 0, 1, 0, 0, 5])
        let c = try condensation(of: net)
        #expect(c.clusters == 2 && c.neurons == 3 && c.histogram[9] == 1, "\(c)")
        var nobias = try Network<Double>(spec: "mlp:2-3-1:tanh:nobias")
        nobias.parameters.replaceSubrange(0..<6, with: [1, 0, 2, 0, 0, 1])
        #expect(try condensation(of: nobias).clusters == 2)
        #expect(throws: RecoveryError.self) { try condensation(of: try Network<Double>(spec: "conv1d:5-k3-c2-1:tanh")) }
    }
}
