import Datasets
import Linalg
import Testing

@Suite struct TransformTests {
    func sample() -> LabeledData<Double> {
        var r = RNG(seed: 4)
        return LabeledData(x: Tensor(shape: [400, 4, 4, 1], scalars: r.normals(400 * 16, std: 2).map { $0 + 3 }),
                           labels: (0..<400).map { $0 % 10 }, classes: 10)
    }

    @Test func randomLabelsAreUniformAndSeeded() {
        let d = sample()
        let r = d.applying(.randomLabels, seed: 7)
        #expect(r.x == d.x && r.labels == d.applying(.randomLabels, seed: 7).labels)
        #expect(r.labels != d.applying(.randomLabels, seed: 8).labels)
        let same = zip(r.labels, d.labels).filter { $0 == $1 }.count
        #expect(same > 15 && same < 70, "about 1 in 10 should keep their label, got \(same) of 400")
        // Sample i's label depends on (seed, i) only: a subset corrupted later agrees.
        #expect(d.prefix(50).applying(.randomLabels, seed: 7).labels == Array(r.labels.prefix(50)))
    }

    @Test func gaussianInputsMatchTheDataStatistics() {
        let d = sample()
        let g = d.applying(.gaussianInputs, seed: 1)
        let (m0, s0) = d.meanAndStd, (m1, s1) = g.meanAndStd
        #expect(abs(m1 - m0) < 0.1 && abs(s1 / s0 - 1) < 0.05 && g.labels == d.labels && g.x != d.x)
    }

    @Test func permutedPixelsPermuteEachSampleItsOwnWay() {
        let d = sample()
        let p = d.applying(.permutedPixels, seed: 3)
        for i in 0..<5 {
            let a = Array(d.x.scalars[i * 16..<(i + 1) * 16]), b = Array(p.x.scalars[i * 16..<(i + 1) * 16])
            #expect(a.sorted() == b.sorted() && a != b)
        }
        // Two samples made equal before get different permutations.
        var twin = d
        for j in 0..<16 { twin.x.scalars[16 + j] = twin.x.scalars[j] }
        let pt = twin.applying(.permutedPixels, seed: 3)
        #expect(Array(pt.x.scalars[0..<16]) != Array(pt.x.scalars[16..<32]))
    }

    /// The Float versions the commands use (specialized bodies): block means of 3-channel images
    /// against the definition, exact on integer pixels (every sum and product is exact), and the
    /// other whole-set transforms against the Double ones.
    @Test func floatTransformsMatchTheirDefinitions() throws {
        let (n, h, w, c) = (3, 8, 4, 3)
        let pixels = (0..<(n * h * w * c)).map { ($0 * 37 + 11) % 256 }
        let img = LabeledData<Float>(x: Tensor(shape: [n, h, w, c], scalars: pixels.map(Float.init)), labels: [0, 1, 2], classes: 3)
        for f in [2, 4] {
            let small = try img.downsampled(by: f)
            #expect(small.x.shape == [n, h / f, w / f, c])
            for i in 0..<n { for y in 0..<(h / f) { for x in 0..<(w / f) { for ch in 0..<c {
                var sum = 0
                for dy in 0..<f { for dx in 0..<f { sum += pixels[((i * h + y * f + dy) * w + x * f + dx) * c + ch] } }
                #expect(small.x.scalars[((i * (h / f) + y) * (w / f) + x) * c + ch] == Float(sum) / Float(f * f))
            } } } }
        }
        let d = sample(), single = LabeledData<Float>(x: Tensor(shape: d.x.shape, scalars: d.x.scalars.map(Float.init)), labels: d.labels, classes: d.classes)
        let fromDouble = d.applying(.permutedPixels, seed: 3).x.scalars.map(Float.init)
        #expect(single.applying(.permutedPixels, seed: 3).x.scalars == fromDouble)
        let z = single.standardized(mean: 3, std: 2).x.scalars, zd = d.standardized(mean: 3, std: 2).x.scalars
        #expect(zip(z, zd).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) })
    }

    @Test func downsampleStandardizeMergeAndNest() throws {
        let img = LabeledData<Double>(x: Tensor(shape: [1, 4, 4, 1], scalars: (0..<16).map(Double.init)), labels: [0], classes: 1)
        let small = try img.downsampled(by: 2)
        #expect(small.x.shape == [1, 2, 2, 1] && small.x.scalars == [2.5, 4.5, 10.5, 12.5])
        #expect(throws: DataError.self) { try img.downsampled(by: 3) }
        let s = sample().standardized()
        let (m, sd) = s.meanAndStd
        #expect(abs(m) < 1e-12 && abs(sd - 1) < 1e-12)
        let merged = try sample().mergingClasses(into: 2)
        #expect(merged.classes == 2 && merged.labels.prefix(10) == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        let d = sample()
        let big = try d.nestedSubset(100, seed: 9), part = try d.nestedSubset(40, seed: 9)
        #expect(part.labels == Array(big.labels.prefix(40)) && part.x.scalars == Array(big.x.scalars.prefix(40 * 16)))
        #expect(try d.nestedSubset(40, seed: 10).x != part.x)
        #expect(throws: DataError.self) { try d.nestedSubset(401, seed: 0) }
    }
}
