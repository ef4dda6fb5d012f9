import Foundation

/// Creates an output folder (and its parents) and checks that files can be written in it:
/// commands call this before any work starts, so that an hour of computing never ends in
/// "cannot write". Errors are one plain sentence naming the folder.
public func prepareOutputFolder(_ dir: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        // Foundation often says only "could not be completed": find the cause on the path.
        var above = (dir as NSString).deletingLastPathComponent, isFolder: ObjCBool = false
        while !above.isEmpty && !FileManager.default.fileExists(atPath: above, isDirectory: &isFolder) {
            above = (above as NSString).deletingLastPathComponent
        }
        let reason = !above.isEmpty && !isFolder.boolValue ? "\(above) is a file, not a folder"
            : !above.isEmpty && access(above, W_OK) != 0 ? "\(above): \(systemReason(errno))" : plainReason(error)
        throw ExperimentError("cannot create the output folder \(dir): \(reason)")
    }
    guard access(dir, W_OK) == 0 else {
        throw ExperimentError("cannot write in the output folder \(dir): \(systemReason(errno))")
    }
}

/// An error as the one line a person reads: our own errors as they describe themselves, the
/// system's as "PATH: plain reason" rather than Foundation's domain-and-code text.
public func plainMessage(_ error: Error) -> String {
    let ns = error as NSError
    guard [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(ns.domain) else { return "\(error)" }
    let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    return (path.map { "\($0): " } ?? "") + plainReason(error)
}
