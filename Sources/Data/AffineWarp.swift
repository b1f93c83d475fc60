import Foundation

extension Image {
    /// The image resampled through an affine map from output to input coordinates, as PIL's
    /// `Image.transform(size, AFFINE, (a, b, c, d, e, f), resample, fillcolor=fill)` computes it:
    /// output pixel (x, y) samples the input at (a·(x+½) + b·(y+½) + c, d·(x+½) + e·(y+½) + f), points
    /// outside the input take `fill`, and values are truncated to 8 bits. `.bilinear` and
    /// `.bicubic` are PIL's transform kernels (its bicubic here is the a = −1 cubic, not the
    /// resize kernel).
    public func affineTransformed(_ matrix: [Double], filter: ResampleFilter, fill: [UInt8]) -> Image {
        precondition(matrix.count == 6, "an affine map has 6 coefficients")
        precondition(fill.count == channels, "fill colour needs \(channels) samples")
        var out = Image(width: width, height: height, color: fill)
        let (a, b, c, d, e, f) = (matrix[0], matrix[1], matrix[2], matrix[3], matrix[4], matrix[5])
        out.pixels.withUnsafeMutableBufferPointer { target in
            pixels.withUnsafeBufferPointer { source in
                for y in 0..<height {
                    for x in 0..<width {
                        let px = Double(x) + 0.5, py = Double(y) + 0.5
                        let sx = a * px + b * py + c
                        let sy = d * px + e * py + f
                        guard sx >= 0, sx < Double(width), sy >= 0, sy < Double(height) else { continue }
                        let pixel = target.baseAddress! + (y * width + x) * channels
                        switch filter {
                        case .bilinear: bilinearSample(source, sx - 0.5, sy - 0.5, into: pixel)
                        case .bicubic: bicubicSample(source, sx - 0.5, sy - 0.5, into: pixel)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The image rotated `degrees` counter-clockwise about its centre, same size, as PIL's
    /// `rotate(degrees, resample, fillcolor=fill)` computes it (including its reduction of the
    /// angle modulo 360 and its rounding of the matrix to 15 decimals).
    public func rotated(degrees: Double, filter: ResampleFilter, fill: [UInt8]) -> Image {
        var angle = fmod(degrees, 360)
        if angle < 0 { angle += 360 }
        if angle == 0 { return self }
        let radians = -(angle * (Double.pi / 180))
        func round15(_ v: Double) -> Double { (v * 1e15).rounded(.toNearestOrEven) / 1e15 }
        let cosine = round15(cos(radians)), sine = round15(sin(radians)), negativeSine = round15(-sin(radians))
        let cx = Double(width) / 2, cy = Double(height) / 2
        let c = cosine * -cx + sine * -cy + cx
        let f = negativeSine * -cx + cosine * -cy + cy
        return affineTransformed([cosine, sine, c, negativeSine, cosine, f], filter: filter, fill: fill)
    }

    private func clampColumn(_ x: Int) -> Int { x < 0 ? 0 : x < width ? x : width - 1 }

    /// PIL's conversion of an interpolated value to 8 bits: clamp, then truncate.
    private static func level(_ v: Double) -> UInt8 { v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v) }

    /// PIL's bilinear transform filter at (x, y) in pixel-index coordinates.
    private func bilinearSample(_ source: UnsafeBufferPointer<UInt8>, _ x: Double, _ y: Double, into out: UnsafeMutablePointer<UInt8>) {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let dx = x - Double(x0), dy = y - Double(y0)
        let left = clampColumn(x0) * channels, right = clampColumn(x0 + 1) * channels
        let top = (y0 < 0 ? 0 : min(y0, height - 1)) * width * channels
        let hasBelow = y0 + 1 >= 0 && y0 + 1 < height
        let below = (y0 + 1) * width * channels
        for c in 0..<channels {
            let a = Int(source[top + left + c]), b = Int(source[top + right + c])
            let v1 = Double(a) + Double(b - a) * dx
            var v2 = v1
            if hasBelow {
                let p = Int(source[below + left + c]), q = Int(source[below + right + c])
                v2 = Double(p) + Double(q - p) * dx
            }
            out[c] = Image.level(v1 + (v2 - v1) * dy)
        }
    }

    /// PIL's bicubic transform filter at (x, y) in pixel-index coordinates: a 4×4 neighbourhood,
    /// columns clamped to the image, rows past the edge repeating the previous row's value.
    private func bicubicSample(_ source: UnsafeBufferPointer<UInt8>, _ x: Double, _ y: Double, into out: UnsafeMutablePointer<UInt8>) {
        let fx = Int(x.rounded(.down)), fy = Int(y.rounded(.down))
        let dx = x - Double(fx), dy = y - Double(fy)
        let x0 = clampColumn(fx - 1) * channels, x1 = clampColumn(fx) * channels
        let x2 = clampColumn(fx + 1) * channels, x3 = clampColumn(fx + 2) * channels
        let firstRow = fy - 1
        let rowSamples = width * channels
        func row(_ r: Int, _ c: Int) -> Double {
            let line = source.baseAddress! + r * rowSamples + c
            return Image.cubic(Int(line[x0]), Int(line[x1]), Int(line[x2]), Int(line[x3]), dx)
        }
        let has2 = firstRow + 1 >= 0 && firstRow + 1 < height
        let has3 = firstRow + 2 >= 0 && firstRow + 2 < height
        let has4 = firstRow + 3 >= 0 && firstRow + 3 < height
        let clampedFirst = firstRow < 0 ? 0 : min(firstRow, height - 1)
        for c in 0..<channels {
            let v1 = row(clampedFirst, c)
            let v2 = has2 ? row(firstRow + 1, c) : v1
            let v3 = has3 ? row(firstRow + 2, c) : v2
            let v4 = has4 ? row(firstRow + 3, c) : v3
            out[c] = Image.level(Image.cubic(v1, v2, v3, v4, dy))
        }
    }

    /// PIL's cubic through four samples, evaluated at `d` ∈ [0, 1) between the middle two, with the
    /// differences taken in integers as PIL takes them for 8-bit samples.
    private static func cubic(_ v1: Int, _ v2: Int, _ v3: Int, _ v4: Int, _ d: Double) -> Double {
        let p1 = Double(v2)
        let p2 = Double(-v1 + v3)
        let p3 = Double(2 * (v1 - v2) + v3 - v4)
        let p4 = Double(-v1 + v2 - v3 + v4)
        return p1 + d * (p2 + d * (p3 + d * p4))
    }

    private static func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
        let p1 = v2
        let p2 = -v1 + v3
        let p3 = 2 * (v1 - v2) + v3 - v4
        let p4 = -v1 + v2 - v3 + v4
        return p1 + d * (p2 + d * (p3 + d * p4))
    }
}
