import CKernels
import Linalg
import Testing

/// im2col and its adjoint in C: the zero-padded copies of small images (plain and AVX-512) give
/// the same bits as the border-testing loops, which `NativeKernelTests` checks against the Swift
/// reference. Geometries: channel counts 1–17 (runs below, at and past a 16-float vector),
/// windows 1–5, strides 1–3, paddings 0–2, non-square images, and one too large for the padded
/// copy (it must fall back, not overflow its stack buffer).
@Suite struct PatchKernelTests {
    static let cases: [(h: Int, w: Int, c: Int, k: Int, stride: Int, pad: Int)] = [
        (7, 7, 4, 3, 1, 1), (7, 7, 4, 3, 2, 1), (4, 4, 8, 3, 2, 1), (2, 2, 16, 3, 1, 1), (7, 7, 1, 3, 1, 1),
        (9, 5, 3, 3, 1, 2), (6, 11, 17, 5, 3, 2), (5, 5, 2, 1, 2, 0), (8, 8, 6, 4, 2, 1), (3, 3, 5, 3, 1, 0),
        (40, 40, 8, 3, 1, 1),   // padded image 42·42·8 floats: past the padded copy's 8,192
    ]

    func geometry(_ g: (h: Int, w: Int, c: Int, k: Int, stride: Int, pad: Int)) -> (ho: Int, wo: Int) {
        ((g.h + 2 * g.pad - g.k) / g.stride + 1, (g.w + 2 * g.pad - g.k) / g.stride + 1)
    }

    @Test(arguments: cases.indices)
    func paddedCopiesMatchTheBorderLoopsBitForBit(index: Int) {
        let g = Self.cases[index]
        let (ho, wo) = geometry(g)
        let batch = 3, inSize = g.h * g.w * g.c, colSize = batch * ho * wo * g.k * g.k * g.c
        var r = RNG(seed: UInt64(index) + 1)
        let x: [Float] = r.normals(batch * inSize)
        let dcol: [Float] = r.normals(colSize)
        // dx starts nonzero, as when another branch's gradient is already there: the adjoint adds.
        let dx0: [Float] = r.normals(batch * inSize)
        var cols: [[Float]] = [], dxs: [[Float]] = []
        for allow in Int32(0)...2 {
            var col = [Float](repeating: .nan, count: colSize)   // every entry must be written
            ck_im2col_variant(x, &col, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k), Int32(g.stride),
                              Int32(g.pad), Int32(ho), Int32(wo), allow)
            var dx = dx0
            ck_col2im_add_variant(dcol, &dx, Int32(batch), Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.k),
                                  Int32(g.stride), Int32(g.pad), Int32(ho), Int32(wo), allow)
            cols.append(col); dxs.append(dx)
        }
        #expect(!cols[0].contains { $0.isNaN }, "\(g): the border loops left entries unwritten")
        // A hand-checked entry: the first patch's centre tap is x[0, 0, 0, 0] once pad ≥ 1 (k = 3).
        if g.k == 3 && g.pad == 1 { #expect(cols[0][4 * g.c] == x[0]) }
        for v in 1...2 {
            #expect(cols[v].elementsEqual(cols[0]) { $0.bitPattern == $1.bitPattern }, "\(g): im2col variant \(v)")
            #expect(dxs[v].elementsEqual(dxs[0]) { $0.bitPattern == $1.bitPattern }, "\(g): col2im variant \(v)")
        }
        #expect(dxs[0] != dx0, "\(g): the adjoint added nothing")
    }

    /// Only images whose padded copy fits the 8,192-float stack buffer take it; the size is
    /// computed without overflow (65,536² × 1,024 wraps to 0 in 32 bits).
    @Test func onlySmallImagesTakeThePaddedCopy() {
        #expect(ck_im2col_padded(7, 7, 4, 1) == 1 && ck_im2col_padded(62, 62, 2, 1) == 1)
        #expect(ck_im2col_padded(63, 63, 2, 1) == 0 && ck_im2col_padded(40, 40, 8, 1) == 0)
        #expect(ck_im2col_padded(65_534, 65_534, 1_024, 1) == 0)
    }
}
