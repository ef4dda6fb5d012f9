import Datasets
import Foundation
import Linalg
import Testing

func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
}

/// Expects `body` to throw a DataError whose message names `path` and contains `phrase`.
func expectDataError(_ path: String, _ phrase: String, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("accepted \(path), expected an error mentioning '\(phrase)'")
    } catch let e as DataError {
        #expect(e.description.contains(path), "\(e)")
        #expect(e.description.contains(phrase), "\(e)")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct CSVTests {
    @Test func headerLabelColumnAndGzip() throws {
        let text = "a,b,label\n1, 2.5 ,3\n\n-4,\"5e-1\",0\r\n"
        for (name, bytes) in [("c.csv", Array(text.utf8)), ("c.csv.gz", gzip(Array(text.utf8)))] {
            let d: LabeledData<Double> = try readCSV(try temporaryFile(name, bytes))
            #expect(d.x.shape == [2, 2] && d.x.scalars == [1, 2.5, -4, 0.5])
            #expect(d.labels == [3, 0] && d.classes == 4)
        }
        let first: LabeledData<Float> = try readCSV(try temporaryFile("first.csv", Array("7,1,2\n1,3,4\n".utf8)), labelColumn: 0)
        #expect(first.labels == [7, 1] && first.x.scalars == [1, 2, 3, 4])
    }

    @Test func errorsNameLineAndColumn() throws {
        let ragged = try temporaryFile("ragged.csv", Array("1,2,0\n3,4\n".utf8))
        expectDataError(ragged, "line 2 has 2 columns") { let _: LabeledData<Float> = try readCSV(ragged) }
        let word = try temporaryFile("word.csv", Array("1,2,0\n3,x,1\n".utf8))
        expectDataError(word, "line 2, column 2: 'x'") { let _: LabeledData<Float> = try readCSV(word) }
        let label = try temporaryFile("label.csv", Array("1,2,0.5\n".utf8))
        expectDataError(label, "label '0.5'") { let _: LabeledData<Float> = try readCSV(label) }
        let empty = try temporaryFile("empty.csv", Array("a,b\n".utf8))
        expectDataError(empty, "no data rows") { let _: LabeledData<Float> = try readCSV(empty) }
        let col = try temporaryFile("col.csv", Array("1,2\n".utf8))
        expectDataError(col, "label column 5") { let _: LabeledData<Float> = try readCSV(col, labelColumn: 5) }
    }
}

/// Real-valued targets (`adapt kernel --data`): the last CSV column, or a second `.npy`.
@Suite struct RegressionDataTests {
    @Test func csvAndNumPyFiles() throws {
        let csv = try temporaryFile("r.csv", Array("x1,x2,y\n1, 2.5 ,-0.75\n\n-4,\"5e-1\",3e-2\r\n".utf8))
        let d = try RegressionData.load("csv:" + csv)
        #expect(d.dimension == 2 && d.x == [1, 2.5, -4, 0.5] && d.y == [-0.75, 0.03])
        // NumPy's files: inputs [[1.5, −2.25, 3e-300], [π, 0, −1]], targets [0.5, −1.25].
        let n = try RegressionData.load("npy:\(fixture("f64_2x3.npy")),\(fixture("f64_targets_2.npy"))")
        #expect(n.dimension == 3 && n.x == [1.5, -2.25, 3e-300, Double.pi, 0, -1] && n.y == [0.5, -1.25])
        // One coordinate: inputs of shape [n].
        let one = try RegressionData.load("npy:\(fixture("f64_signal_5.npy")),\(fixture("f64_signal_5.npy"))")
        #expect(one.dimension == 1 && one.x == one.y && one.count == 5)
    }

    @Test func errorsNameTheFileAndWhere() throws {
        let word = try temporaryFile("rword.csv", Array("1,2,0\n3,4,x\n".utf8))
        expectDataError(word, "line 2, column 3: 'x'") { _ = try RegressionData.load("csv:" + word) }
        let single = try temporaryFile("rsingle.csv", Array("1\n2\n".utf8))
        expectDataError(single, "at least one input and a target") { _ = try RegressionData.load("csv:" + single) }
        let ragged = try temporaryFile("rragged.csv", Array("1,2\n3\n".utf8))
        expectDataError(ragged, "line 2 has 1 columns") { _ = try RegressionData.load("csv:" + ragged) }
        let targets = fixture("f64_2x3.npy")
        expectDataError(targets, "targets need shape [n] or [n, 1]") { _ = try RegressionData.load("npy:\(targets),\(targets)") }
        let five = fixture("f64_signal_5.npy")
        expectDataError(five, "5 targets but 2 inputs") { _ = try RegressionData.load("npy:\(targets),\(five)") }
        #expect(throws: DataError.self) { _ = try RegressionData.load("gaussian:10,2,2") }
    }
}

