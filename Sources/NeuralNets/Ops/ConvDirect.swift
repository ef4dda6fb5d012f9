import CKernels
import Linalg

// Stride-1 convolutions through the direct C kernels (conv512.c), which read the padded image
// in place instead of building the im2col patch matrix: the forward pass, the input gradient as
// the convolution of the padded dy with the flipped, transposed kernel, and the weight gradient
// (unless the input gradient takes the im2col path, which makes it anyway). Only Float on the
// `.best` path, on AVX-512, for the channel counts the kernels are compiled for (3: an RGB stem;
// 16, 32, 64), and for images with enough pixels that the columns they compute and drop
// (Wp − Wo of each padded row) cost little.
//
// Their sums run in other orders than im2col + sgemm's, so results differ from that path's in
// the last bits. No model of the shipped sweeps and presets has a layer they take (those run
// 7×7, 8×8 and 14×14 images, and their 14×14 convolutions have 1 or 4 input channels), so no
// stored result of theirs came from the other path.

/// Fewest output pixels per image for the direct kernel: a 16×16 image's 18-wide padded rows
/// waste 11% of its work, an 8×8's 20% — there im2col + sgemm is as fast.
let directConvMinPixels = 256

/// The kernel flag when the direct kernel takes a stride-1 convolution of `g` (whose `c` is
/// the input's channels) into `outChannels`, else nil.
func directConvFlag<T: Scalar>(_ g: Window, outChannels: Int, path: KernelPath, _: T.Type) -> Int32? {
    guard let flag = path.flag(T.self), flag == 0, ck_sgemm_available() != 0 else { return nil }
    guard g.stride == 1, g.k > 1, g.k <= 7, g.pad < g.k, [3, 16, 32, 64].contains(g.c),
          outChannels % 16 == 0, outChannels <= 256, g.ho * g.wo >= directConvMinPixels else { return nil }
    return flag
}

/// The flag when the direct kernel takes the input gradient of that convolution: a stride-1
/// convolution of dy[B, Ho, Wo, Cout] padded by k − 1 − pad, back to H × W × C.
func directConvGradientFlag<T: Scalar>(_ g: Window, outChannels: Int, path: KernelPath, _: T.Type) -> Int32? {
    guard g.stride == 1, g.pad < g.k else { return nil }
    let back = Window(input: [g.ho, g.wo, outChannels], k: g.k, stride: 1, pad: g.k - 1 - g.pad)
    return directConvFlag(back, outChannels: g.c, path: path, T.self)
}

// y[B, Ho, Wo, Cout] = conv(x, W[Cout, k·k·C]) + b, W transposed into the scratch as the kernel reads it.
func directConvForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let padded = Int(ck_conv_direct_scratch(Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.pad)))
    let s = scratch(padded + g.patch * co), wt = s + padded
    for o in 0..<co { for r in 0..<g.patch { wt[r * co + o] = w[o * g.patch + r] } }  // wt[r, o] = W[o, r]
    return ck_conv_direct(floats(x)!, floats(UnsafePointer(wt))!, bias.map { floats($0)! }, floats(y)!, Int32(batch),
                          Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.pad), Int32(co), 0, floats(s)!, flag) != 0
}

// dx[B, H, W, C] += Σ_taps dy_padded[·, ih + kh, iw + kw, o] · W[o, (k−1−kh, k−1−kw), c].
func directConvInputGradient<T: Scalar>(
    _ dy: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let k = g.k, pad = k - 1 - g.pad, taps = k * k, c = g.c
    let padded = Int(ck_conv_direct_scratch(Int32(g.ho), Int32(g.wo), Int32(co), Int32(k), Int32(pad)))
    let s = scratch(padded + taps * co * c), wt = s + padded
    // wt[(t, o), c] = W[o, (taps − 1 − t, c)]: the kernel flipped in both directions.
    for t in 0..<taps {
        for o in 0..<co {
            let src = w + o * g.patch + (taps - 1 - t) * c, dst = wt + (t * co + o) * c
            for j in 0..<c { dst[j] = src[j] }
        }
    }
    return ck_conv_direct(floats(dy)!, floats(UnsafePointer(wt))!, nil, floats(dx)!, Int32(batch), Int32(g.ho), Int32(g.wo),
                          Int32(co), Int32(k), Int32(pad), Int32(c), 1, floats(s)!, flag) != 0
}

// dW[Cout, k·k·C] += Σ patch ⊗ dy, db += Σ dy: the kernel sums into the transposed layout (in the
// scratch), added here into dW's.
func directConvWeightGradient<T: Scalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    batch: Int, _ g: Window, outChannels co: Int, scratch: (Int) -> UnsafeMutablePointer<T>, flag: Int32
) -> Bool {
    let padded = Int(ck_conv_direct_scratch(Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.pad)))
    let s = scratch(padded + g.patch * co), dwt = s + padded
    dwt.update(repeating: 0, count: g.patch * co)
    guard ck_conv_direct_wgrad(floats(x)!, floats(dy)!, floats(dwt)!, db.map { floats($0)! }, Int32(batch), Int32(g.h),
                               Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.pad), Int32(co), floats(s)!, flag) != 0 else { return false }
    for o in 0..<co { for r in 0..<g.patch { dw[o * g.patch + r] += dwt[r * co + o] } }
    return true
}
