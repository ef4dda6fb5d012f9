import Linalg

/// An IDX array (the MNIST file format): big-endian header, magic 0x0000TTNN with type TT and
/// NN dimensions. Only unsigned bytes (0x08) are used by image sets; that is what we read.
public struct IDXArray: Sendable {
    public var shape: [Int]
    public var bytes: [UInt8]
}

public func readIDX(_ path: String) throws -> IDXArray {
    let b = try readMaybeGzip(path)
    guard b.count >= 4 else { throw DataError.malformed(path: path, reason: "file too short for an IDX header (\(b.count) bytes)") }
    guard b[0] == 0, b[1] == 0 else {
        throw DataError.malformed(path: path, reason: "bad IDX magic number (first bytes \(b[0]), \(b[1]); expected 0, 0)")
    }
    guard b[2] == 0x08 else {
        throw DataError.malformed(path: path, reason: "unsupported IDX element type 0x\(String(b[2], radix: 16)) (only unsigned bytes, 0x08)")
    }
    let dims = Int(b[3])
    guard dims >= 1, b.count >= 4 + 4 * dims else {
        throw DataError.malformed(path: path, reason: "IDX header truncated (\(dims) dimensions)")
    }
    var shape = [Int]()
    for d in 0..<dims {
        let o = 4 + 4 * d
        shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
    }
    var count = 1
    for d in shape {
        let (c, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, c <= b.count else {
            throw DataError.malformed(path: path, reason: "IDX header shape \(shape) is larger than the file (\(b.count) bytes): truncated or corrupt")
        }
        count = c
    }
    let start = 4 + 4 * dims
    guard b.count - start == count else {
        throw DataError.malformed(path: path, reason: "IDX payload has \(b.count - start) bytes, header shape \(shape) needs \(count)" +
                                  (b.count - start < count ? " (file truncated)" : ""))
    }
    return IDXArray(shape: shape, bytes: Array(b[start...]))
}

// Specialized (its callers are generic too, so the generic body checks T and jumps here): there
// each pixel's copy went through value witnesses.
/// Reads an IDX image file [n, h, w] and label file [n] into NHWC inputs scaled to [0, 1].
@_specialize(where T == Float)
@_specialize(where T == Double)
public func readIDXImages<T: Scalar>(images: String, labels: String, as: T.Type = T.self) throws -> LabeledData<T> {
    let img = try readIDX(images)
    let lab = try readIDX(labels)
    guard img.shape.count == 3 else {
        throw DataError.malformed(path: images, reason: "expected an image array [n, h, w], got shape \(img.shape)")
    }
    guard lab.shape.count == 1 else {
        throw DataError.malformed(path: labels, reason: "expected a label vector [n], got shape \(lab.shape)")
    }
    guard img.shape[0] == lab.shape[0] else {
        throw DataError.malformed(path: labels, reason: "\(lab.shape[0]) labels but \(img.shape[0]) images in \(images)")
    }
    var pixels = [T](repeating: 0, count: img.bytes.count)
    // The 256 values a byte can give, looked up: a generic T(UInt8) per pixel took a second of
    // every Fashion-MNIST load (47 million conversions through BinaryInteger's witnesses).
    let inv: T = 1 / 255
    let value = (0..<256).map { T($0) * inv }
    img.bytes.withUnsafeBufferPointer { src in
        pixels.withUnsafeMutableBufferPointer { dst in
            value.withUnsafeBufferPointer { v in
                for i in 0..<src.count { dst[i] = v[Int(src[i])] }
            }
        }
    }
    let x = Tensor<T>(shape: img.shape + [1], scalars: pixels)
    let y = lab.bytes.map(Int.init)
    return LabeledData(x: x, labels: y, classes: (y.max() ?? 0) + 1)
}

/// Fashion-MNIST from Debian's `dataset-fashion-mnist` (or `$OVERPARAM_FASHION_MNIST`).
public enum FashionMNIST {
    public static var directory: String {
        if let p = getenv("OVERPARAM_FASHION_MNIST") { return String(cString: p) }
        return "/usr/share/datasets/fashion-mnist"
    }

    /// The four files, training then test, images before labels.
    static var files: [String] {
        ["train", "t10k"].flatMap { ["\(directory)/\($0)-images-idx3-ubyte.gz", "\(directory)/\($0)-labels-idx1-ubyte.gz"] }
    }

    static func requireInstalled() throws {
        guard FileManager.default.fileExists(atPath: files[0]) else {
            throw DataError.notFound("Fashion-MNIST not found at \(directory): install Debian's dataset-fashion-mnist (the README's setup does) or set OVERPARAM_FASHION_MNIST")
        }
    }

    public static func load<T: Scalar>(train: Bool = true, as: T.Type = T.self) throws -> LabeledData<T> {
        try requireInstalled()
        let stem = train ? "train" : "t10k"
        let dir = directory
        let images = "\(dir)/\(stem)-images-idx3-ubyte.gz"
        var d: LabeledData<T> = try readIDXImages(images: images, labels: "\(dir)/\(stem)-labels-idx1-ubyte.gz")
        d.classes = 10
        return d
    }
}

import Foundation
