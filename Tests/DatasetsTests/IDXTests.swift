import Datasets
import Foundation
import Linalg
import Testing

/// An IDX file of unsigned bytes with the given shape (header written by hand, big-endian).
func idxBytes(shape: [Int], payload: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var b: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for d in shape { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return b + payload
}

func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-tests-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite struct IDXTests {
    @Test func readsRawAndGzip() throws {
        let payload: [UInt8] = (0..<24).map { UInt8($0 * 10) }
        let raw = idxBytes(shape: [2, 3, 4], payload: payload)
        for (name, bytes) in [("a.idx", raw), ("a.idx.gz", gzip(raw))] {
            let a = try readIDX(try temporaryFile(name, bytes))
            #expect(a.shape == [2, 3, 4] && a.bytes == payload)
        }
        let images = try temporaryFile("img.gz", gzip(idxBytes(shape: [2, 2, 2], payload: [0, 255, 51, 102, 1, 2, 3, 4])))
        let labels = try temporaryFile("lab", idxBytes(shape: [2], payload: [7, 3]))
        let d: LabeledData<Double> = try readIDXImages(images: images, labels: labels)
        #expect(d.x.shape == [2, 2, 2, 1] && d.labels == [7, 3])
        #expect(d.x.scalars[0] == 0 && d.x.scalars[1] == 1 && abs(d.x.scalars[2] - 0.2) < 1e-15)
        // Float takes its own specialized entry: every byte as b · (1/255) in Float.
        let f: LabeledData<Float> = try readIDXImages(images: images, labels: labels)
        #expect(f.x.scalars == [0, 255, 51, 102, 1, 2, 3, 4].map { Float($0) * (1 / 255 as Float) })
    }

    @Test func malformedFilesNameFileAndProblem() throws {
        let cases: [(String, [UInt8], String)] = [
            ("badmagic", [1, 2, 8, 1, 0, 0, 0, 1, 5], "magic"),
            ("short", [0, 0], "too short"),
            ("dtype", idxBytes(shape: [1], payload: [0, 0, 0, 0], type: 0x0D), "element type"),
            ("truncated", idxBytes(shape: [10, 10], payload: [UInt8](repeating: 1, count: 50)), "truncated"),
            ("header", [0, 0, 8, 3, 0, 0], "header truncated"),
            ("huge", idxBytes(shape: [0x7fff_ffff, 0x7fff_ffff, 0x7fff_ffff], payload: [1, 2, 3]), "larger than the file"),
            ("gz-truncated", Array(gzip(idxBytes(shape: [100], payload: (0..<100).map { UInt8($0) })).dropLast(12)), "truncated"),
        ]
        for (name, bytes, phrase) in cases {
            let path = try temporaryFile(name, bytes)
            do {
                _ = try readIDX(path)
                Issue.record("\(name) was accepted")
            } catch let e as DataError {
                #expect(e.description.contains(path), "\(e)")
                #expect(e.description.contains(phrase), "\(name): \(e)")
            }
        }
        #expect(throws: DataError.self) { try readIDX("/nonexistent/file.idx") }
    }

    @Test func mismatchedImageAndLabelCounts() throws {
        let images = try temporaryFile("i3", idxBytes(shape: [3, 1, 1], payload: [1, 2, 3]))
        let labels = try temporaryFile("l2", idxBytes(shape: [2], payload: [0, 1]))
        do {
            let _: LabeledData<Float> = try readIDXImages(images: images, labels: labels)
            Issue.record("accepted 3 images with 2 labels")
        } catch let e as DataError {
            #expect(e.description.contains("2 labels but 3 images"))
        }
    }

    @Test func fashionMNISTFromDebianPackage() throws {
        let train = try FashionMNIST.load(train: true, as: Float.self)
        #expect(train.x.shape == [60000, 28, 28, 1] && train.classes == 10)
        #expect(Set(train.labels) == Set(0..<10))
        // Every class has 6,000 training images in Fashion-MNIST.
        #expect(train.labels.filter { $0 == 3 }.count == 6000)
        #expect(train.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let test = try FashionMNIST.load(train: false, as: Float.self)
        #expect(test.count == 10000)
    }
}
