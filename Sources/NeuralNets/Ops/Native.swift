import CKernels
import Linalg

/// Which implementation a Float pass uses for the kernels that have a C version
/// (`Sources/CKernels`): the fastest the CPU runs (AVX2 + FMA where it has them), the portable
/// C variant, or the Swift reference path that Double always takes. Results differ between
/// paths in the last bits only; one path on one machine is bit-reproducible.
public enum KernelPath: Sendable, Equatable {
    case best, portable, reference

    /// What `.best` runs on this CPU.
    public static var bestAvailable: String { ck_isa_level() == 1 ? "avx2+fma" : "portable" }
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
        case .reference: return nil
        }
    }
}

/// Scalars of the attention probabilities: the C kernels pad each row to a multiple of 8
/// (the Swift path uses the first B·H·N·N).
func attentionProbsCount(_ a: Heads) -> Int {
    Int(ck_attention_probs(Int32(a.batch), Int32(a.tokens), Int32(a.heads)))
}

/// Scratch scalars the native attention kernels need.
func attentionScratchCount(tokens: Int, headDim: Int) -> Int {
    Int(ck_attention_scratch(Int32(tokens), Int32(headDim)))
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

func nativeGeluBackward<T: Scalar>(_ x: UnsafePointer<T>, _ aux: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ n: Int, flag: Int32) {
    ck_gelu_backward(floats(x)!, floats(aux)!, floats(dy)!, floats(dx)!, n, flag)
}
