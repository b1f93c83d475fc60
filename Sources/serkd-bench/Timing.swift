import Dispatch

/// Wall-clock timing of repeated runs, reported as median and minimum.
struct Timing {
    var seconds: [Double] = []

    /// Times `body` `repeats` times after `warmup` untimed runs.
    static func measure(repeats: Int, warmup: Int, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<warmup { try body() }
        var timing = Timing()
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            timing.seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return timing
    }

    var median: Double { seconds.sorted()[seconds.count / 2] }
    var minimum: Double { seconds.min() ?? 0 }
}
