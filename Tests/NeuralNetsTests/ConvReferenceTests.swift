import Linalg
import NeuralNets
import Testing

/// Convolution by the definition, NHWC input and [Cout, k, k, Cin] weights, for checking the
/// im2col + GEMM forward pass, for narrow and wide channel counts.
func naiveConv(_ x: [Double], h: Int, w: Int, c: Int, weights: [Double], bias: [Double], co: Int, k: Int, s: Int, p: Int) -> [Double] {
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var y = [Double](repeating: 0, count: ho * wo * co)
    for oh in 0..<ho { for ow in 0..<wo { for o in 0..<co {
        var acc = bias[o]
        for kh in 0..<k { for kw in 0..<k {
            let ih = oh * s - p + kh, iw = ow * s - p + kw
            guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
            for ci in 0..<c { acc += x[(ih * w + iw) * c + ci] * weights[((o * k + kh) * k + kw) * c + ci] }
        }}
        y[(oh * wo + ow) * co + o] = acc
    }}}
    return y
}

@Suite struct ConvReferenceTests {
    @Test(arguments: [(1, 3, 1, 1), (3, 3, 2, 0), (2, 5, 2, 2), (8, 3, 1, 1), (16, 2, 2, 0), (5, 4, 3, 1)])
    func forwardMatchesDefinition(c: Int, k: Int, s: Int, p: Int) throws {
        let (h, w, co, batch) = (9, 7, 4, 3)
        let layer = Layer.conv2d(inChannels: c, outChannels: co, kernel: k, stride: s, padding: p, bias: true)
        var net = try Network<Double>(layers: [layer], inputShape: [h, w, c])
        net.initialize(.gaussian(std: 1), rng: RNG(seed: UInt64(c * 100 + k)))
        var g = RNG(seed: 7)
        let x: [Double] = g.normals(batch * h * w * c)
        let y = try net.predict(Tensor(shape: [batch, h, w, c], scalars: x))
        let nw = co * k * k * c
        let per = net.outputSize
        for b in 0..<batch {
            let ref = naiveConv(Array(x[(b * h * w * c)..<((b + 1) * h * w * c)]), h: h, w: w, c: c,
                                weights: Array(net.parameters[0..<nw]), bias: Array(net.parameters[nw...]),
                                co: co, k: k, s: s, p: p)
            for i in 0..<per { #expect(abs(y.scalars[b * per + i] - ref[i]) < 1e-12) }
        }
    }
}
