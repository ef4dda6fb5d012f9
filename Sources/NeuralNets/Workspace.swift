import Linalg

/// Scratch memory for forward and backward passes: activations, their gradients and per-layer
/// caches, kept between steps so that a training step allocates nothing. One workspace serves
/// one thread; it grows when the batch grows. It is not part of the network's value.
public final class Workspace<T: Scalar> {
    static var slots: Int { 8 }
    private var buffers: [UnsafeMutablePointer<T>?] = []
    private var capacities: [Int] = []

    public init() {}

    /// Seconds spent per node (inclusive of a residual's children), when profiling is on.
    public struct LayerTime: Sendable {
        public var forward = 0.0, backward = 0.0
        public init() {}
    }
    /// Set to `[:]` to have every pass time each layer.
    public var profile: [Int: LayerTime]? = nil

    func record(_ node: Int, forward: Double = 0, backward: Double = 0) {
        profile![node, default: LayerTime()].forward += forward
        profile![node, default: LayerTime()].backward += backward
    }

    deinit {
        for b in buffers { b?.deallocate() }
        for b in general { b?.deallocate() }
    }

    /// Named slots per node: what each layer keeps between its forward and backward pass.
    enum Slot: Int { case output = 0, outputGrad, a, b, c, d, e, f }

    /// A buffer of at least `count` scalars, persistent for (node, slot). Contents are undefined
    /// after growth.
    @inline(__always)
    func buffer(_ node: Int, _ slot: Slot, _ count: Int) -> UnsafeMutablePointer<T> {
        let i = node * Self.slots + slot.rawValue
        if i < buffers.count, capacities[i] >= count, let p = buffers[i] { return p }
        return grow(i, count)
    }

    private func grow(_ i: Int, _ count: Int) -> UnsafeMutablePointer<T> {
        if i >= buffers.count {
            buffers += [UnsafeMutablePointer<T>?](repeating: nil, count: i + 1 - buffers.count)
            capacities += [Int](repeating: 0, count: i + 1 - capacities.count)
        }
        buffers[i]?.deallocate()
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        buffers[i] = p
        capacities[i] = count
        return p
    }

    /// Scratch shared by the whole pass (input copies, loss gradients): node id −1 territory.
    private var general: [UnsafeMutablePointer<T>?] = [nil, nil, nil, nil]
    private var generalCap = [0, 0, 0, 0]
    func scratch(_ k: Int, _ count: Int) -> UnsafeMutablePointer<T> {
        if generalCap[k] >= count, let p = general[k] { return p }
        general[k]?.deallocate()
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        general[k] = p
        generalCap[k] = count
        return p
    }
}
