import CKernels
import Linalg

// Convolutions (stride 1 or 2) through the direct C kernels (conv512.c), which read the padded
// image in place instead of building the im2col patch matrix: the forward pass, the weight
// gradient (unless the input gradient takes the im2col path, which makes it anyway) and the
// input gradient. Only Float on the `.best` path, on AVX-512, for the channel counts the kernels
// are compiled for (3: an RGB stem; 16, 32, 64), and for images with enough pixels that the
// columns they compute and drop (a few of each padded row) cost little.
//
// Their sums run in other orders than im2col + sgemm's, so results differ from that path's in
// the last bits. No model of the shipped sweeps and presets has a layer they take (those run
// 7×7, 8×8 and 14×14 images, and their 14×14 convolutions have 1 or 4 input channels), so no
// stored result of theirs came from the other path.

/// Fewest pixels per image for the direct kernels — the output's; for the input gradient, the
/// input's per stride phase — : a 16×16 image's 18-wide padded rows waste 11% of their work, an
/// 8×8's 20%, and there im2col + sgemm is as fast.
let directConvMinPixels = 256

/// The kernel flag when the direct kernels take this convolution's forward pass and weight
/// gradient (`which` 0) or its input gradient (`which` 2), else nil.
func directConvFlag<T: Scalar>(_ g: Window, outChannels: Int, which: Int32, path: KernelPath, _: T.Type) -> Int32? {
    guard let flag = path.flag(T.self), flag == 0 else { return nil }
    guard (which == 2 ? g.h * g.w / (g.stride * g.stride) : g.ho * g.wo) >= directConvMinPixels,
          ck_conv_direct_supports(which, Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.stride), Int32(g.pad),
                                  Int32(outChannels)) != 0 else { return nil }
    return flag
}

private func directScratch<T: Scalar>(_ g: Window, outChannels co: Int, extra: Int, _ scratch: (Int) -> UnsafeMutablePointer<T>)
    -> (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) {
    let n = Int(ck_conv_direct_scratch(Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.stride), Int32(g.pad), Int32(co)))
    let s = scratch(n + extra)
    return (s, s + n)
}

// y[B, Ho, Wo, Cout] = conv(x, W[Cout, k·k·C]) + b, W transposed into the scratch as the kernel reads it.
func directConvForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let (s, wt) = directScratch(g, outChannels: co, extra: g.patch * co, scratch)
    for o in 0..<co { for r in 0..<g.patch { wt[r * co + o] = w[o * g.patch + r] } }  // wt[r, o] = W[o, r]
    return ck_conv_direct(floats(x)!, floats(UnsafePointer(wt))!, bias.map { floats($0)! }, floats(y)!, Int32(batch),
                          Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.stride), Int32(g.pad), Int32(co), 0,
                          floats(s)!, flag) != 0
}

// dW[Cout, k·k·C] += Σ patch ⊗ dy, db += Σ dy: the kernel sums into the transposed layout (in the
// scratch), added here into dW's.
func directConvWeightGradient<T: Scalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let (s, dwt) = directScratch(g, outChannels: co, extra: g.patch * co, scratch)
    dwt.update(repeating: 0, count: g.patch * co)
    guard ck_conv_direct_wgrad(floats(x)!, floats(dy)!, floats(dwt)!, db.map { floats($0)! }, Int32(batch), Int32(g.h),
                               Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.stride), Int32(g.pad), Int32(co), floats(s)!,
                               flag) != 0 else { return false }
    for o in 0..<co { for r in 0..<g.patch { dw[o * g.patch + r] += dwt[r * co + o] } }
    return true
}

/// Whether the direct kernel writes every entry of this convolution's input gradient (so the
/// pass need not zero it first): it takes the input gradient, and each stride phase of dx's
/// pixels has a tap (k ≥ stride; a 1×1 stride-2 layer reaches one pixel in four).
func directConvWritesInputGradient<T: Scalar>(_ g: Window, outChannels: Int, path: KernelPath, _: T.Type) -> Bool {
    g.k >= g.stride && directConvFlag(g, outChannels: outChannels, which: 2, path: path, T.self) != nil
}

// dx[B, H, W, C] += the input gradient (written, with `overwrite`), one phase of dx's pixels per
// stride position (conv512.c).
func directConvInputGradient<T: Scalar>(
    _ dy: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, outChannels co: Int, overwrite: Bool, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let (s, _) = directScratch(g, outChannels: co, extra: 0, scratch)
    return ck_conv_direct_dgrad(floats(dy)!, floats(w)!, floats(dx)!, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c),
                                Int32(g.k), Int32(g.stride), Int32(g.pad), Int32(co), overwrite ? 0 : 1, floats(s)!, flag) != 0
}
