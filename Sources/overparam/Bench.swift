import ArgumentParser
import Foundation
import Linalg
import NeuralNets

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training steps per second and GFLOP/s on the reference shapes (single-threaded).")

    @Option(help: "Comma-separated shapes: a,b,c,d,e,f or mlp64,mlp784s,mlp784l,cnn,vit,resnet8.")
    var shapes: String = "a,b,c,d,e"

    @Option(help: "Seconds per timing window (best of three windows).")
    var seconds: Double = 2

    @Flag(help: "Print one JSON object per shape.")
    var json = false

    @Flag(help: "After timing, print milliseconds per step spent in each layer (forward, backward).")
    var profile = false

    @Flag(help: "Also measure the single-threaded sgemm rate (1024³), the ceiling for GFLOP/s.")
    var sgemm = false

    @Flag(help: "Compare the layers' sgemm kernels: Overparam's own (AVX-512 or AVX2) against OpenBLAS's, in alternating windows of --seconds within one process; prints medians and their ratio.")
    var abSgemm = false

    @Flag(help: "Compare the C kernels: the fastest this CPU runs (the AVX-512 attention core) against the AVX2 + FMA ones, as --ab-sgemm does.")
    var abKernels = false

    @Option(help: "Compare forward/backward passes in chunks of N samples against the whole batch at once (N), or against chunks of M (N,M), as --ab-sgemm does.")
    var abChunk: String? = nil

    @Flag(help: "Compare the layers fused into products' epilogues (a dense layer's ReLU, and its input gradient through a ReLU or GELU below it; a residual connection's sum, made by its branch's last product, and its gradient, by the branch's layer norm) against the passes apart, as --ab-sgemm does.")
    var abFusion = false

    @Flag(help: "Read each shape's GFLOP/s against the OpenBLAS sgemm rate (1024³) of the same minute: alternating windows of --seconds within one process; prints medians and the median ratio.")
    var vsSgemm = false

    @Option(help: "Windows per side for --ab-sgemm, --ab-kernels, --ab-chunk, --ab-fusion and --vs-sgemm.")
    var rounds = 10

    @Flag(help: "Set up one shape, print a ready line, then time one window of --seconds for each line read from standard input and print it as JSON (bench/paired.py alternates these windows with the peers').")
    var serve = false

    /// `--serve`: one window per request line, until end of input or `quit`.
    func serveWindows(_ shape: BenchmarkShape) throws {
        let session = try BenchmarkSession(shape)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print("{\"ready\":\"\(shape.name)\",\"framework\":\"overparam\"}")
        fflush(stdout)
        while let line = readLine(), line.trimmingCharacters(in: .whitespaces) != "quit" {
            let r = session.result(secondsPerStep: session.secondsPerStep(window: seconds))
            print(String(decoding: try enc.encode(r), as: UTF8.self))
            fflush(stdout)
        }
    }

    /// Both settings in one process, alternating windows: medians and the spread of their ratios.
    func compare(_ picked: [BenchmarkShape], _ names: (String, String),
                 setA: (Workspace<Float>) -> Void, setB: (Workspace<Float>) -> Void) throws {
        let (a, b) = (names.0, names.1)
        print("shape     \(pad(a + " steps/s", 12, right: true))  \(pad(b + " steps/s", 16, right: true))  \(pad(a + "/" + b, 12, right: true))   (medians of \(rounds) alternating windows of \(seconds) s)")
        for shape in picked {
            let (ra, rb) = try benchmarkAB(shape, seconds: seconds, rounds: rounds, setA: setA, setB: setB)
            let ratios = zip(ra, rb).map { $0 / $1 }
            print(pad(shape.name, 9), pad(String(format: "%.1f", median(ra)), 12, right: true),
                  pad(String(format: "%.1f", median(rb)), 17, right: true),
                  pad(String(format: "%.3f", median(ratios)), 13, right: true),
                  "  (window ratios \(String(format: "%.2f", ratios.min()!))–\(String(format: "%.2f", ratios.max()!)))")
            fflush(stdout)
        }
    }

    /// Each shape against the sgemm ceiling in alternating windows (`benchmarkAgainstSgemm`).
    func againstSgemm(_ picked: [BenchmarkShape]) throws {
        if !json { print("shape     step GFLOP/s  sgemm GFLOP/s  % of sgemm   (medians of \(rounds) alternating windows of \(seconds) s)") }
        for shape in picked {
            let (rs, rg) = try benchmarkAgainstSgemm(shape, seconds: seconds, rounds: rounds)
            let ratios = zip(rs, rg).map { $0 / $1 }
            if json {
                print("{\"name\":\"\(shape.name)\",\"framework\":\"overparam\",\"measure\":\"vs_sgemm1024\",\"gflops\":\(String(format: "%.2f", median(rs))),\"sgemm_gflops\":\(String(format: "%.2f", median(rg))),\"fraction_of_sgemm\":\(String(format: "%.4f", median(ratios))),\"fraction_min\":\(String(format: "%.4f", ratios.min()!)),\"fraction_max\":\(String(format: "%.4f", ratios.max()!)),\"windows\":\(rounds)}")
            } else {
                print(pad(shape.name, 9), pad(String(format: "%.1f", median(rs)), 14, right: true),
                      pad(String(format: "%.1f", median(rg)), 14, right: true),
                      pad(String(format: "%.1f%%", 100 * median(ratios)), 11, right: true),
                      "  (window ratios \(String(format: "%.0f", 100 * ratios.min()!))–\(String(format: "%.0f", 100 * ratios.max()!))%)")
            }
            fflush(stdout)
        }
    }

    func run() throws {
        BLAS.threads = 1
        let picked = try shapes.split(separator: ",").map { s -> BenchmarkShape in
            guard let shape = BenchmarkShape.named(String(s)) else {
                throw ValidationError("unknown shape '\(s)'; choose from \(BenchmarkShape.all.map { "\($0.key)/\($0.name)" }.joined(separator: ", "))")
            }
            return shape
        }
        if serve {
            guard picked.count == 1 else { fail(ValidationError("--serve: give one shape (--shapes e), got \(picked.count)")) }
            do { try serveWindows(picked[0]) } catch { fail(error) }
            return
        }
        if sgemm {
            let rate = sgemmRate()
            if json { print("{\"name\":\"sgemm1024\",\"framework\":\"openblas\",\"blas_core\":\"\(BLAS.core)\",\"sgemm_kernel\":\"\(BLAS.sgemmName)\",\"gflops\":\(String(format: "%.2f", rate))}") }
            else { print(String(format: "sgemm 1024³, one thread: %.1f GFLOP/s", rate) + " (OpenBLAS \(BLAS.core) kernels; layers' sgemm: \(BLAS.sgemmName); C kernels: \(KernelPath.bestAvailable))") }
        }
        if vsSgemm {
            try againstSgemm(picked)
            return
        }
        if abSgemm {
            guard BLAS.ownSgemmAvailable else { fail(ValidationError("--ab-sgemm: this CPU has neither AVX-512 nor AVX2 with FMA, so only OpenBLAS runs")) }
            let initial = BLAS.ownSgemm
            defer { BLAS.ownSgemm = initial }
            try compare(picked, ("own", "OpenBLAS"), setA: { _ in BLAS.ownSgemm = true }, setB: { _ in BLAS.ownSgemm = false })
            return
        }
        if let spec = abChunk {
            let sizes = spec.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(sizes.count), sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                fail(ValidationError("--ab-chunk: expected N or N,M with chunks of at least one sample (e.g. 8 or 5,15), got '\(spec)'"))
            }
            let a = sizes[0]!, b = sizes.count == 2 ? sizes[1]! : Int.max
            try compare(picked, ("chunk \(a)", b == Int.max ? "whole" : "chunk \(b)"),
                        setA: { $0.chunkSamples = a }, setB: { $0.chunkSamples = b })
            return
        }
        if abFusion {
            try compare(picked, ("fused", "apart"), setA: { $0.fusesReLU = true; $0.fusesResidual = true; $0.fusesGELU = true },
                        setB: { $0.fusesReLU = false; $0.fusesResidual = false; $0.fusesGELU = false })
            return
        }
        if abKernels {
            guard KernelPath.bestAvailable.hasPrefix("avx512") else {
                fail(ValidationError("--ab-kernels: this CPU has no AVX-512, so its best C kernels are the AVX2 ones (\(KernelPath.bestAvailable))"))
            }
            try compare(picked, ("best", "AVX2"), setA: { $0.kernels = .best }, setB: { $0.kernels = .avx2 })
            return
        }
        if !json { print("shape     spec                                  params     steps/s    GFLOP/s") }
        for shape in picked {
            let r: BenchmarkResult
            do {
                r = try benchmark(shape, seconds: seconds, profile: profile ? { printProfile($0, $1, $2, batch: shape.batch) } : nil)
            } catch { fail(error) }
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                print(String(decoding: try enc.encode(r), as: UTF8.self))
            } else {
                print(pad(r.name, 9), pad(r.spec, 37), pad(String(r.parameters), 10, right: true),
                      pad(String(format: "%.1f", r.steps_per_second), 10, right: true),
                      pad(String(format: "%.1f", r.gflops), 10, right: true))
            }
            fflush(stdout)
        }
    }
}

