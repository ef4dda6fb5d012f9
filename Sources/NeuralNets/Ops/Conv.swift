import CKernels
import Linalg

/// Geometry of a 2-D convolution or pooling window over an NHWC batch.
struct Window {
    var h, w, c, k, stride, pad, ho, wo: Int
    init(input s: [Int], k: Int, stride: Int, pad: Int) {
        h = s[0]; w = s[1]; c = s[2]; self.k = k; self.stride = stride; self.pad = pad
        ho = (h + 2 * pad - k) / stride + 1
        wo = (w + 2 * pad - k) / stride + 1
    }
    var patch: Int { k * k * c }
}

// col[B·Ho·Wo, k·k·C] ← x[B,H,W,C]: one row per output pixel, zeros where the window hangs
// over the padding. Channels last makes each (row of the window) a contiguous k·C run.
// Float passes other than the reference one copy in C (`ck_im2col`), with the same values; one
// channel keeps the tap-wise Swift loop below unless the image is small enough for C's padded copy.
func im2col<T: Scalar>(_ x: UnsafePointer<T>, _ col: UnsafeMutablePointer<T>, batch: Int, _ g: Window, path: KernelPath = .reference) {
    let native = path.flag(T.self) != nil
    if g.c == 1 && !(native && ck_im2col_padded(Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.pad)) != 0) {
        return im2colNarrow(x, col, batch: batch, g)
    }
    if native {
        return ck_im2col(floats(x)!, floats(col)!, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k),
                         Int32(g.stride), Int32(g.pad), Int32(g.ho), Int32(g.wo))
    }
    let run = g.k * g.c
    var dst = col
    for b in 0..<batch {
        let xb = x + b * g.h * g.w * g.c
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let iw0 = ow * g.stride - g.pad
                for kh in 0..<g.k {
                    let ih = oh * g.stride - g.pad + kh
                    if ih < 0 || ih >= g.h {
                        for j in 0..<run { dst[j] = 0 }
                    } else if iw0 >= 0 && iw0 + g.k <= g.w {
                        // Runs are short (k·C floats): a plain loop beats a memcpy call.
                        let src = xb + (ih * g.w + iw0) * g.c
                        for j in 0..<run { dst[j] = src[j] }
                    } else {
                        for kw in 0..<g.k {
                            let iw = iw0 + kw
                            let d = dst + kw * g.c
                            if iw < 0 || iw >= g.w { d.update(repeating: 0, count: g.c) }
                            else { d.update(from: xb + (ih * g.w + iw) * g.c, count: g.c) }
                        }
                    }
                    dst += run
                }
            }
        }
    }
}

// The same matrix for one channel (grey images), where a per-pixel run is k floats and small
// images are mostly border: one window tap at a time, the valid output columns a computed
// range, and one strided copy writes that tap's column.
func im2colNarrow<T: Scalar>(_ x: UnsafePointer<T>, _ col: UnsafeMutablePointer<T>, batch: Int, _ g: Window) {
    precondition(g.c == 1, "im2colNarrow: one channel only")
    let patch = g.patch
    for b in 0..<batch {
        let xb = x + b * g.h * g.w
        for oh in 0..<g.ho {
            let rowBase = col + ((b * g.ho + oh) * g.wo) * patch
            for kh in 0..<g.k {
                let ih = oh * g.stride - g.pad + kh
                for kw in 0..<g.k {
                    let dst = rowBase + kh * g.k + kw
                    guard ih >= 0 && ih < g.h else {
                        for ow in 0..<g.wo { dst[ow * patch] = 0 }
                        continue
                    }
                    // Output columns whose tap lands inside the image: iw = ow·s − pad + kw ∈ [0, W).
                    let lo = min(g.wo, max(0, (g.pad - kw + g.stride - 1) / g.stride))
                    let hi = min(g.wo, max(lo, (g.w - 1 + g.pad - kw) / g.stride + 1))
                    let s0 = xb + ih * g.w - g.pad + kw
                    for ow in 0..<lo { dst[ow * patch] = 0 }
                    for ow in lo..<hi { dst[ow * patch] = s0[ow * g.stride] }
                    for ow in hi..<g.wo { dst[ow * patch] = 0 }
                }
            }
        }
    }
}

// dx[B,H,W,C] += scatter of dcol[B·Ho·Wo, k·k·C] (the adjoint of im2col).
func col2imAdd<T: Scalar>(_ dcol: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, batch: Int, _ g: Window, path: KernelPath = .reference) {
    if path.flag(T.self) != nil {
        return ck_col2im_add(floats(dcol)!, floats(dx)!, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k),
                             Int32(g.stride), Int32(g.pad), Int32(g.ho), Int32(g.wo))
    }
    var src = dcol
    for b in 0..<batch {
        let xb = dx + b * g.h * g.w * g.c
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                let iw0 = ow * g.stride - g.pad
                for kh in 0..<g.k {
                    let ih = oh * g.stride - g.pad + kh
                    if ih >= 0 && ih < g.h && iw0 >= 0 && iw0 + g.k <= g.w {
                        // Inside the image the window's row is one contiguous k·C run, as in im2col.
                        let d = xb + (ih * g.w + iw0) * g.c
                        for j in 0..<g.k * g.c { d[j] += src[j] }
                    } else if ih >= 0 && ih < g.h {
                        for kw in 0..<g.k {
                            let iw = iw0 + kw
                            if iw >= 0 && iw < g.w { addInPlace(src + kw * g.c, xb + (ih * g.w + iw) * g.c, g.c) }
                        }
                    }
                    src += g.k * g.c
                }
            }
        }
    }
}

