#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/data/: small real images and the pixels PIL decodes from them.

The Data module's tests compare serkd's PNG/JPEG decoders, resizing, RandAugment operations and
evaluation preprocessing against these references, so "matches PIL/torchvision/timm" is checked on
real photographs rather than asserted.

Run from the repository root:

    python3 scripts/make_data_fixtures.py

Needs numpy, Pillow and scikit-image (for its sample photos); exits 0 with a message if one is
missing. torchvision and timm are optional: when present, the script cross-checks that its PIL
calls reproduce torchvision's eval transform and timm's RandAugment operations exactly.
Last run with numpy 2.4.6, Pillow 13.0.0, scikit-image 0.26.0, torchvision 0.29.2, timm 1.0.31.

Outputs (everything 48x32 unless stated):
  astronaut_{rgb,gray,rgba,la,palette,palette4_trns}.png   written by PIL
  astronaut_{rgb16_adam7,gray2,gray1_adam7}.png            written by this script's own encoder
                                                           (16-bit, 1/2-bit, Adam7, every filter type)
  coffee{,_gray,_progressive,_cmyk}.jpg                    written by PIL (libjpeg-turbo)
  <image>.npy                   what PIL decodes (P -> RGB or RGBA, CMYK -> RGB), uint8 HxW[xC]
  resize_<filter>_<w>x<h>.npy   PIL Image.resize of astronaut_rgb.png (antialiased when shrinking)
  resize_torchvision_bilinear_20x13.npy   torchvision's uint8 tensor resize, antialias=True (optional)
  randaugment_ops.npz           timm's RandAugment operations at fixed arguments (see OPS below)
  eval_transform.npy            Resize(36, bicubic) + CenterCrop(32) + ToTensor + Normalize(ImageNet)
                                of astronaut_rgb.png, float32 [3, 32, 32]
  tiny_images.npz               np.savez: images uint8 (5, 4, 3, 3), labels int64 (5,)
  tiny_images_compressed.npz    np.savez_compressed: images float32 (5, 4, 3) in [0, 1], labels int32
