import CZlib
import Foundation

/// Errors reading data files; each names the file and what is wrong with it.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case notFound(String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "cannot read \(p): \(r)"
        case let .malformed(p, r): return "\(p): \(r)"
        case let .notFound(m), let .invalid(m): return m
        }
    }
}

/// Reads a file, inflating it when it starts with the gzip magic bytes.
func readMaybeGzip(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path)
                                   ? "permission denied or not a file" : "no such file")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
    return try gunzip(bytes, path: path)
}

/// Inflates a gzip stream with zlib (window bits 15 + 32: auto-detect the gzip header).
func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
    var stream = z_stream()
    var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw DataError.malformed(path: path, reason: "zlib could not start (\(status))") }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    output.reserveCapacity(input.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var input = input
    try input.withUnsafeMutableBufferPointer { inBuf in
        stream.next_in = inBuf.baseAddress
        stream.avail_in = uInt(inBuf.count)
        repeat {
            try chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END else {
                    let why = status == Z_BUF_ERROR ? "gzip stream is truncated" : "corrupt gzip data (zlib \(status))"
                    throw DataError.malformed(path: path, reason: why)
                }
                output.append(contentsOf: out[0 ..< (out.count - Int(stream.avail_out))])
            }
            if status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0 {
                throw DataError.malformed(path: path, reason: "gzip stream is truncated")
            }
        } while status != Z_STREAM_END
    }
    return output
}

/// Compresses bytes into a gzip stream (window bits 15 + 16: gzip header), for files we write.
public func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                        Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
    var input = input
    let written: Int = input.withUnsafeMutableBufferPointer { inBuf in
        out.withUnsafeMutableBufferPointer { outBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            stream.next_out = outBuf.baseAddress
            stream.avail_out = uInt(outBuf.count)
            let status = deflate(&stream, Z_FINISH)
            precondition(status == Z_STREAM_END, "gzip: deflate did not finish (\(status)) although the buffer was sized by deflateBound")
            return outBuf.count - Int(stream.avail_out)
        }
    }
    return Array(out[0..<written])
}
