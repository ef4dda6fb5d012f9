import Foundation
import Testing

/// The README's worked examples, run as written: every ```console block's `$ overparam …`
/// commands in one scratch folder (so later blocks see what earlier ones stored), each output
/// compared line by line with the README's in form — numbers, and the verdict of an attempt,
/// may differ; the words, the columns and the number of lines may not (`…` in the README
/// stands for any number of progress lines).
@Suite struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    struct Example { var command: [String]; var expected: [String] }

    static func examples() throws -> [Example] {
        let text = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        var out = [Example](), inBlock = false, pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock = line == "```console"; continue }
            guard inBlock else { continue }
            if line.hasPrefix("$ ") || !pending.isEmpty {
                pending += (pending.isEmpty ? String(line.dropFirst(2)) : " " + line.trimmingCharacters(in: .whitespaces))
                if pending.hasSuffix("\\") { pending.removeLast(); continue }
                out.append(Example(command: pending.split(separator: " ").map(String.init), expected: []))
                pending = ""
            } else if !out.isEmpty {
                out[out.count - 1].expected.append(line)
            }
        }
        return out
    }

    /// A line's form: numbers (and an attempt's verdict) replaced, runs of spaces folded.
    static func form(_ line: String) -> String {
        var s = line.replacingOccurrences(of: #"[-+]?\d+(\.\d+)?(e[-+]?\d+)?"#, with: "#", options: .regularExpression)
        s = s.replacingOccurrences(of: #"(?<=#  )(fit|no-fit|undecided|diverged)(?= )"#, with: "VERDICT", options: .regularExpression)
        return s.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression).trimmingCharacters(in: .whitespaces)
    }

    /// Whether `actual` has the form of `expected`, where "…" matches any run of lines.
    static func matches(_ expected: ArraySlice<String>, _ actual: ArraySlice<String>) -> Bool {
        guard let first = expected.first else { return actual.isEmpty }
        if first == "…" {
            return (actual.startIndex...actual.endIndex).contains { matches(expected.dropFirst(), actual[$0...]) }
        }
        guard let a = actual.first, form(a) == form(first) else { return false }
        return matches(expected.dropFirst(), actual.dropFirst())
    }

    @Test func theWorkedExamplesRunAndPrintWhatTheReadmeShows() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 4, "the README's worked examples")
        let dir = try scratchFolder("readme")
        try FileManager.default.createSymbolicLink(atPath: dir + "/examples", withDestinationPath: Self.root + "/examples")
        for e in examples {
            #expect(e.command.first == "overparam", "\(e.command)")
            let r = try overparam(Array(e.command.dropFirst()), in: dir)
            #expect(r.status == 0, "\(e.command.joined(separator: " ")): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(Self.matches(e.expected[...], lines[...]),
                    "\(e.command.joined(separator: " ")) printed:\n\(r.stdout)\nthe README shows:\n\(e.expected.joined(separator: "\n"))")
        }
    }

    @Test func theFormCheckCanFail() {
        #expect(Self.matches(["EMC 142.0 ± 71.4 over 3 seed(s)"], ["EMC 99.5 ± 1.0 over 2 seed(s)"]))
        #expect(!Self.matches(["EMC 142.0 ± 71.4 over 3 seed(s)"], ["EMC ≥ 99.5 over 2 seed(s)"]), "a lower bound is another form")
        #expect(Self.matches(["a", "…", "z 1"], ["a", "b", "c", "z 2"]) && Self.matches(["a", "…", "z"], ["a", "z"]))
        #expect(!Self.matches(["a", "…", "z"], ["a", "b"]) && !Self.matches(["a"], ["a", "extra line"]))
    }
}
