/// Errors a user can cause: every one carries a message meant to be printed as it is.
public enum NetworkError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(String)
    case diverged(step: Int, loss: Double)
    case invalidSpec(spec: String, problem: String, example: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(m): return "shape mismatch: \(m)"
        case let .diverged(step, loss):
            return "training diverged at step \(step): the loss is \(loss). Lower the learning rate or check the data for NaN/Inf."
        case let .invalidSpec(spec, problem, example):
            return "invalid architecture '\(spec)': \(problem). Example of a valid spec: \(example)"
        case let .invalidArgument(m): return m
        }
    }
}
