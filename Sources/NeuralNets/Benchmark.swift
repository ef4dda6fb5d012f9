import Foundation
import Linalg

/// The engine's reference training shapes (issue #2), each measured as SGD-momentum steps on a
/// fixed batch of 128, single-threaded, exactly as the peers in bench/peers/ do.
package struct BenchmarkShape: Sendable {
    package var key: String
    package var name: String
    package var spec: String
    package var batch: Int

    package static let all: [BenchmarkShape] = [
        .init(key: "a", name: "mlp64", spec: "mlp:64-32-10:relu", batch: 128),
        .init(key: "b", name: "mlp784s", spec: "mlp:784-64-10:relu", batch: 128),
        .init(key: "c", name: "mlp784l", spec: "mlp:784-512-512-10:relu", batch: 128),
        .init(key: "d", name: "cnn", spec: "cnn:28x28x1-c16-m2-c32-m2-10:relu", batch: 128),
        .init(key: "e", name: "vit", spec: "vit:28x28x1-p4-d64-b2-h4-m128-10", batch: 128),
        // ResNet-8 with batch norm on 32×32×3 (issue #21); not in the default set of `overparam
        // bench` until its peers are measured beside it.
        .init(key: "f", name: "resnet8", spec: "resnet:32x32x3-w16-b1-s3-10", batch: 128),
    ]

    package static func named(_ s: String) -> BenchmarkShape? {
        all.first { $0.key == s || $0.name == s }
    }
}

package struct BenchmarkResult: Sendable, Codable {
    package var name: String
    package var framework: String
    package var spec: String
    package var steps_per_second: Double
    package var gflops: Double
    package var parameters: Int
    package var flops_per_step: Int
    package var seconds_per_step: Double
    /// Samples per forward/backward chunk of the batch (`Network.chunkSamples`; the batch when whole).
    package var chunk_samples: Int
}

/// One shape's network, fixed batch and SGD-momentum optimizer, as the peers set them up.
final class BenchmarkStepper {
    var net: Network<Float>
    /// The batch, on cache lines as a training run's gathered mini-batch is (in the workspace)
    /// and as the peers' tensors are: a Swift array's 16-byte alignment would split every
    /// vector read of its rows across two lines.
    let x: UnsafeMutablePointer<Float>
    let labels: [Int32]
    var opt = Optimizer<Float>(.sgd(momentum: 0.9), learningRate: 0.01)
    let ws = Workspace<Float>()
    let batch: Int

    init(_ shape: BenchmarkShape) throws {
        var net = try Network<Float>(spec: shape.spec)
        net.initialize(.torch, rng: RNG(seed: 1))
        var r = RNG(seed: 2)
        let batch = shape.batch, classes = net.outputSize
        let values: [Float] = r.normals(batch * net.inputSize)
        x = UnsafeMutableRawPointer.allocate(byteCount: values.count * 4, alignment: 64).bindMemory(to: Float.self, capacity: values.count)
        x.initialize(from: values, count: values.count)
        labels = (0..<batch).map { _ in Int32(r.int(below: classes)) }
        self.net = net
        self.batch = batch
    }

    deinit { x.deallocate() }

    func step() {
        labels.withUnsafeBufferPointer { l in
            _ = net.lossAndGradient(x, batch: batch, targets: .classes(l), loss: .crossEntropy, ws: ws)
        }
        opt.update(&net.parameters, net.gradients)
    }
}

/// One shape set up and warmed, timed in windows on demand: `benchmark` takes the best of a few;
/// `overparam bench --serve` times one per request, so that a driver (bench/paired.py) can
/// alternate its windows with the peers' and read each ratio within the same few seconds.
package final class BenchmarkSession {
    let shape: BenchmarkShape
    let run: BenchmarkStepper

    package init(_ shape: BenchmarkShape) throws {
        self.shape = shape
        run = try BenchmarkStepper(shape)
        // Warm-up: page in buffers and let the caches settle.
        let warmStart = DispatchTime.now().uptimeNanoseconds
        var warm = 0
        while warm < 5 || (warm < 200 && Double(DispatchTime.now().uptimeNanoseconds - warmStart) < 0.3e9) { run.step(); warm += 1 }
    }

    /// Seconds per step over a window of about `seconds` (at least 5 steps).
    package func secondsPerStep(window seconds: Double) -> Double { 1 / rate(seconds: seconds, minimum: 5, run.step) }

    /// The shape's figures at `secondsPerStep`.
    package func result(secondsPerStep t: Double) -> BenchmarkResult {
        let flops = run.net.flopsPerStep(batch: shape.batch)
        return BenchmarkResult(name: shape.name, framework: "overparam", spec: shape.spec, steps_per_second: 1 / t,
                               gflops: Double(flops) / t / 1e9, parameters: run.net.parameterCount,
                               flops_per_step: flops, seconds_per_step: t,
                               chunk_samples: run.net.chunkSamples(batch: shape.batch, ws: run.ws))
    }
}