func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    if s.count >= n { return s }
    let fill = String(repeating: " ", count: n - s.count)
    return right ? fill + s : s + fill
}

/// Milliseconds per step in each layer, with the GFLOP/s of the layers that make products
/// (`Network.productFlops`), and their total for the convolutions.
func printProfile(_ net: Network<Float>, _ times: [Int: Workspace<Float>.LayerTime], _ steps: Int, batch: Int) {
    var total = (0.0, 0.0)
    var lines = [String]()
    let flops = net.productFlops(batch: batch)
    var conv = (flops: 0.0, seconds: 0.0)
    func walk(_ nodes: [Node], _ indent: String) {
        for n in nodes {
            // Every pass times each node or, for a fused pair (dense + ReLU, ReLU + max pool), the
            // pair under its first node.
            guard let t = times[n.id] else {
                lines.append(pad("\(indent)\(n.id) \(n.layer)", 34) + "   (fused: timed with the layer before)")
                continue
            }
            let f = 1e3 * t.forward / Double(steps), b = 1e3 * t.backward / Double(steps)
            if indent.isEmpty { total.0 += f; total.1 += b }
            var rate = ""
            if let c = flops[n.id] {
                rate = String(format: " %8.1f", Double(c.forward + c.backward) / ((f + b) / 1e3) / 1e9)
                if case .conv2d = n.layer { conv.flops += Double(c.forward + c.backward); conv.seconds += (f + b) / 1e3 }
            }
            lines.append(pad("\(indent)\(n.id) \(n.layer)", 34) + String(format: "%9.3f %9.3f", f, b) + rate)
            walk(n.children, indent + "  ")
        }
    }
    walk(net.nodes, "")
    print(pad("  layer (ms per step)", 34) + "  forward  backward  GFLOP/s")
    for l in lines { print("  " + l) }
    print(pad("  total", 34) + String(format: "  %9.3f %9.3f", total.0, total.1))
    if conv.seconds > 0 {
        print(String(format: "  convolutions: %.2f GFLOP per step in %.1f ms, %.1f GFLOP/s", conv.flops / 1e9, conv.seconds * 1e3,
                     conv.flops / conv.seconds / 1e9))
    }
}
