import Foundation
import Tensor

/// How the operands of an elementwise op map onto its contiguous output under numpy broadcasting.
///
/// Axes of extent 1 are dropped and neighbouring axes merged wherever every operand walks them as one,
/// so `[8,197,768] + [768]` becomes rows of 768 with the bias repeating, `[N,C,H,W] · [1,C,1,1]` becomes
/// runs of H·W against one scalar each, and same-shaped operands become a single run.
public struct Broadcast: Hashable, Sendable, Codable {
    /// Output extents after merging, outermost first; never empty (a scalar output is `[1]`).
    public var extents: [Int]
    /// For each operand, its element stride along each merged axis (0 where it is broadcast). Along
    /// the last axis every stride is 0 or 1.
    public var strides: [[Int]]
    /// Number of output elements.
    public var count: Int

    /// Resolves operands of the given shapes against the broadcast `output` shape (shapes align at
    /// their last axes; every operand extent equals the output's or is 1).
    public init(output: [Int], operands: [[Int]]) {
        precondition(operands.count <= 3, "broadcasting supports up to three operands")
        let rank = output.count
        var strides: [[Int]] = []
        for shape in operands {
            precondition(shape.count <= rank, "operand \(shape) has more axes than the output \(output)")
            let padded = Array(repeating: 1, count: rank - shape.count) + shape
            var operandStrides = [Int](repeating: 0, count: rank)
            var stride = 1
            for axis in (0..<rank).reversed() {
                precondition(padded[axis] == output[axis] || padded[axis] == 1,
                             "operand \(shape) does not broadcast to \(output)")
                operandStrides[axis] = padded[axis] == 1 ? 0 : stride
                stride *= padded[axis]
            }
            strides.append(operandStrides)
        }
        (extents, self.strides) = mergeAxes(extents: output, strides: strides)
        count = output.reduce(1, *)
    }

    /// Whether operand `index` is a single value repeated over the whole output.
    public func isScalar(_ index: Int) -> Bool { strides[index].allSatisfy { $0 == 0 } }

    /// Calls `body` for each run of output elements inside `range` along the last merged axis (see
    /// `forEachRun(extents:strides:in:_:)`).
    @inline(__always)
    func forEachRun(in range: Range<Int>, _ body: (_ output: Int, _ offsets: SIMD3<Int>, _ length: Int) -> Void) {
        Runtime.forEachRun(extents: extents, strides: extents.indices.lazy.map(axisStrides), in: range, body)
    }

    /// `forEachRun` over the whole output, split across threads. Kernels switch on their function
    /// inside `body`, once per run, so each case's loop is compiled with the function inlined.
    @inline(__always)
    func forEachRunInParallel(_ body: (_ output: Int, _ offsets: SIMD3<Int>, _ length: Int) -> Void) {
        Parallel.forEach(count, grain: Elementwise.grain) { range in forEachRun(in: range, body) }
    }

    /// The strides of up to three operands along merged axis `axis`, as vector lanes.
    func axisStrides(_ axis: Int) -> SIMD3<Int> {
        var lanes = SIMD3<Int>.zero
        for operand in strides.indices { lanes[operand] = strides[operand][axis] }
        return lanes
    }

    /// Each operand's stride along the last merged axis (0 or 1).
    var innerStrides: SIMD3<Int> { axisStrides(extents.count - 1) }
}

extension Elementwise {
    /// y = f(a, b) over float32 operands broadcast as `geometry` says (operands 0 and 1).
    public static func binary(_ function: BinaryFunction, _ geometry: Broadcast, _ a: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let inner = geometry.innerStrides
        // A constant exponent (x², √x in decomposed norms) skips libm's powf.
        let exponent: Float? = function == .pow && geometry.isScalar(1) ? b[0] : nil
        geometry.forEachRunInParallel { out, offsets, n in
            let pa = a + offsets[0], pb = b + offsets[1], py = y + out
            let (sa, sb) = (inner[0], inner[1])
            switch function {
            case .add: pairs(pa, sa, pb, sb, py, n) { $0 + $1 }
            case .sub: pairs(pa, sa, pb, sb, py, n) { $0 - $1 }
            case .mul: pairs(pa, sa, pb, sb, py, n) { $0 * $1 }
            case .div: pairs(pa, sa, pb, sb, py, n) { $0 / $1 }
            case .max: pairs(pa, sa, pb, sb, py, n) { $0 > $1 || $0 != $0 ? $0 : $1 }
            case .min: pairs(pa, sa, pb, sb, py, n) { $0 < $1 || $0 != $0 ? $0 : $1 }
            case .pow:
                switch exponent {
                case 1: pairs(pa, sa, pb, sb, py, n) { a, _ in a }
                case 2: pairs(pa, sa, pb, sb, py, n) { a, _ in a * a }
                case 3: pairs(pa, sa, pb, sb, py, n) { a, _ in a * a * a }
                case 0.5: pairs(pa, sa, pb, sb, py, n) { a, _ in a.squareRoot() }
                case -1: pairs(pa, sa, pb, sb, py, n) { a, _ in 1 / a }
                default: pairs(pa, sa, pb, sb, py, n) { Foundation.pow($0, $1) }
                }
            }
        }
    }