/// Times training steps of one shape: warm-up, then `repetitions` windows of about `seconds`
/// each; the best window counts (the least disturbed by the rest of the machine).
package func benchmark(_ shape: BenchmarkShape, seconds: Double = 2, repetitions: Int = 3,
                      profile: ((Network<Float>, [Int: Workspace<Float>.LayerTime], Int) -> Void)? = nil) throws -> BenchmarkResult {
    let session = try BenchmarkSession(shape)
    let best = (0..<max(1, repetitions)).map { _ in session.secondsPerStep(window: seconds) }.min()!
    if let profile {
        let run = session.run, ws = run.ws
        ws.profile = [:]
        let steps = max(5, Int(seconds / best))
        for _ in 0..<steps { run.step() }
        profile(run.net, ws.profile!, steps)
        ws.profile = nil
    }
    return session.result(secondsPerStep: best)
}

/// Rate of `body` (calls per second) over a window of about `seconds`, at least `minimum` calls.
func rate(seconds: Double, minimum: Int = 3, _ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    var calls = 0
    var elapsed = 0.0
    repeat {
        body()
        calls += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    } while elapsed < seconds || calls < minimum
    return Double(calls) / elapsed
}

/// Two measurements in alternating windows, ABBA, so that neither side always follows the other
/// and a slow spell of the machine falls on both alike: each side's figure per window, A's first.
func alternate(rounds: Int, _ a: () -> Double, _ b: () -> Double) -> (a: [Double], b: [Double]) {
    var ra = [Double](), rb = [Double]()
    for i in 0..<max(1, rounds) {
        if i % 2 == 0 { ra.append(a()); rb.append(b()) } else { rb.append(b()); ra.append(a()) }
    }
    return (ra, rb)
}

/// Steps per second of one shape under two settings of the engine (say, `BLAS.ownSgemm` on and
/// off, or the workspace's kernel path), in alternating windows of about `seconds` within one
/// process: the same network, data and warm caches for both. Returns each side's rate per
/// window, A's first.
package func benchmarkAB(_ shape: BenchmarkShape, seconds: Double = 0.5, rounds: Int = 10,
                        setA: (Workspace<Float>) -> Void, setB: (Workspace<Float>) -> Void) throws -> (a: [Double], b: [Double]) {
    let run = try BenchmarkStepper(shape)
    let ws = run.ws
    setA(ws); _ = rate(seconds: 0.2, run.step)
    setB(ws); _ = rate(seconds: 0.2, run.step)
    return alternate(rounds: rounds, { setA(ws); return rate(seconds: seconds, run.step) },
                     { setB(ws); return rate(seconds: seconds, run.step) })
}

/// One shape's GFLOP/s against the single-threaded OpenBLAS sgemm rate on 1024³, in alternating
/// windows of about `seconds` within one process: the fraction of the machine's sgemm rate that
/// a step reaches, read against the sgemm of the same minute (the machine's speed swings by
/// ±30% within minutes, so a ceiling measured once before the shape misreads it). Returns the
/// shape's and the sgemm's GFLOP/s per window.
package func benchmarkAgainstSgemm(_ shape: BenchmarkShape, seconds: Double = 0.5, rounds: Int = 10,
                                  n: Int = 1024) throws -> (shape: [Double], sgemm: [Double]) {
    let run = try BenchmarkStepper(shape)
    let flops = Double(run.net.flopsPerStep(batch: shape.batch))
    return withSgemmOperands(n) { product in
        _ = rate(seconds: 0.2, run.step)
        _ = rate(seconds: 0.2, product)
        let (a, b) = alternate(rounds: rounds, { flops * rate(seconds: seconds, run.step) / 1e9 },
                               { 2 * Double(n * n * n) * rate(seconds: seconds, product) / 1e9 })
        return (a, b)
    }
}

/// `body` given one OpenBLAS sgemm call on fixed n × n operands.
func withSgemmOperands<R>(_ n: Int, _ body: (() -> Void) -> R) -> R {
    var r = RNG(seed: 0)
    let a: [Float] = r.normals(n * n), b: [Float] = r.normals(n * n)
    var c = [Float](repeating: 0, count: n * n)
    return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
        body { openblasSgemm(m: n, n: n, k: n, pa.baseAddress!, pb.baseAddress!, pc.baseAddress!) }
    } } }
}

/// The single-threaded OpenBLAS sgemm rate on a square product of size n (GFLOP/s, best of
/// three windows): the ceiling against which the training shapes' GFLOP/s are read.
package func sgemmRate(n: Int = 1024, seconds: Double = 1) -> Double {
    withSgemmOperands(n) { product in
        product()
        let best = (0..<3).map { _ in rate(seconds: seconds / 3, minimum: 1, product) }.max()!
        return 2 * Double(n * n * n) * best / 1e9
    }
}
