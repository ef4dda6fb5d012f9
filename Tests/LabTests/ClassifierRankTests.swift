import Capacity
import Datasets
import Lab
import Linalg
import NeuralNets
import Recovery
import Testing

/// A classifier's tangent spectra, where the ranks are known, and at the end of a search.
@Suite struct ClassifierRankTests {
    /// A linear classifier f_k(x) = w_k·x + b_k on d = 3 inputs and 4 classes (M = 16): logit k's
    /// row at x is (x, 1) in its own block and zero elsewhere, by hand — so on k inputs one
    /// logit's rank is min(k, 4) and the classes stacked have 4·min(k, 4).
    @Test func aLinearClassifiersRanksByHand() throws {
        var net = try Network<Float>(spec: "mlp:3-4")
        net.initialize(.xavier, rng: RNG(seed: 1))
        var g = RNG(seed: 2)
        let x = Tensor<Float>(shape: [2, 3], scalars: g.normals(6))
        let d = try Network<Double>(layers: net.layers, inputShape: net.inputShape)
        let J = try d.jacobian(Tensor(shape: [2, 3], scalars: x.scalars.map(Double.init)), output: 2).scalars
        // Weights [4, 3] then biases [4]: logit 2's row i holds x_i at 6..<9 and 1 at 12 + 2.
        for i in 0..<2 {
            var row = [Double](repeating: 0, count: 16)
            for j in 0..<3 { row[6 + j] = Double(x.scalars[i * 3 + j]) }
            row[14] = 1
            #expect(Array(J[(i * 16)..<((i + 1) * 16)]) == row)
        }
        let two = try classifierSpectra(net, inputs: x)
        #expect(two.logit.rank(relative: 1e-9) == 2 && two.stacked.rank(relative: 1e-9) == 8 && two.stacked.inputs == 8)
        let ten = try classifierSpectra(net, inputs: Tensor(shape: [10, 3], scalars: g.normals(30)))
        #expect(ten.logit.rank(relative: 1e-9) == 4 && ten.stacked.rank(relative: 1e-9) == 16)
        #expect(throws: NetworkError.self) { try d.jacobian(Tensor(shape: [1, 3], scalars: [0, 0, 0])) }   // four outputs: name one
    }

    /// At the end of a search: each seed's largest fit, trained again, fits the samples it is
    /// measured on, and its ranks are bounded as they must be.
    @Test func endRanksOfASearch() throws {
        let s = try EMCSettings(["data": "gaussian:120,4,2", "arch": "mlp:4-6-2:tanh", "optimizer": "adam", "lr": "0.05",
                                 "batch-size": "0", "steps": "300", "schedule": "constant", "seeds": "2", "start": "16"])
        let data = try s.data()
        let report = try s.run(data: data, store: nil, workers: 1)
        let ranks = try endRanks(of: report, data: data, procedure: try s.procedure())
        #expect(ranks.count == report.searches.filter { $0.emc > 0 }.count && !ranks.isEmpty)
        for r in ranks {
            let search = try #require(report.searches.first { $0.seed == r.seed })
            #expect(r.n == search.emc && r.parameters == 44 && r.classes == 2 && r.logit.inputs == r.n && r.stacked.inputs == 2 * r.n)
            let (net, samples) = try trainedNetwork(data, order: data.sampleOrder(seed: r.seed), n: r.n, procedure: try s.procedure(),
                                                    budget: r.budget, seed: r.seed)
            #expect(try net.evaluate(samples.x, .classes(samples.labels32), loss: .crossEntropy).accuracy == 1)
            #expect(r.logit.rank(relative: 1e-6) <= min(r.n, 44) && r.stacked.rank(relative: 1e-6) <= 44)
            #expect(r.stacked.rank(relative: 1e-6) >= r.logit.rank(relative: 1e-6))
        }
    }
}