/// Samples per im2col chunk: the patch matrix of one chunk stays within ~512 KiB, so it is
/// written and read back while still in L2 instead of streaming the whole batch through memory.
/// Narrow patches (a first layer on one or three channels) are the exception: rebuilding them
/// costs more than keeping the whole batch's, so their chunk is the batch and the backward pass
/// reuses the forward pass's patches.
func convChunk(_ g: Window, batch: Int) -> Int {
    if g.patch < 32 { return batch }
    return max(1, min(batch, (128 * 1024) / max(1, g.ho * g.wo * g.patch)))
}

// y[B·Ho·Wo, Cout] = im2col(x) · W[Cout, k·k·Cin]ᵀ + b, a chunk of samples at a time.
func conv2dForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>,
    col: UnsafeMutablePointer<T>, batch: Int, _ g: Window, outChannels: Int,
    path: KernelPath = .reference, scratch: (Int) -> UnsafeMutablePointer<T> = { _ in fatalError() }
) {
    if let flag = nativeConv1Flag(g, outChannels: outChannels, path: path, T.self),
       nativeConv1Forward(x, w, bias, y, batch: batch, g, outChannels: outChannels, scratch: scratch, flag: flag) {
        return
    }
    if let flag = directConvFlag(g, outChannels: outChannels, which: 0, path: path, T.self),
       directConvForward(x, w, bias, y, batch: batch, g, outChannels: outChannels, scratch: scratch, flag: flag) {
        return
    }
    let chunk = convChunk(g, batch: batch)
    let inSize = g.h * g.w * g.c, pixels = g.ho * g.wo
    var b0 = 0
    while b0 < batch {
        let nb = min(chunk, batch - b0)
        im2col(x + b0 * inSize, col, batch: nb, g, path: path)
        denseForward(col, w, bias, y + b0 * pixels * outChannels, rows: nb * pixels, inputs: g.patch, outputs: outChannels)
        b0 += nb
    }
}

// dW += dyᵀ·col; db += Σ dy; dx += col2im(dy · W) — or each by the direct kernels where they
// take it (ConvDirect.swift); with `overwrite` (only where `directConvWritesInputGradient`) dx
// is written, not added to. The patch matrix is rebuilt chunk by chunk (cheap, in cache) unless
// one chunk is the whole batch: then it is still there from the forward pass, if that pass made
// one.
func conv2dBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?,
    _ dw: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>?,
    col: UnsafeMutablePointer<T>, dcol: UnsafeMutablePointer<T>, batch: Int, _ g: Window, outChannels: Int,
    path: KernelPath = .reference, overwrite: Bool = false, scratch: (Int) -> UnsafeMutablePointer<T> = { _ in fatalError() }
) {
    precondition(!overwrite || directConvWritesInputGradient(g, outChannels: outChannels, path: path, T.self),
                 "conv2dBackward: only the direct input gradient writes dx")
    // The direct one-channel kernel left no patches behind in the forward pass.
    var forwardWasDirect = false
    if let flag = nativeConv1Flag(g, outChannels: outChannels, path: path, T.self) {
        if dx == nil, nativeConv1Backward(x, dy, dw, db, batch: batch, g, outChannels: outChannels, scratch: scratch, flag: flag) {
            return
        }
        forwardWasDirect = true
    }
    let directW = directConvFlag(g, outChannels: outChannels, which: 0, path: path, T.self)
    if directW != nil { forwardWasDirect = true }
    // The input gradient by the direct kernel, after the weight gradient — direct too, unless the
    // im2col loop runs anyway for dx (which then makes no dcol where dx is direct).
    let directDx = dx == nil ? nil : directConvFlag(g, outChannels: outChannels, which: 2, path: path, T.self)
    let refused = "conv2dBackward: the direct kernel refused a shape it was chosen for"
    if let flag = directW, dx == nil || directDx != nil {
        guard directConvWeightGradient(x, dy, dw, db, batch: batch, g, outChannels: outChannels, scratch: scratch, flag: flag) else {
            preconditionFailure(refused)
        }
    } else {
        let chunk = convChunk(g, batch: batch)
        let inSize = g.h * g.w * g.c, pixels = g.ho * g.wo
        let loopDx = directDx == nil ? dx : nil
        var b0 = 0
        while b0 < batch {
            let nb = min(chunk, batch - b0)
            if chunk < batch || forwardWasDirect { im2col(x + b0 * inSize, col, batch: nb, g, path: path) }
            denseBackward(col, w, dy + b0 * pixels * outChannels, loopDx == nil ? nil : dcol, dw, db,
                          rows: nb * pixels, inputs: g.patch, outputs: outChannels, overwriteDx: true, path: path)
            if let loopDx { col2imAdd(dcol, loopDx + b0 * inSize, batch: nb, g, path: path) }
            b0 += nb
        }
    }
    if let dx, let flag = directDx,
       !directConvInputGradient(dy, w, dx, batch: batch, g, outChannels: outChannels, overwrite: overwrite, scratch: scratch, flag: flag) {
        preconditionFailure(refused)
    }
}
