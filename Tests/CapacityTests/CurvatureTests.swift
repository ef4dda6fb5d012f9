import Capacity
import Datasets
import Foundation
import Linalg
import NeuralNets
import Testing

/// The Hessian check of a `no-fit`: Lanczos on finite differences of exact gradients, against
/// Hessians known independently of the gradient code.
@Suite struct CurvatureTests {
    /// f(x) = a·b·x with squared error at a = b = 0: the Hessian of (abx − y)² is
    /// [[0, −2xy], [−2xy, 0]], eigenvalues ±2xy — a saddle.
    @Test func aSaddleOfATwoLayerLinearNetHasItsClosedFormCurvature() throws {
        var net = try Network<Double>(spec: "mlp:1-1-1:linear:nobias", inputShape: [1])
        net.parameters = [0, 0]
        let x = Tensor<Double>(shape: [1, 1], scalars: [1]), y = Tensor<Double>(shape: [1, 1], scalars: [1.5])
        let c = try hessianExtremes(net, x: x, y: .values(y), loss: .meanSquaredError)
        #expect(abs(c.smallest + 3) < 1e-6 && abs(c.largest - 3) < 1e-6, "\(c)")
    }

    /// A small tanh network under cross-entropy: the Hessian's extreme eigenvalues from Lanczos
    /// against the explicit Hessian, built entry by entry from second differences of the loss
    /// alone (no gradient code), its eigenvalues from the SVD of H + cI with c above ‖H‖.
    @Test func lanczosFindsTheExtremesOfTheExplicitHessian() throws {
        let data: LabeledData<Double> = Synthetic.gaussianMixture(n: 12, dim: 3, classes: 3, separation: 1, seed: 4)
        var net = try Network<Double>(spec: "mlp:3-4-3:tanh", inputShape: [3])
        net.initialize(.xavier, rng: RNG(seed: 9))
        let y = Supervision<Double>.classes(data.labels.map(Int32.init))
        let theta = net.parameters, p = theta.count
        var probe = net
        func loss(_ di: Int, _ si: Double, _ dj: Int, _ sj: Double, h: Double) throws -> Double {
            var t = theta
            t[di] += si * h; t[dj] += sj * h
            probe.parameters = t
            return try probe.evaluate(data.x, y, loss: .crossEntropy).loss
        }
        let h = 1e-4
        var hessian = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in i..<p {
                let v = (try loss(i, 1, j, 1, h: h) - loss(i, 1, j, -1, h: h) - loss(i, -1, j, 1, h: h) + loss(i, -1, j, -1, h: h)) / (4 * h * h)
                hessian[i * p + j] = v; hessian[j * p + i] = v
            }
        }
        let shift = hessian.map { $0 * $0 }.reduce(0, +).squareRoot() + 1
        for i in 0..<p { hessian[i * p + i] += shift }
        let s = try singularValues(Tensor(shape: [p, p], scalars: hessian))
        let exact = (smallest: s.min()! - shift, largest: s.max()! - shift)
        #expect(exact.smallest < 0, "this point is not a minimum: \(exact)")
        let c = try hessianExtremes(net, x: data.x, y: y, loss: .crossEntropy, iterations: p)
        #expect(abs(c.smallest - exact.smallest) < 1e-4 * abs(exact.largest) && abs(c.largest - exact.largest) < 1e-4 * abs(exact.largest),
                "Lanczos \(c), explicit \(exact)")
        // A few steps already bound the spectrum from inside and find its top.
        let short = try hessianExtremes(net, x: data.x, y: y, loss: .crossEntropy, iterations: 12)
        #expect(short.smallest >= exact.smallest - 1e-6 && short.largest <= exact.largest + 1e-6)
        #expect(abs(short.largest - exact.largest) < 1e-3 * abs(exact.largest))
    }

    @Test func aNoFitIsCheckedForCurvatureWhenAsked() throws {
        let data: LabeledData<Float> = Synthetic.gaussianMixture(n: 60, dim: 2, classes: 2, separation: 0.3, seed: 2)
        var p = FitProcedure(arch: "mlp:2-2-2:relu")
        p.train.optimizer = .adam(); p.train.learningRate = 0.02; p.train.batchSize = nil; p.train.maxSteps = 3000
        p.train.schedule = .constant
        let plain = try attemptFit(data, procedure: p, seed: 0)
        #expect(plain.verdict == .noFit && plain.hessianMin == nil, "\(plain)")
        p.curvatureCheck = true
        let checked = try attemptFit(data, procedure: p, seed: 0)
        let (lo, hi) = (try #require(checked.hessianMin), try #require(checked.hessianMax))
        #expect(hi > 0 && lo <= hi)
        // The verdict follows the eigenvalues: a saddle only when the smallest is clearly negative.
        #expect(checked.verdict == (lo < -p.saddleTolerance * abs(hi) ? .undecided : .noFit))
        #expect(checked.trainLoss == plain.trainLoss && checked.steps == plain.steps, "the check does not change training")
    }
}
