import CKernels
import Linalg

/// Which implementation a Float pass uses for the kernels that have a C version
/// (`Sources/CKernels`): the fastest the CPU runs (AVX2 + FMA where it has them, and AVX-512
/// attention and GELU where it has that), the AVX2 + FMA variants only (`.avx2`; portable on CPUs without AVX2), the
/// portable C variant, or the Swift reference path that Double always takes. Results differ
/// between paths in the last bits only; one path on one machine is bit-reproducible.
public enum KernelPath: Sendable, Equatable {
    case best, avx2, portable, reference

    /// What `.best` runs on this CPU.
    public static var bestAvailable: String {
        switch ck_isa_level() {
        case 2: return "avx512+avx2+fma"
        case 1: return "avx2+fma"
        default: return "portable"
        }
    }
}

/// The Float view of a buffer when T is Float (nil otherwise), for handing to the C kernels.
@inline(__always)
func floats<T: Scalar>(_ p: UnsafePointer<T>) -> UnsafePointer<Float>? {
    T.self == Float.self ? UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) : nil
}

@inline(__always)
func floats<T: Scalar>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float>? {
    T.self == Float.self ? UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) : nil
}

extension KernelPath {
    /// The C kernels' `portable` flag, or nil where the Swift reference path is to run.
    func flag<T: Scalar>(_: T.Type) -> Int32? {
        guard T.self == Float.self else { return nil }
        switch self {
        case .best: return 0
        case .portable: return 1
        case .avx2: return 2
        case .reference: return nil
        }
    }
}

/// Scalars of the attention probabilities: the C kernels pad each row (to a multiple of 16)
/// (the Swift path uses the first B·H·N·N).
func attentionProbsCount(_ a: Heads) -> Int {
    Int(ck_attention_probs(Int32(a.batch), Int32(a.tokens), Int32(a.heads)))
}

/// Scratch scalars the native attention kernels need.
func attentionScratchCount(_ a: Heads) -> Int {
    Int(ck_attention_scratch(Int32(a.tokens), Int32(a.dim), Int32(a.heads)))
}

// Attention core through the C kernels; false when the shape is not one they take.
func nativeAttentionForward<T: Scalar>(
    _ qkv: UnsafePointer<T>, _ probs: UnsafeMutablePointer<T>, _ ctx: UnsafeMutablePointer<T>,
    _ a: Heads, scratch: UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    ck_attention_forward(floats(qkv)!, floats(probs)!, floats(ctx)!, Int32(a.batch), Int32(a.tokens),
                         Int32(a.dim), Int32(a.heads), floats(scratch)!, flag) != 0
}

func nativeAttentionBackward<T: Scalar>(
    _ qkv: UnsafePointer<T>, _ probs: UnsafePointer<T>, _ dctx: UnsafePointer<T>, _ dqkv: UnsafeMutablePointer<T>,
    _ a: Heads, scratch: UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    ck_attention_backward(floats(qkv)!, floats(probs)!, floats(dctx)!, floats(dqkv)!, Int32(a.batch), Int32(a.tokens),
                          Int32(a.dim), Int32(a.heads), floats(scratch)!, flag) != 0
}

func nativeGeluForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ aux: UnsafeMutablePointer<T>, _ n: Int, flag: Int32) {
    ck_gelu_forward(floats(x)!, floats(y)!, floats(aux)!, n, flag)
}

func nativeGeluBackward<T: Scalar>(_ aux: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ n: Int,
                                   add: Bool, flag: Int32) {
    ck_gelu_backward(floats(aux)!, floats(dy)!, floats(dx)!, n, add ? 1 : 0, flag)
}

/// The C kernels' flag when a convolution is one the direct one-channel kernel takes (3×3,
/// stride 1, one input channel, Float), else nil.
func nativeConv1Flag<T: Scalar>(_ g: Window, outChannels: Int, path: KernelPath, _: T.Type) -> Int32? {
    guard g.c == 1, g.k == 3, g.stride == 1, outChannels > 0 else { return nil }
    return path.flag(T.self)
}

func nativeConv1Forward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let s = scratch(Int(ck_conv1_scratch(Int32(g.h), Int32(g.w), Int32(g.pad), Int32(co))))
    return ck_conv1_forward(floats(x)!, floats(w)!, bias.map { floats($0)! }, floats(y)!, Int32(batch), Int32(g.h), Int32(g.w),
                            Int32(g.pad), Int32(co), floats(s)!, flag) != 0
}

func nativeConv1Backward<T: Scalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let s = scratch(Int(ck_conv1_scratch(Int32(g.h), Int32(g.w), Int32(g.pad), Int32(co))))
    return ck_conv1_backward(floats(x)!, floats(dy)!, floats(dw)!, db.map { floats($0)! }, Int32(batch), Int32(g.h), Int32(g.w),
                             Int32(g.pad), Int32(co), floats(s)!, flag) != 0
}

func nativeLayerNormForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
    _ stats: UnsafeMutablePointer<T>, rows: Int, features f: Int, flag: Int32
) -> Bool {
    ck_layernorm_forward(floats(x)!, floats(gamma)!, floats(beta)!, floats(y)!, floats(stats)!, rows, Int32(f),
                         Float(layerNormEpsilon), flag) != 0
}

func nativeLayerNormBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ stats: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ dgamma: UnsafeMutablePointer<T>, _ dbeta: UnsafeMutablePointer<T>,
    rows: Int, features f: Int, overwrite: Bool, base: UnsafePointer<T>?, scratch: UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    ck_layernorm_backward(floats(x)!, floats(gamma)!, floats(stats)!, floats(dy)!, dx.map { floats($0)! }, floats(dgamma)!,
                          floats(dbeta)!, rows, Int32(f), overwrite ? 0 : 1, base.map { floats($0)! }, floats(scratch)!,
                          flag) != 0
}

// ReLU + 2×2 max pool (stride 2) through the C kernels; false when the shape is not theirs.
func nativeReluMaxPoolForward<T: Scalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, batch: Int, _ g: Window, flag: Int32) -> Bool {
    guard g.k == 2, g.stride == 2 else { return false }
    return ck_relu_maxpool2_forward(floats(x)!, floats(y)!, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c), flag) != 0
}

func nativeReluMaxPoolBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, overwrite: Bool, flag: Int32
) -> Bool {
    guard g.k == 2, g.stride == 2 else { return false }
    return ck_relu_maxpool2_backward(floats(x)!, floats(y)!, floats(dy)!, floats(dx)!, Int32(batch), Int32(g.h), Int32(g.w),
                                     Int32(g.c), overwrite ? 0 : 1, flag) != 0
}