    /// y = f(a, b) over int64 operands broadcast as `geometry` says. Arithmetic wraps on overflow;
    /// division truncates toward zero; a power with a negative exponent truncates the real result
    /// (2⁻¹ is 0). Throws, before writing anything, on a zero divisor or 0 raised to a negative power.
    public static func binary(_ function: BinaryFunction, _ geometry: Broadcast, _ a: UnsafePointer<Int64>,
                              _ b: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Int64>) throws {
        if function == .div, contains(geometry, a, b, where: { _, divisor in divisor == 0 }) {
            throw InvalidInput(nil, "integer division by zero")
        }
        if function == .pow, contains(geometry, a, b, where: { base, exponent in base == 0 && exponent < 0 }) {
            throw InvalidInput(nil, "integer 0 raised to a negative power")
        }
        let inner = geometry.innerStrides
        geometry.forEachRunInParallel { out, offsets, n in
            let pa = a + offsets[0], pb = b + offsets[1], py = y + out
            let (sa, sb) = (inner[0], inner[1])
            switch function {
            case .add: pairs(pa, sa, pb, sb, py, n) { $0 &+ $1 }
            case .sub: pairs(pa, sa, pb, sb, py, n) { $0 &- $1 }
            case .mul: pairs(pa, sa, pb, sb, py, n) { $0 &* $1 }
            case .max: pairs(pa, sa, pb, sb, py, n) { $0 > $1 ? $0 : $1 }
            case .min: pairs(pa, sa, pb, sb, py, n) { $0 < $1 ? $0 : $1 }
            case .div: pairs(pa, sa, pb, sb, py, n) { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }
            case .pow: pairs(pa, sa, pb, sb, py, n) { integerPower($0, $1) }
            }
        }
    }

    /// Whether any pair of broadcast operands satisfies `predicate` (checked on the calling thread:
    /// integer arithmetic is shape arithmetic, a few elements).
    static func contains<T>(_ geometry: Broadcast, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                            where predicate: (T, T) -> Bool) -> Bool {
        let inner = geometry.innerStrides
        var found = false
        geometry.forEachRun(in: 0..<geometry.count) { _, offsets, n in
            for i in 0..<n where predicate(a[offsets[0] + i * inner[0]], b[offsets[1] + i * inner[1]]) { found = true }
        }
        return found
    }

