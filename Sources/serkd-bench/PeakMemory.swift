import Foundation

/// The process's peak resident set so far (getrusage's ru_maxrss), in bytes: the memory the system
/// actually had to provide — plan arena, weights, libraries and allocator slack together — which is
/// what compares fairly with another framework's process.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024  // Linux reports kilobytes
}
