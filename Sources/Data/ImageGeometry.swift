extension Image {
    /// The `width × height` region whose top-left corner is (`x`, `y`); parts outside the image are
    /// zero, as PIL's `crop` fills them.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> Image {
        precondition(cropWidth >= 0 && cropHeight >= 0, "negative crop size")
        var out = Image(width: cropWidth, height: cropHeight, channels: channels)
        let firstColumn = max(x, 0), endColumn = min(x + cropWidth, width)
        let firstRow = max(y, 0), endRow = min(y + cropHeight, height)
        guard endColumn > firstColumn, endRow > firstRow else { return out }
        let columns = endColumn - firstColumn
        out.pixels.withUnsafeMutableBufferPointer { target in
            pixels.withUnsafeBufferPointer { source in
                for row in firstRow..<endRow {
                    let from = source.baseAddress! + (row * width + firstColumn) * channels
                    let to = target.baseAddress! + ((row - y) * cropWidth + (firstColumn - x)) * channels
                    to.update(from: from, count: columns * channels)
                }
            }
        }
        return out
    }

    /// The centred `width × height` region, placed as torchvision's `center_crop` places it: the
    /// offset is `round((size − crop) / 2)` with Python's half-to-even rounding, and a crop larger
    /// than the image is zero-padded with the odd pixel on the right/bottom.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        func offset(_ size: Int, _ crop: Int) -> Int {
            crop > size ? -((crop - size) / 2) : Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
        }
        return cropped(x: offset(width, cropWidth), y: offset(height, cropHeight), width: cropWidth, height: cropHeight)
    }

    /// The mirror image (left and right swapped).
    public func flippedHorizontally() -> Image {
        var out = self
        out.pixels.withUnsafeMutableBufferPointer { target in
            pixels.withUnsafeBufferPointer { source in
                for row in 0..<height {
                    for column in 0..<width {
                        let from = source.baseAddress! + (row * width + column) * channels
                        let to = target.baseAddress! + (row * width + width - 1 - column) * channels
                        to.update(from: from, count: channels)
                    }
                }
            }
        }
        return out
    }
}