"""
import os
import struct
import sys
import zlib

try:
    import numpy as np
    from PIL import Image, ImageEnhance, ImageOps
    from skimage import data as skdata
except ImportError as error:
    print(f"skipping: {error} (needs numpy, Pillow and scikit-image)")
    sys.exit(0)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "data")

# timm's fill for geometric RandAugment ops: round(255 * ImageNet mean).
FILL = (124, 116, 104)

# (key, operation): the Swift test applies the same operation with the same argument.
OPS = [
    ("auto_contrast", lambda im: ImageOps.autocontrast(im)),
    ("equalize", lambda im: ImageOps.equalize(im)),
    ("invert", lambda im: ImageOps.invert(im)),
    ("rotate_bicubic_17.5", lambda im: im.rotate(17.5, resample=Image.BICUBIC, fillcolor=FILL)),
    ("rotate_bilinear_-23", lambda im: im.rotate(-23, resample=Image.BILINEAR, fillcolor=FILL)),
    ("posterize_2", lambda im: ImageOps.posterize(im, 2)),
    ("solarize_100", lambda im: ImageOps.solarize(im, 100)),
    ("solarize_add_60", lambda im: im.point([min(255, i + 60) if i < 128 else i for i in range(256)] * 3)),
    ("color_0.35", lambda im: ImageEnhance.Color(im).enhance(0.35)),
    ("color_1.7", lambda im: ImageEnhance.Color(im).enhance(1.7)),
    ("contrast_0.4", lambda im: ImageEnhance.Contrast(im).enhance(0.4)),
    ("contrast_1.6", lambda im: ImageEnhance.Contrast(im).enhance(1.6)),
    ("brightness_0.55", lambda im: ImageEnhance.Brightness(im).enhance(0.55)),
    ("brightness_1.45", lambda im: ImageEnhance.Brightness(im).enhance(1.45)),
    ("sharpness_0.2", lambda im: ImageEnhance.Sharpness(im).enhance(0.2)),
    ("sharpness_1.8", lambda im: ImageEnhance.Sharpness(im).enhance(1.8)),
    ("shear_x_0.21", lambda im: im.transform(im.size, Image.AFFINE, (1, 0.21, 0, 0, 1, 0), resample=Image.BICUBIC, fillcolor=FILL)),
    ("shear_y_-0.17", lambda im: im.transform(im.size, Image.AFFINE, (1, 0, 0, -0.17, 1, 0), resample=Image.BICUBIC, fillcolor=FILL)),
    ("translate_x_0.3", lambda im: im.transform(im.size, Image.AFFINE, (1, 0, 0.3 * im.size[0], 0, 1, 0), resample=Image.BICUBIC, fillcolor=FILL)),
    ("translate_y_-0.25", lambda im: im.transform(im.size, Image.AFFINE, (1, 0, 0, 0, 1, -0.25 * im.size[1]), resample=Image.BILINEAR, fillcolor=FILL)),
]


def save_reference(name, image):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(image))


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def filter_rows(raw_rows, bytes_per_pixel):
    """Filters each row with type (row index mod 5), so every PNG filter is exercised."""
    out = bytearray()
    previous = bytes(len(raw_rows[0])) if raw_rows else b""
    for index, row in enumerate(raw_rows):
        kind = index % 5
        filtered = bytearray(len(row))
        for i, value in enumerate(row):
            left = row[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            up = previous[i]
            up_left = previous[i - bytes_per_pixel] if i >= bytes_per_pixel else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
            filtered[i] = (value - predictor) & 0xFF
        out += bytes([kind]) + filtered
        previous = row
    return bytes(out)


def pack_row(samples, bit_depth):
    """Packs one row of integer samples at 1/2/4/8/16 bits, most significant first."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    if bit_depth == 8:
        return bytes(int(v) for v in samples)
    per_byte = 8 // bit_depth
    out = bytearray((len(samples) + per_byte - 1) // per_byte)
    for i, v in enumerate(samples):
        out[i // per_byte] |= int(v) << (8 - bit_depth * (i % per_byte + 1))
    return bytes(out)


def write_png(path, samples, bit_depth, color_type, interlace):
    """A PNG from an HxWxC integer array, written by hand so depths and Adam7 PIL cannot write are covered."""
    height, width, channels = samples.shape
    bits_per_pixel = bit_depth * channels
    bytes_per_pixel = max(1, bits_per_pixel // 8)
    passes = ([(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
              if interlace else [(0, 0, 1, 1)])
    stream = b""
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = [pack_row(sub[r].reshape(-1), bit_depth) for r in range(sub.shape[0])]
        stream += filter_rows(rows, bytes_per_pixel)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(stream, 9))
                + png_chunk(b"IEND", b""))


def main():
    os.makedirs(OUT, exist_ok=True)
    astronaut = Image.fromarray(skdata.astronaut()).crop((176, 64, 176 + 48, 64 + 32))
    coffee = Image.fromarray(skdata.coffee()).crop((250, 100, 250 + 48, 100 + 32))

    # PNGs written by PIL, references as PIL decodes them.
    pngs = {
        "astronaut_rgb": astronaut,
        "astronaut_gray": astronaut.convert("L"),
        "astronaut_palette": astronaut.quantize(colors=64),
    }
    rgba = astronaut.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 48).astype(np.uint8), (32, 1))))
    pngs["astronaut_rgba"] = rgba
    pngs["astronaut_la"] = rgba.convert("LA")
    for name, image in pngs.items():
        image.save(os.path.join(OUT, name + ".png"))
    palette4 = astronaut.quantize(colors=16)
    palette4.save(os.path.join(OUT, "astronaut_palette4_trns.png"), bits=4, transparency=bytes(range(0, 256, 16)))
    for name in list(pngs) + ["astronaut_palette4_trns"]:
        decoded = Image.open(os.path.join(OUT, name + ".png"))
        if decoded.mode == "P":
            decoded = decoded.convert("RGBA" if "transparency" in decoded.info else "RGB")
        save_reference(name, decoded)

    # PNGs PIL cannot write: 16-bit RGB interlaced, 2-bit grey, 1-bit grey interlaced.
    rgb = np.asarray(astronaut).astype(np.uint16)
    ys, xs = np.mgrid[0:32, 0:48]
    low = ((xs * 7 + ys * 13) % 256).astype(np.uint16)
    write_png(os.path.join(OUT, "astronaut_rgb16_adam7.png"), rgb * 256 + low[:, :, None], 16, 2, True)
    gray = np.asarray(astronaut.convert("L"))
    write_png(os.path.join(OUT, "astronaut_gray2.png"), (gray >> 6)[:, :, None], 2, 0, False)
    write_png(os.path.join(OUT, "astronaut_gray1_adam7.png"), (gray >> 7)[:, :, None], 1, 0, True)
    for name in ["astronaut_rgb16_adam7", "astronaut_gray2", "astronaut_gray1_adam7"]:
        decoded = Image.open(os.path.join(OUT, name + ".png"))
        save_reference(name, decoded.convert("L") if decoded.mode == "1" else decoded)

    # JPEGs written and decoded by PIL.
    coffee.save(os.path.join(OUT, "coffee.jpg"), quality=90)
    coffee.convert("L").save(os.path.join(OUT, "coffee_gray.jpg"), quality=90)
    coffee.save(os.path.join(OUT, "coffee_progressive.jpg"), quality=75, progressive=True, subsampling=0)
    coffee.convert("CMYK").save(os.path.join(OUT, "coffee_cmyk.jpg"), quality=90)
    for name in ["coffee", "coffee_gray", "coffee_progressive", "coffee_cmyk"]:
        decoded = Image.open(os.path.join(OUT, name + ".jpg"))
        save_reference(name, decoded.convert("RGB") if decoded.mode == "CMYK" else decoded)

    # Resizing.
    source = Image.open(os.path.join(OUT, "astronaut_rgb.png")).convert("RGB")
    for filter_name, resample, size in [("bilinear", Image.BILINEAR, (20, 13)), ("bicubic", Image.BICUBIC, (20, 13)),
                                        ("bilinear", Image.BILINEAR, (64, 40)), ("bicubic", Image.BICUBIC, (31, 47))]:
        np.save(os.path.join(OUT, f"resize_{filter_name}_{size[0]}x{size[1]}.npy"), np.asarray(source.resize(size, resample)))

    # RandAugment operations.
    results = {key: np.asarray(op(source)) for key, op in OPS}
    np.savez_compressed(os.path.join(OUT, "randaugment_ops.npz"), **results)

    # Evaluation preprocessing, by hand: shorter side to 36 (int(36 * 48 / 32) = 54 wide), centre crop 32.
    resized = source.resize((54, 36), Image.BICUBIC)
    top, left = int(round((36 - 32) / 2.0)), int(round((54 - 32) / 2.0))
    crop = np.asarray(resized.crop((left, top, left + 32, top + 32)))
    tensor = crop.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]
    evaluation = ((tensor - mean) / std).astype(np.float32)
    np.save(os.path.join(OUT, "eval_transform.npy"), evaluation)

    # Tiny NumPy datasets for the .npz reader.
    rng = np.random.default_rng(7)
    np.savez(os.path.join(OUT, "tiny_images.npz"), images=rng.integers(0, 256, (5, 4, 3, 3), dtype=np.uint8),
             labels=np.array([0, 2, 1, 2, 0], dtype=np.int64))
    np.savez_compressed(os.path.join(OUT, "tiny_images_compressed.npz"),
                        images=(rng.integers(0, 256, (5, 4, 3)) / 255).astype(np.float32),
                        labels=np.array([1, 0, 1, 1, 0], dtype=np.int32))

    cross_check(source, results, evaluation)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


