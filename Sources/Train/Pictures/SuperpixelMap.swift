import Data
import Foundation

/// The hard superpixel assignment of a token map (METHOD §3.3, STViT's visualisation): each token
/// goes to the neighbouring super token with the largest affinity ⟨x, s⟩ after the configured
/// association iterations, as in paper Fig. 3.
public struct SuperpixelMap {
    /// Token grid height and width.
    public let height: Int, width: Int
    /// Super-token index of each token, row-major.
    public let labels: [Int]

    /// Assigns the tokens `x` (height·width rows of `dimension` values) with cell size `grid`.
    public init(tokens x: [Float], height: Int, width: Int, dimension d: Int, grid: Int, iterations: Int) {
        self.height = height
        self.width = width
        let (cellsDown, cellsAcross) = (height / grid, width / grid)
        let m = cellsDown * cellsAcross, n = height * width
        func cell(_ p: Int) -> Int { (p / width / grid) * cellsAcross + (p % width) / grid }
        func neighbours(_ p: Int) -> [Int] {
            let (cy, cx) = ((p / width) / grid, (p % width) / grid)
            return (-1...1).flatMap { dy in (-1...1).compactMap { dx in
                let (y, x) = (cy + dy, cx + dx)
                return y >= 0 && y < cellsDown && x >= 0 && x < cellsAcross ? y * cellsAcross + x : nil
            } }
        }
        // S⁰: the mean of each g×g cell.
        var s = [Double](repeating: 0, count: m * d)
        for p in 0..<n { for c in 0..<d { s[cell(p) * d + c] += Double(x[p * d + c]) / Double(grid * grid) } }
        let scale = 1 / Double(d).squareRoot()
        func affinities(_ p: Int) -> [(Int, Double)] {
            neighbours(p).map { i in (i, (0..<d).reduce(0.0) { $0 + Double(x[p * d + $1]) * s[i * d + $1] } * scale) }
        }
        // Iterations before the last re-estimate S with the column-normalised association.
        for _ in 1..<max(iterations, 1) {
            var q = [[(Int, Double)]](repeating: [], count: n)
            var columns = [Double](repeating: 0, count: m)
            for p in 0..<n {
                let a = affinities(p)
                let largest = max(a.map(\.1).max() ?? 0, 0)
                let missing = Double(9 - a.count) * exp(-largest)
                let total = a.reduce(0) { $0 + exp($1.1 - largest) } + missing
                q[p] = a.map { ($0.0, exp($0.1 - largest) / total) }
                for (i, weight) in q[p] { columns[i] += weight }
            }
            s = [Double](repeating: 0, count: m * d)
            for p in 0..<n { for (i, weight) in q[p] { for c in 0..<d { s[i * d + c] += weight / (columns[i] + 1e-12) * Double(x[p * d + c]) } } }
        }
        labels = (0..<n).map { p in affinities(p).max { $0.1 < $1.1 }!.0 }
    }

    /// Draws `image` (grey or RGB) scaled to `size`×`size` with each super token's region tinted and
    /// the region borders outlined, into `canvas` at (`left`, `top`).
    public func draw(over image: Image, size: Int, into canvas: inout Canvas, left: Int, top: Int) {
        let picture = image.resized(width: size, height: size)
        let tokenWidth = size / width, tokenHeight = size / height
        for y in 0..<picture.height {
            for x in 0..<picture.width {
                let base = (y * picture.width + x) * picture.channels
                let rgb = (0..<3).map { picture.pixels[base + min($0, picture.channels - 1)] }
                let token = min(y / tokenHeight, height - 1) * width + min(x / tokenWidth, width - 1)
                let tint = Canvas.palette[labels[token] % Canvas.palette.count]
                canvas.set(left + x, top + y, (0..<3).map { UInt8((Double(rgb[$0]) * 0.6 + Double(tint[$0]) * 0.4).rounded()) })
            }
        }
        for row in 0..<height {
            for column in 0..<width {
                let label = labels[row * width + column]
                let (x0, y0) = (left + column * tokenWidth, top + row * tokenHeight)
                if column + 1 < width, labels[row * width + column + 1] != label {
                    canvas.line(x0 + tokenWidth, y0, x0 + tokenWidth, y0 + tokenHeight, [0, 0, 0])
                }
                if row + 1 < height, labels[(row + 1) * width + column] != label {
                    canvas.line(x0, y0 + tokenHeight, x0 + tokenWidth, y0 + tokenHeight, [0, 0, 0])
                }
            }
        }
    }
}
