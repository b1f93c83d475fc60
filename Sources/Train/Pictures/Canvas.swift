import Data

/// An RGB raster for the pictures serkd draws (loss curves, superpixel maps): lines, rectangles and
/// text in a built-in 5×7 pixel font, saved as PNG.
public struct Canvas {
    public let width: Int
    public let height: Int
    private(set) var pixels: [UInt8]

    /// A canvas filled with `background`.
    public init(width: Int, height: Int, background: [UInt8] = [255, 255, 255]) {
        self.width = width
        self.height = height
        pixels = Array((0..<(width * height)).map { _ in background }.joined())
    }

    /// Sets one pixel (ignored outside the canvas).
    public mutating func set(_ x: Int, _ y: Int, _ color: [UInt8]) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color[0]
        pixels[i + 1] = color[1]
        pixels[i + 2] = color[2]
    }

    /// A filled rectangle.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: [UInt8]) {
        for row in max(0, y)..<min(height, y + h) { for column in max(0, x)..<min(width, x + w) { set(column, row, color) } }
    }

    /// A straight line (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: [UInt8]) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            set(x, y, color)
            if x == x1 && y == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// Text in the 5×7 font, `scale` pixels per font pixel; characters the font lacks are blank.
    public mutating func text(_ string: String, x: Int, y: Int, _ color: [UInt8], scale: Int = 1) {
        var cursor = x
        for character in string.uppercased() {
            if let rows = Self.font[character] {
                for (row, bits) in rows.enumerated() {
                    for column in 0..<5 where bits & (1 << (4 - column)) != 0 {
                        fill(x: cursor + column * scale, y: y + row * scale, width: scale, height: scale, color)
                    }
                }
            }
            cursor += 6 * scale
        }
    }

    /// The canvas as an RGB image.
    public var image: Image { Image(width: width, height: height, channels: 3, pixels: pixels) }

    /// Writes the canvas as a PNG (atomically).
    public func writePNG(to path: String) throws { try PNG.write(image, to: path) }

    /// Distinct, readable colours for series and regions.
    public static let palette: [[UInt8]] = [
        [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
        [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
    ]

    /// A 5×7 font: each glyph is seven rows of five bits, most significant bit leftmost.
    static let font: [Character: [UInt8]] = [
        "0": [14, 17, 19, 21, 25, 17, 14], "1": [4, 12, 4, 4, 4, 4, 14], "2": [14, 17, 1, 2, 4, 8, 31],
        "3": [31, 2, 4, 2, 1, 17, 14], "4": [2, 6, 10, 18, 31, 2, 2], "5": [31, 16, 30, 1, 1, 17, 14],
        "6": [6, 8, 16, 30, 17, 17, 14], "7": [31, 1, 2, 4, 8, 8, 8], "8": [14, 17, 17, 14, 17, 17, 14],
        "9": [14, 17, 17, 15, 1, 2, 12], ".": [0, 0, 0, 0, 0, 12, 12], "-": [0, 0, 0, 31, 0, 0, 0],
        "%": [24, 25, 2, 4, 8, 19, 3], "/": [1, 1, 2, 4, 8, 16, 16], ":": [0, 12, 12, 0, 12, 12, 0],
        "(": [2, 4, 8, 8, 8, 4, 2], ")": [8, 4, 2, 2, 2, 4, 8], "=": [0, 0, 31, 0, 31, 0, 0], "_": [0, 0, 0, 0, 0, 0, 31],
        "A": [14, 17, 17, 31, 17, 17, 17], "B": [30, 17, 17, 30, 17, 17, 30], "C": [14, 17, 16, 16, 16, 17, 14],
        "D": [28, 18, 17, 17, 17, 18, 28], "E": [31, 16, 16, 30, 16, 16, 31], "F": [31, 16, 16, 30, 16, 16, 16],
        "G": [14, 17, 16, 23, 17, 17, 15], "H": [17, 17, 17, 31, 17, 17, 17], "I": [14, 4, 4, 4, 4, 4, 14],
        "J": [7, 2, 2, 2, 2, 18, 12], "K": [17, 18, 20, 24, 20, 18, 17], "L": [16, 16, 16, 16, 16, 16, 31],
        "M": [17, 27, 21, 21, 17, 17, 17], "N": [17, 17, 25, 21, 19, 17, 17], "O": [14, 17, 17, 17, 17, 17, 14],
        "P": [30, 17, 17, 30, 16, 16, 16], "Q": [14, 17, 17, 17, 21, 18, 13], "R": [30, 17, 17, 30, 20, 18, 17],
        "S": [15, 16, 16, 14, 1, 1, 30], "T": [31, 4, 4, 4, 4, 4, 4], "U": [17, 17, 17, 17, 17, 17, 14],
        "V": [17, 17, 17, 17, 17, 10, 4], "W": [17, 17, 17, 21, 21, 21, 10], "X": [17, 17, 10, 4, 10, 17, 17],
        "Y": [17, 17, 10, 4, 4, 4, 4], "Z": [31, 1, 2, 4, 8, 16, 31],
    ]
}
