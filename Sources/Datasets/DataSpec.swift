import Foundation
import Linalg

/// Data sets named by a short string, for the command line and experiment specs:
///
///     fashion-mnist                       Debian's Fashion-MNIST (train and test)
///     digits                              the 1,797 8×8 digits shipped with the package
///     idx:IMAGES,LABELS                   IDX files (raw or gzip), e.g. MNIST
///     csv:PATH                            features then an integer label per line
///     npy:INPUTS.npy,LABELS.npy           NumPy arrays
///     cifar10:BATCH.bin[,BATCH.bin…]      CIFAR-10 binary batches
///     gaussian:N,DIM,CLASSES[,SEPARATION] a Gaussian mixture
///     teacher:N,DIM,CLASSES               Gaussian inputs labelled by a random network
///     images:N,HxWxC,CLASSES[,SEPARATION] class templates, shifted, plus noise (images:50000,32x32x3,10)
public enum DataSpec {
    public static let help = "fashion-mnist, digits, idx:IMAGES,LABELS, csv:PATH, npy:X.npy,Y.npy, cifar10:FILE[,FILE], gaussian:N,DIM,CLASSES[,SEP], teacher:N,DIM,CLASSES, images:N,HxWxC,CLASSES[,SEP]"

    /// A spec split into its kind and its comma-separated arguments.
    struct Parsed {
        let spec: String, kind: String, rest: String, args: [String]

        init(_ spec: String) {
            self.spec = spec
            (kind, rest) = spec.firstIndex(of: ":").map { (String(spec[..<$0]), String(spec[spec.index(after: $0)...])) } ?? (spec, "")
            args = rest.split(separator: ",").map(String.init)
        }

        /// N, DIM, CLASSES (positive integers) and, for `count` up to 4, a separation.
        func numbers(_ count: ClosedRange<Int>) throws -> [Double] {
            let v = args.compactMap { Double($0) }
            guard v.count == args.count, count.contains(v.count), v.prefix(3).allSatisfy({ $0 >= 1 && $0 == $0.rounded() }),
                  v.allSatisfy(\.isFinite) else {
                throw DataError.invalid("'\(spec)': expected \(kind):N,DIM,CLASSES\(count.upperBound > 3 ? "[,SEPARATION]" : "") with positive integers")
            }
            return v
        }

        /// N, the image shape [H, W, C], CLASSES and the separation of `images:N,HxWxC,CLASSES[,SEP]`.
        func images() throws -> (n: Int, shape: [Int], classes: Int, separation: Double) {
            let bad = DataError.invalid("'\(spec)': expected images:N,HxWxC,CLASSES[,SEPARATION], as images:50000,32x32x3,10")
            guard (3...4).contains(args.count), let n = Int(args[0]), n >= 1, let classes = Int(args[2]), classes >= 1 else { throw bad }
            let shape = args[1].lowercased().split(separator: "x", omittingEmptySubsequences: false).compactMap { Int($0) }
            guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else { throw bad }
            let separation = args.count > 3 ? Double(args[3]) : 1
            guard let separation, separation.isFinite, separation >= 0 else { throw bad }
            return (n, shape, classes, separation)
        }

        /// The files a file-backed spec reads, in order; nil for a generated set.
        func files() throws -> [String]? {
            switch kind {
            case "fashion-mnist": return FashionMNIST.files
            case "digits": return [try Digits.file()]
            case "idx":
                guard args.count == 2 else { throw DataError.invalid("'\(spec)': expected idx:IMAGES,LABELS") }
                return args
            case "csv":
                guard !rest.isEmpty else { throw DataError.invalid("'\(spec)': expected csv:PATH") }
                return [rest]
            case "npy":
                guard args.count == 2 else { throw DataError.invalid("'\(spec)': expected npy:INPUTS.npy,LABELS.npy") }
                return args
            case "cifar10":
                guard !args.isEmpty else { throw DataError.invalid("'\(spec)': expected cifar10:BATCH.bin[,BATCH.bin…]") }
                return args
            case "gaussian", "teacher", "images": return nil
            default: throw DataError.invalid("unknown data set '\(spec)'; use one of: \(help)")
            }
        }
    }

    /// The training set and, where the source has one, the test set.
    public static func load<T: Scalar>(_ spec: String, seed: UInt64 = 0, as: T.Type = T.self) throws -> (train: LabeledData<T>, test: LabeledData<T>?) {
        let p = Parsed(spec)
        let files = try p.files()
        switch p.kind {
        case "fashion-mnist":
            return (try FashionMNIST.load(train: true), try FashionMNIST.load(train: false))
        case "digits":
            return (try Digits.load(), nil)
        case "idx":
            return (try readIDXImages(images: files![0], labels: files![1]), nil)
        case "csv":
            return (try readCSV(files![0]), nil)
        case "npy":
            return (try readNPYDataset(inputs: files![0], labels: files![1]), nil)
        case "cifar10":
            return (try readCIFAR10(files!), nil)
        case "gaussian":
            let v = try p.numbers(3...4)
            return (Synthetic.gaussianMixture(n: Int(v[0]), dim: Int(v[1]), classes: Int(v[2]), separation: v.count > 3 ? v[3] : 1, seed: seed), nil)
        case "images":
            let v = try p.images()
            return (Synthetic.images(n: v.n, height: v.shape[0], width: v.shape[1], channels: v.shape[2], classes: v.classes,
                                     separation: v.separation, seed: seed), nil)
        default:  // teacher
            let v = try p.numbers(3...3)
            return (Synthetic.teacher(n: Int(v[0]), dim: Int(v[1]), classes: Int(v[2]), seed: seed), nil)
        }
    }
}
