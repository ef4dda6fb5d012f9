import Crypto
import Foundation

extension DataSpec {
    /// What a data set is, for the result store: its contents, never its path. A file-backed set
    /// is the SHA-256 of its files (each file's length, then its bytes, in the spec's order), so
    /// a file edited in place is a new data set and one file reached by two paths is one; a
    /// generated set is its generator's name and version with its parameters in canonical form
    /// (defaults filled in), so `gaussian:100,2,2` and `gaussian:1e2,2,2,1` are one.
    ///
    ///     csv sha256:3f1c…            gaussian/1:100,2,2,1.0            images/1:500,32x32x3,10,1.0
    public static func fingerprint(_ spec: String) throws -> String {
        let p = Parsed(spec)
        guard let files = try p.files() else {
            if p.kind == "images" {
                let v = try p.images()
                return "images/\(Synthetic.version):\(v.n),\(v.shape.map(String.init).joined(separator: "x")),\(v.classes),\(v.separation)"
            }
            let v = try p.numbers(p.kind == "gaussian" ? 3...4 : 3...3)
            var parts = v.prefix(3).map { String(Int($0)) }
            if p.kind == "gaussian" { parts.append("\(v.count > 3 ? v[3] : 1)") }
            return "\(p.kind)/\(Synthetic.version):" + parts.joined(separator: ",")
        }
        if p.kind == "fashion-mnist" { try FashionMNIST.requireInstalled() }
        var hash = SHA256()
        for path in files {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw DataError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path)
                                           ? "permission denied or not a file" : "no such file")
            }
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: bytes)
        }
        return "\(p.kind) sha256:" + hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
