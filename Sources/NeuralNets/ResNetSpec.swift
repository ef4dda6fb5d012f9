import Linalg

// The `resnet:` family of model specs: CIFAR-style ResNets (He et al. 2016, section 4.2) of
// basic blocks, e.g. resnet:32x32x3-w16-b3-s3-10 for ResNet-20, -b1- for ResNet-8.

extension ModelSpec {
    /// Layers of `resnet:<H>x<W>x<C>-w<width>-b<blocks>-s<stages>-<classes>` (the part after the colon).
    static func resnet(_ body: String, activation: Activation, bias: Bool, dropout: Double?,
                       _ fail: (String) -> NetworkError) throws -> (layers: [Layer], inputShape: [Int]) {
        guard dropout == nil else { throw fail("a ResNet takes no dropout option") }
        var tokens = body.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let input = try parseImage(tokens.removeFirst(), fail)
        guard let last = tokens.popLast(), let classes = Int(last), classes > 0 else {
            throw fail("a ResNet spec ends with the number of outputs, as …-10")
        }
        var v = [Character: Int]()
        for t in tokens {
            guard let head = t.first, "wbs".contains(head), let n = Int(t.dropFirst()), n > 0, v[head] == nil else {
                throw fail("'\(t)' is not one of w<width>, b<blocks per stage>, s<stages> (each once, positive)")
            }
            v[head] = n
        }
        for key in "wbs" where v[key] == nil { throw fail("missing '\(key)<n>' (need w<width>, b<blocks per stage>, s<stages>)") }
        let (width, blocks, stages) = (v["w"]!, v["b"]!, v["s"]!)
        // Each stage after the first halves the image (stride 2, padding 1: ⌈H/2⌉, never below 1).
        guard stages <= 8 else { throw fail("\(stages) stages: at most 8") }

        func conv(_ ci: Int, _ co: Int, k: Int = 3, stride: Int = 1) -> Layer {
            .conv2d(inChannels: ci, outChannels: co, kernel: k, stride: stride, padding: k / 2, bias: false)
        }
        var layers: [Layer] = [conv(input[2], width), .batchNorm(features: width), .activation(activation)]
        var channels = width
        for stage in 0..<stages {
            let out = width << stage
            for block in 0..<blocks {
                let stride = stage > 0 && block == 0 ? 2 : 1
                let branch: [Layer] = [conv(channels, out, stride: stride), .batchNorm(features: out), .activation(activation),
                                       conv(out, out), .batchNorm(features: out)]
                if stride == 1 && channels == out {
                    layers.append(.residual(branch))
                } else {
                    layers.append(.projectedResidual(branch: branch, shortcut: [conv(channels, out, k: 1, stride: stride), .batchNorm(features: out)]))
                }
                layers.append(.activation(activation))
                channels = out
            }
        }
        layers += [.globalAvgPool, .dense(inputs: channels, outputs: classes, bias: bias)]
        return (layers, input)
    }
}