@Suite struct NPYTests {
    @Test func readsFilesWrittenByNumPy() throws {
        let f = try readNPY(fixture("f32_3x2x2.npy"))
        #expect(f.shape == [3, 2, 2] && f.dtype == "<f4" && f.values == (0..<12).map { Double($0) / 4 })
        let u = try readNPY(fixture("u8_4x3.npy"))
        #expect(u.shape == [4, 3] && u.values == [0, 255, 51, 1, 2, 3, 10, 20, 30, 200, 100, 50])
        let d = try readNPY(fixture("f64_2x3.npy"))
        #expect(d.values == [1.5, -2.25, 3e-300, Double.pi, 0, -1])
        let data: LabeledData<Float> = try readNPYDataset(inputs: fixture("u8_4x3.npy"), labels: fixture("i64_labels.npy"))
        #expect(data.labels == [2, 0, 1, 1] && data.classes == 3)
        #expect(data.x.shape == [4, 3] && data.x.scalars[1] == 1 && abs(data.x.scalars[2] - 0.2) < 1e-7)
    }

    @Test func rejectsWhatItCannotRead() throws {
        expectDataError(fixture("f64_fortran.npy"), "Fortran") { _ = try readNPY(fixture("f64_fortran.npy")) }
        expectDataError(fixture("f4_big_endian.npy"), "unsupported dtype '>f4'") { _ = try readNPY(fixture("f4_big_endian.npy")) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("f32_3x2x2.npy")))
        let cut = try temporaryFile("cut.npy", Array(whole.dropLast(5)))
        expectDataError(cut, "truncated") { _ = try readNPY(cut) }
        let text = try temporaryFile("text.npy", Array("hello world, not numpy".utf8))
        expectDataError(text, "bad magic") { _ = try readNPY(text) }
        let mismatch = fixture("i64_labels.npy")
        expectDataError(mismatch, "4 labels but 3 inputs") {
            let _: LabeledData<Float> = try readNPYDataset(inputs: fixture("f32_3x2x2.npy"), labels: mismatch)
        }
    }
}

@Suite struct NonFiniteTests {
    /// NumPy's own file with one value replaced: NaN or ∞ anywhere in the inputs is an error
    /// naming the file and the element, never a number that poisons a result.
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteInputsAreRejectedWithTheirPosition(bad: Float) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: fixture("f32_3x2x2.npy"))))
        let start = bytes.count - 12 * 4   // the payload: 12 little-endian floats after the header
        withUnsafeBytes(of: bad.bitPattern.littleEndian) { for (i, b) in $0.enumerated() { bytes[start + 4 * 5 + i] = b } }
        let path = try temporaryFile("bad-\(bad).npy", bytes)
        let labels = try temporaryFile("labels-\(bad).npy", npyInt64([0, 1, 0]))
        expectDataError(path, "at [1, 0, 1] is not a finite number") {
            let _: LabeledData<Float> = try readNPYDataset(inputs: path, labels: labels)
        }
        // The same file without the bad value reads.
        let _: LabeledData<Float> = try readNPYDataset(inputs: fixture("f32_3x2x2.npy"), labels: labels)
    }
}

/// A version-1 `.npy` of int64 values, as NumPy lays it out (header padded to 64 bytes).
func npyInt64(_ values: [Int64]) -> [UInt8] {
    var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }"
    header += String(repeating: " ", count: 63 - (10 + header.count) % 64) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)] + Array(header.utf8)
    for v in values { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    return out
}