    static func integerPower(_ base: Int64, _ exponent: Int64) -> Int64 {
        if exponent < 0 { return base == 1 ? 1 : base == -1 ? (exponent & 1 == 0 ? 1 : -1) : 0 }
        var result: Int64 = 1, power = base, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = result &* power }
            power = power &* power
            e >>= 1
        }
        return result
    }

    /// y = (a ⋚ b) as bytes 0/1, for float32 operands broadcast as `geometry` says.
    public static func compare(_ comparison: Comparison, _ geometry: Broadcast, _ a: UnsafePointer<Float>,
                               _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<UInt8>) {
        compareAny(comparison, geometry, a, b, y)
    }

    /// y = (a ⋚ b) as bytes 0/1, for int64 operands.
    public static func compare(_ comparison: Comparison, _ geometry: Broadcast, _ a: UnsafePointer<Int64>,
                               _ b: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<UInt8>) {
        compareAny(comparison, geometry, a, b, y)
    }

    /// y = (a ⋚ b) as bytes 0/1, for bool operands (false < true).
    public static func compare(_ comparison: Comparison, _ geometry: Broadcast, _ a: UnsafePointer<UInt8>,
                               _ b: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>) {
        compareAny(comparison, geometry, a, b, y)
    }

    @inline(__always)
    static func compareAny<T: Comparable>(_ comparison: Comparison, _ geometry: Broadcast, _ a: UnsafePointer<T>,
                                          _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<UInt8>) {
        let inner = geometry.innerStrides
        geometry.forEachRunInParallel { out, offsets, n in
            let pa = a + offsets[0], pb = b + offsets[1], py = y + out
            let (sa, sb) = (inner[0], inner[1])
            switch comparison {
            case .equal: pairs(pa, sa, pb, sb, into: py, n) { $0 == $1 ? 1 : 0 }
            case .less: pairs(pa, sa, pb, sb, into: py, n) { $0 < $1 ? 1 : 0 }
            case .lessOrEqual: pairs(pa, sa, pb, sb, into: py, n) { $0 <= $1 ? 1 : 0 }
            case .greater: pairs(pa, sa, pb, sb, into: py, n) { $0 > $1 ? 1 : 0 }
            case .greaterOrEqual: pairs(pa, sa, pb, sb, into: py, n) { $0 >= $1 ? 1 : 0 }
            }
        }
    }

    /// y = condition ? x : z with the three operands broadcast as `geometry` says (operand 0 is the
    /// condition, bytes 0/1). Elements of x, z and y are `elementSize` bytes (1, 2, 4 or 8).
    public static func select(_ geometry: Broadcast, condition: UnsafePointer<UInt8>, _ x: UnsafeRawPointer,
                              _ z: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, elementSize: Int) {
        switch elementSize {
        case 1: select(geometry, condition, x, z, y, UInt8.self)
        case 2: select(geometry, condition, x, z, y, UInt16.self)
        case 4: select(geometry, condition, x, z, y, UInt32.self)
        case 8: select(geometry, condition, x, z, y, UInt64.self)
        default: preconditionFailure("no select kernel for \(elementSize)-byte elements")
        }
    }

    static func select<T>(_ geometry: Broadcast, _ condition: UnsafePointer<UInt8>, _ x: UnsafeRawPointer,
                          _ z: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _: T.Type) {
        let xs = x.assumingMemoryBound(to: T.self), zs = z.assumingMemoryBound(to: T.self)
        let ys = y.assumingMemoryBound(to: T.self)
        let inner = geometry.innerStrides
        geometry.forEachRunInParallel { out, offsets, n in
            let pc = condition + offsets[0], px = xs + offsets[1], pz = zs + offsets[2], py = ys + out
            if inner == SIMD3(1, 1, 1) {
                for i in 0..<n { py[i] = pc[i] != 0 ? px[i] : pz[i] }
            } else {
                for i in 0..<n { py[i] = pc[i * inner[0]] != 0 ? px[i * inner[1]] : pz[i * inner[2]] }
            }
        }
    }

    /// One run of a broadcast binary kernel: y[i] = f(a[i·sa], b[i·sb]) for strides 0 or 1, each
    /// stride pair as its own plain loop so it vectorises with `f` inlined, in place too.
    @inline(__always)
    static func pairs<T>(_ a: UnsafePointer<T>, _ sa: Int, _ b: UnsafePointer<T>, _ sb: Int,
                         _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T) {
        withSource(a, writing: y) { a in
            withSource(b, writing: y) { b in
                pairs(a, sa, b, sb, into: y, n, f)
            }
        }
    }

    /// `pairs` for an output of another type, which cannot alias the operands.
    @inline(__always)
    static func pairs<T, U>(_ a: UnsafePointer<T>, _ sa: Int, _ b: UnsafePointer<T>, _ sb: Int,
                            into y: UnsafeMutablePointer<U>, _ n: Int, _ f: (T, T) -> U) {
        switch (sa, sb) {
        case (1, 1): for i in 0..<n { y[i] = f(a[i], b[i]) }
        case (1, _):
            let vb = b[0]
            for i in 0..<n { y[i] = f(a[i], vb) }
        case (_, 1):
            let va = a[0]
            for i in 0..<n { y[i] = f(va, b[i]) }
        default:
            let v = f(a[0], b[0])
            for i in 0..<n { y[i] = v }
        }
    }
}
