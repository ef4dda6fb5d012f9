import Linalg
import RealModule

/// Geometry of multi-head self-attention on a batch of token sets [B, N, D] with H heads.
struct Heads {
    var batch, tokens, dim, heads: Int
    init(batch: Int, tokens: Int, dim: Int, heads: Int) {
        self.batch = batch; self.tokens = tokens; self.dim = dim; self.heads = heads
    }
    var headDim: Int { dim / heads }
    var rows: Int { batch * tokens }
}

// qkv[B·N, 3D] = x · Wqkvᵀ + b;  P[B·H, N, N] = softmax(Q_h K_hᵀ / √dh);  ctx[B·N, D] = P_h V_h per head;
// y = ctx · Woᵀ + bo.  Heads are column blocks of qkv and ctx, reached through BLAS leading
// dimensions, so no transposes are materialized.
func attentionForward<T: Scalar>(
    _ x: UnsafePointer<T>, _ params: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
    qkv: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>, ctx: UnsafeMutablePointer<T>, _ a: Heads,
    addend: UnsafePointer<T>? = nil,
    path: KernelPath = .reference, scratch: (Int) -> UnsafeMutablePointer<T> = { _ in fatalError() }
) {
    let d = a.dim, n = a.tokens, dh = a.headDim
    let wqkv = params, bqkv = params + 3 * d * d, wo = bqkv + 3 * d, bo = wo + d * d
    // y = addend + ctx·Woᵀ + bo where `addend` is given (a residual connection's input).
    func project() {
        if let addend, gemm(then: .add(addend), transB: true, m: a.rows, n: d, k: d, ctx, wo, y, bias: bo) { return }
        denseForward(ctx, wo, bo, y, rows: a.rows, inputs: d, outputs: d)
        if let addend { addInPlace(addend, y, a.rows * d) }
    }
    denseForward(x, wqkv, bqkv, qkv, rows: a.rows, inputs: d, outputs: 3 * d)
    if let flag = path.flag(T.self),
       nativeAttentionForward(qkv, probs, ctx, a, scratch: scratch(attentionScratchCount(a)), flag: flag) {
        project()
        return
    }
    let scale = 1 / T.sqrt(T(dh))
    for b in 0..<a.batch {
        let base = qkv + b * n * 3 * d
        for h in 0..<a.heads {
            let p = probs + (b * a.heads + h) * n * n
            gemm(transB: true, m: n, n: n, k: dh, alpha: scale, base + h * dh, lda: 3 * d,
                 base + d + h * dh, ldb: 3 * d, p)
            softmaxRows(p, rows: n, cols: n)
            gemm(m: n, n: dh, k: n, p, base + 2 * d + h * dh, ldb: 3 * d, ctx + b * n * d + h * dh, ldc: d)
        }
    }
    project()
}

func attentionBackward<T: Scalar>(
    _ x: UnsafePointer<T>, _ params: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>?, _ grads: UnsafeMutablePointer<T>,
    qkv: UnsafePointer<T>, probs: UnsafePointer<T>, ctx: UnsafePointer<T>,
    dctx: UnsafeMutablePointer<T>, dqkv: UnsafeMutablePointer<T>, dp: UnsafeMutablePointer<T>, _ a: Heads,
    path: KernelPath = .reference, scratch: (Int) -> UnsafeMutablePointer<T> = { _ in fatalError() }, overwriteDx: Bool = false
) {
    let d = a.dim, n = a.tokens, dh = a.headDim
    let wqkv = params, wo = params + 3 * d * d + 3 * d
    let gwqkv = grads, gbqkv = grads + 3 * d * d, gwo = gbqkv + 3 * d, gbo = gwo + d * d
    denseBackward(ctx, wo, dy, dctx, gwo, gbo, rows: a.rows, inputs: d, outputs: d, overwriteDx: true, path: path)
    if let flag = path.flag(T.self),
       nativeAttentionBackward(qkv, probs, dctx, dqkv, a, scratch: scratch(attentionScratchCount(a)), flag: flag) {
        denseBackward(x, wqkv, dqkv, dx, gwqkv, gbqkv, rows: a.rows, inputs: d, outputs: 3 * d, overwriteDx: overwriteDx,
                      path: path)
        return
    }
    // Each head's column blocks of dqkv are written once per image (beta 0), so no zeroing.
    let scale = 1 / T.sqrt(T(dh))
    for b in 0..<a.batch {
        let q = qkv + b * n * 3 * d, dq = dqkv + b * n * 3 * d
        let dc = dctx + b * n * d
        for h in 0..<a.heads {
            let p = probs + (b * a.heads + h) * n * n
            // dP = dctx_h · V_hᵀ ;  dV_h = Pᵀ · dctx_h
            gemm(transB: true, m: n, n: n, k: dh, dc + h * dh, lda: d, q + 2 * d + h * dh, ldb: 3 * d, dp)
            gemm(transA: true, m: n, n: dh, k: n, p, dc + h * dh, ldb: d, dq + 2 * d + h * dh, ldc: 3 * d)
            // dS = P ⊙ (dP − rowsum(dP ⊙ P)), scaled as S was
            for r in 0..<n {
                let pr = p + r * n, dr = dp + r * n
                let s = dot(pr, dr, n)
                for c in 0..<n { dr[c] = pr[c] * (dr[c] - s) * scale }
            }
            // dQ_h = dS · K_h ;  dK_h = dSᵀ · Q_h
            gemm(m: n, n: dh, k: n, dp, q + d + h * dh, ldb: 3 * d, dq + h * dh, ldc: 3 * d)
            gemm(transA: true, m: n, n: dh, k: n, dp, q + h * dh, ldb: 3 * d, dq + d + h * dh, ldc: 3 * d)
        }
    }
    denseBackward(x, wqkv, dqkv, dx, gwqkv, gbqkv, rows: a.rows, inputs: d, outputs: 3 * d, overwriteDx: overwriteDx,
                      path: path)
}

// Row-wise softmax in place, stabilized by the row max; one exp call for the whole block.
func softmaxRows<T: Scalar>(_ p: UnsafeMutablePointer<T>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = p + r * cols
        var m = row[0]
        for c in 1..<cols where row[c] > m { m = row[c] }
        for c in 0..<cols { row[c] -= m }
    }
    T.expBuffer(p, p, rows * cols)
    for r in 0..<rows {
        let row = p + r * cols
        scale(row, cols, by: 1 / sum(row, cols))
    }
}