def cross_check(source, results, evaluation):
    """Confirms the PIL calls above are what torchvision and timm do, when those are installed."""
    try:
        import torch
        from torchvision import transforms
        from torchvision.transforms import functional as F
    except ImportError:
        print("torchvision not installed: skipping the torchvision cross-check")
    else:
        pipeline = transforms.Compose([transforms.Resize(36, interpolation=transforms.InterpolationMode.BICUBIC),
                                       transforms.CenterCrop(32), transforms.ToTensor(),
                                       transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
        assert np.array_equal(pipeline(source).numpy(), evaluation), "eval transform differs from torchvision"
        tensor = torch.from_numpy(np.asarray(source).copy()).permute(2, 0, 1)
        resized = F.resize(tensor, [13, 20], interpolation=transforms.InterpolationMode.BILINEAR, antialias=True)
        np.save(os.path.join(OUT, "resize_torchvision_bilinear_20x13.npy"), resized.permute(1, 2, 0).numpy())
    try:
        from timm.data import auto_augment as aa
    except ImportError:
        print("timm not installed: skipping the timm cross-check")
        return
    kwargs = dict(fillcolor=FILL, resample=Image.BICUBIC)
    timm_ops = {
        "auto_contrast": aa.auto_contrast(source), "equalize": aa.equalize(source), "invert": aa.invert(source),
        "rotate_bicubic_17.5": aa.rotate(source, 17.5, **kwargs), "posterize_2": aa.posterize(source, 2),
        "solarize_100": aa.solarize(source, 100), "solarize_add_60": aa.solarize_add(source, 60),
        "color_0.35": aa.color(source, 0.35), "contrast_1.6": aa.contrast(source, 1.6),
        "brightness_0.55": aa.brightness(source, 0.55), "sharpness_1.8": aa.sharpness(source, 1.8),
        "shear_x_0.21": aa.shear_x(source, 0.21, **kwargs), "shear_y_-0.17": aa.shear_y(source, -0.17, **kwargs),
        "translate_x_0.3": aa.translate_x_rel(source, 0.3, **kwargs),
    }
    for key, image in timm_ops.items():
        assert np.array_equal(np.asarray(image), results[key]), f"timm's {key} differs from the PIL call"


if __name__ == "__main__":
    main()