@Suite struct CIFARTests {
    @Test func recordsBecomeChannelsLastImages() throws {
        // Two records: labels 3 and 9; red plane = p mod 256, green = 1, blue = 2 (record 2: 7).
        var bytes = [UInt8]()
        for (label, blue) in [(UInt8(3), UInt8(2)), (9, 7)] {
            bytes.append(label)
            bytes += (0..<1024).map { UInt8($0 % 256) }
            bytes += [UInt8](repeating: 1, count: 1024)
            bytes += [UInt8](repeating: blue, count: 1024)
        }
        let path = try temporaryFile("batch.bin", bytes)
        let d: LabeledData<Double> = try readCIFAR10([path, path])
        #expect(d.x.shape == [4, 32, 32, 3] && d.labels == [3, 9, 3, 9])
        // Pixel (row 1, column 2) = index 34: R 34, G 1, B 2 — channels last.
        #expect(d.x[0, 1, 2, 0] == 34.0 / 255 && d.x[0, 1, 2, 1] == 1.0 / 255 && d.x[1, 1, 2, 2] == 7.0 / 255)
        let short = try temporaryFile("short.bin", Array(bytes.dropLast(1)))
        expectDataError(short, "not a whole number of 3,073-byte") { let _: LabeledData<Float> = try readCIFAR10([short]) }
        var bad = bytes
        bad[3073] = 12
        let badPath = try temporaryFile("badlabel.bin", bad)
        expectDataError(badPath, "record 1 has label 12") { let _: LabeledData<Float> = try readCIFAR10([badPath]) }
    }
}

@Suite struct BuiltInDataTests {
    @Test func digitsShipWithThePackage() throws {
        let d: LabeledData<Float> = try Digits.load()
        #expect(d.x.shape == [1797, 8, 8, 1] && d.classes == 10)
        #expect(Set(d.labels) == Set(0..<10) && d.labels.prefix(3) == [0, 1, 2])
        // First image's first row in the CSV: 0,0,5,13,9,1,0,0 (out of 16).
        #expect(Array(d.x.scalars[0..<8]) == [0, 0, 5, 13, 9, 1, 0, 0].map { Float($0) / 16 })
        #expect(d.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func syntheticSetsAreSeededAndLabelled() {
        let a: LabeledData<Double> = Synthetic.gaussianMixture(n: 300, dim: 5, classes: 3, separation: 4, seed: 1)
        let b: LabeledData<Double> = Synthetic.gaussianMixture(n: 300, dim: 5, classes: 3, separation: 4, seed: 1)
        #expect(a.x == b.x && a.labels == b.labels && Set(a.labels) == [0, 1, 2])
        // Well-separated clusters: each sample is nearer its own class mean (estimated) than another's.
        var means = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 3)
        var counts = [0, 0, 0]
        for i in 0..<300 { counts[a.labels[i]] += 1; for j in 0..<5 { means[a.labels[i]][j] += a.x[i, j] } }
        for c in 0..<3 { for j in 0..<5 { means[c][j] /= Double(counts[c]) } }
        var nearest = 0
        for i in 0..<300 {
            let d = (0..<3).map { c in (0..<5).map { j in (a.x[i, j] - means[c][j]) * (a.x[i, j] - means[c][j]) }.reduce(0, +) }
            if d.firstIndex(of: d.min()!) == a.labels[i] { nearest += 1 }
        }
        #expect(nearest > 270)
        let t: LabeledData<Float> = Synthetic.teacher(n: 500, dim: 6, classes: 4, seed: 2)
        let t2: LabeledData<Float> = Synthetic.teacher(n: 500, dim: 6, classes: 4, seed: 2)
        #expect(t.labels == t2.labels && t.x.shape == [500, 6] && Set(t.labels).count == 4)
        #expect(Synthetic.teacher(n: 500, dim: 6, classes: 4, seed: 3, as: Float.self).labels != t.labels)
    }

    /// The synthetic images: seeded, channels last, every class present, and each sample
    /// correlated with its own class's template far more than with the others' (so the labels
    /// are learnable), while the −2…2-pixel shifts keep samples of a class apart.
    @Test func syntheticImagesCarryTheirClassTemplate() {
        let a: LabeledData<Double> = Synthetic.images(n: 200, height: 12, width: 10, channels: 3, classes: 4, separation: 2, seed: 7)
        let b: LabeledData<Double> = Synthetic.images(n: 200, height: 12, width: 10, channels: 3, classes: 4, separation: 2, seed: 7)
        #expect(a.x == b.x && a.labels == b.labels && a.x.shape == [200, 12, 10, 3] && Set(a.labels) == [0, 1, 2, 3])
        // Templates recovered without the shifts' help: the noise-free template is the mean of
        // the class's unshifted samples; instead, correlate each sample with every class mean
        // over all shifts (the best of 25), which must pick its own class.
        let size = 12 * 10 * 3
        var means = [[Double]](repeating: [Double](repeating: 0, count: size), count: 4), counts = [0, 0, 0, 0]
        let x = a.x.scalars
        for i in 0..<200 { counts[a.labels[i]] += 1; for j in 0..<size { means[a.labels[i]][j] += x[i * size + j] } }
        // Class means blur the template over the shifts but keep most of it (smooth templates).
        for c in 0..<4 { for j in 0..<size { means[c][j] /= Double(counts[c]) } }
        var right = 0
        for i in 0..<200 {
            let scores = (0..<4).map { c in (0..<size).reduce(0.0) { $0 + x[i * size + $1] * means[c][$1] } }
            if scores.firstIndex(of: scores.max()!) == a.labels[i] { right += 1 }
        }
        #expect(right > 180, "\(right) of 200 nearest their class mean")
        // Unit-variance templates × separation 2, plus unit noise: per-pixel variance about 5.
        let variance = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        #expect(variance > 3 && variance < 7, "\(variance)")
        #expect(Synthetic.images(n: 200, height: 12, width: 10, channels: 3, classes: 4, seed: 8, as: Double.self).x != a.x)
    }
}

