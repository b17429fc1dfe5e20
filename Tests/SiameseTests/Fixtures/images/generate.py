#!/usr/bin/env python3
"""Writes the PNG and JPEG fixtures of ImageFormatTests and their PGM/PPM twins.

    cd Tests/SiameseTests/Fixtures/images && python3 generate.py

PNGs are written here byte by byte (standard library only: zlib), so every variant the decoder
must handle is exact and under control: 1-, 8- and 16-bit grayscale, gray + alpha, RGB, RGBA,
16-bit RGB, a palette with transparency, and an Adam7-interlaced image. Each PNG has a twin
PGM/PPM with the pixels the decoder must give (alpha dropped: the stored colour is kept).

JPEGs come from Debian's libjpeg-turbo-progs: `cjpeg` encodes the PPM/PGM twins (baseline 4:2:0,
progressive, grayscale) and `djpeg` decodes them with the same libjpeg.so.62 the package loads,
with its default settings (islow IDCT, fancy upsampling) as the decoder uses; its output is the
expected twin, so the JPEG comparison is exact too.

Also written: files that must be refused (a PNG and a JPEG whose headers declare 10^10 and
4.2·10^9 pixels), and a small training folder of PNGs (3 classes × 6 images, 8×8 grayscale).
"""
import os
import struct
import subprocess
import zlib

W, H = 16, 12


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, plte=None, trns=None, interlace=0):
    """rows: list of raw scanline bytes (without filter byte) per row, or for interlace the full image."""
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    if plte is not None:
        out += chunk(b"PLTE", plte)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0 (None) on every row
    out += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return out


def pnm(magic, width, height, maxval, samples):
    data = f"{magic}\n{width} {height}\n{maxval}\n".encode()
    if maxval > 255:
        return data + b"".join(struct.pack(">H", v) for v in samples)
    return data + bytes(samples)


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def gray(x, y):
    return (x * 16 + y * 5) % 256


def rgb(x, y):
    return ((x * 16) % 256, (y * 21) % 256, (x * y * 3 + 40) % 256)


def main():
    # 8-bit grayscale.
    g = [[gray(x, y) for x in range(W)] for y in range(H)]
    write("gray8.png", png(W, H, 8, 0, [bytes(r) for r in g]))
    write("gray8.pgm", pnm("P5", W, H, 255, [v for r in g for v in r]))

    # 1-bit grayscale: a checkerboard of 2×2 squares; samples 0 or 1 scale to 0 or 255.
    bits = [[((x // 2) + (y // 2)) % 2 for x in range(W)] for y in range(H)]
    packed = []
    for r in bits:
        row = bytearray()
        for i in range(0, W, 8):
            byte = 0
            for k in range(8):
                byte = byte << 1 | (r[i + k] if i + k < W else 0)
            row.append(byte)
        packed.append(bytes(row))
    write("gray1.png", png(W, H, 1, 0, packed))
    write("gray1.pgm", pnm("P5", W, H, 255, [255 * v for r in bits for v in r]))

    # 16-bit grayscale: the twin keeps all 16 bits (the decoder gives 8, within half a step).
    g16 = [[(x * 4099 + y * 1031) % 65536 for x in range(W)] for y in range(H)]
    write("gray16.png", png(W, H, 16, 0, [b"".join(struct.pack(">H", v) for v in r) for r in g16]))
    write("gray16.pgm", pnm("P5", W, H, 65535, [v for r in g16 for v in r]))

    # Gray + alpha: alpha dropped.
    write("gray_alpha.png", png(W, H, 8, 4, [bytes(v for x in range(W) for v in (g[y][x], (x * 37 + y) % 256)) for y in range(H)]))

    # RGB and RGBA (alpha dropped, so both have the same twin as the stored colour).
    c = [[rgb(x, y) for x in range(W)] for y in range(H)]
    write("rgb8.png", png(W, H, 8, 2, [bytes(v for p in r for v in p) for r in c]))
    write("rgb8.ppm", pnm("P6", W, H, 255, [v for r in c for p in r for v in p]))
    write("rgba8.png", png(W, H, 8, 6, [bytes(v for x, p in enumerate(r) for v in p + ((x * 53 + y * 7) % 256,)) for y, r in enumerate(c)]))

    # 16-bit RGB.
    c16 = [[(x * 4111 % 65536, y * 5003 % 65536, (x + y) * 2039 % 65536) for x in range(W)] for y in range(H)]
    write("rgb16.png", png(W, H, 16, 2, [b"".join(struct.pack(">HHH", *p) for p in r) for r in c16]))
    write("rgb16.ppm", pnm("P6", W, H, 65535, [v for r in c16 for p in r for v in p]))

    # Palette of 8 colours with a tRNS entry per colour (transparency dropped).
    palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255), (17, 34, 51), (250, 250, 250)]
    index = [[(x + 3 * y) % len(palette) for x in range(W)] for y in range(H)]
    write("palette.png", png(W, H, 8, 3, [bytes(r) for r in index],
                             plte=bytes(v for p in palette for v in p), trns=bytes([255, 0, 128, 255, 10, 20, 30, 40])))
    write("palette.ppm", pnm("P6", W, H, 255, [v for r in index for i in r for v in palette[i]]))

    # Adam7-interlaced RGB: same pixels as rgb8.png.
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        xs, ys = list(range(x0, W, dx)), list(range(y0, H, dy))
        if not xs or not ys:
            continue
        for y in ys:
            raw += b"\x00" + bytes(v for x in xs for v in c[y][x])
    ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 1)
    write("rgb8_interlaced.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

    # JPEGs from the twins, decoded by djpeg for the expected pixels.
    def jpeg(source, name, *options):
        subprocess.run(["cjpeg", "-quality", "85", *options, "-outfile", name, source], check=True)
        expected = name.replace(".jpg", "_djpeg.pnm")
        subprocess.run(["djpeg", "-pnm", "-outfile", expected, name], check=True)
    jpeg("rgb8.ppm", "rgb.jpg")                     # baseline, 4:2:0 chroma subsampling
    jpeg("rgb8.ppm", "rgb_progressive.jpg", "-progressive")
    jpeg("gray8.pgm", "gray.jpg", "-grayscale")

    # Headers that declare far too many pixels (checked before anything is allocated).
    huge = 100_000
    write("oversized.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", huge, huge, 8, 0, 0, 0, 0))
          + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    with open("rgb.jpg", "rb") as f:
        data = bytearray(f.read())
    sof = next(i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)  # height, width
    write("oversized.jpg", bytes(data))

    # A training folder: 3 classes of 8×8 grayscale PNGs, a bright bar per class plus a little noise.
    for label in range(3):
        os.makedirs(f"train/class{label}", exist_ok=True)
        for k in range(6):
            pixels = [[(200 if (y // 3 == label) else 20) + ((x * 7 + y * 3 + k * 11) % 30) for x in range(8)] for y in range(8)]
            write(f"train/class{label}/{k}.png", png(8, 8, 8, 0, [bytes(r) for r in pixels]))


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