@Suite struct DataSpecTests {
    @Test func namesLoadTheRightSets() throws {
        let (g, gt) = try DataSpec.load("gaussian:50,3,4,2.5", seed: 1, as: Double.self)
        #expect(g.x.shape == [50, 3] && g.classes == 4 && gt == nil)
        #expect(g.x == Synthetic.gaussianMixture(n: 50, dim: 3, classes: 4, separation: 2.5, seed: 1, as: Double.self).x)
        let (d, _) = try DataSpec.load("digits", as: Float.self)
        #expect(d.count == 1797)
        let (n, _) = try DataSpec.load("npy:\(fixture("u8_4x3.npy")),\(fixture("i64_labels.npy"))", as: Float.self)
        #expect(n.labels == [2, 0, 1, 1])
        let (im, _) = try DataSpec.load("images:30,8x6x3,5,1.5", seed: 2, as: Float.self)
        #expect(im.x.shape == [30, 8, 6, 3] && im.classes == 5)
        #expect(im.x == Synthetic.images(n: 30, height: 8, width: 6, channels: 3, classes: 5, separation: 1.5, seed: 2, as: Float.self).x)
        #expect(try DataSpec.fingerprint("images:30,8X6x3,5") == "images/\(Synthetic.version):30,8x6x3,5,1.0")
        #expect(try DataSpec.fingerprint("images:30,8x6x3,5,1") == DataSpec.fingerprint("images:30,8x6x3,5"))
    }

    @Test(arguments: ["mnist", "gaussian:10,3", "teacher:0,2,2", "gaussian:a,b,c", "npy:onlyone.npy", "idx:", "csv:",
                      "images:10,8x8,2", "images:0,8x8x1,2", "images:10,8x8x1", "images:10,8x8x1,2,-1", "images:10,8x0x1,2"])
    func badNamesAreErrors(spec: String) {
        #expect(throws: DataError.self) { _ = try DataSpec.load(spec, as: Float.self) }
    }

    @Test func vectorsFromNumPyAndText() throws {
        let expected = [1, 0, 0.5, -0.25, 1e-3]
        #expect(try readVector(fixture("f64_signal_5.npy")) == expected)
        #expect(try readVector(fixture("signal_5.csv")) == expected)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vec-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let row = dir.appendingPathComponent("row.csv").path, bad = dir.appendingPathComponent("bad.csv").path
        try "1, 2,3\n\n4 5\n".write(toFile: row, atomically: true, encoding: .utf8)
        #expect(try readVector(row) == [1, 2, 3, 4, 5])
        try "theta\n1\n2\nx\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { try readVector(bad) } throws: { "\($0)".contains("line 4, field 1") }
        // A matrix is not a vector.
        #expect(throws: DataError.self) { try readVector(fixture("f64_2x3.npy")) }
    }
}
