"""Draws the app icon (a chip on a Bitcoin-orange tile) as PNGs, without image libraries."""
import struct, zlib, sys

def png(path, size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def draw(size):
    px = [0] * (size * size * 4)
    r = size * 0.2
    def inside_round(x, y, x0, y0, x1, y1, rad):
        cx = min(max(x, x0 + rad), x1 - rad); cy = min(max(y, y0 + rad), y1 - rad)
        return (x - cx) ** 2 + (y - cy) ** 2 <= rad ** 2
    for y in range(size):
        for x in range(size):
            fx, fy = x + 0.5, y + 0.5
            c = None
            if inside_round(fx, fy, 0, 0, size, size, r):
                c = (0xF7, 0x93, 0x1A, 255)
                m = size * 0.28
                chip = (m <= fx <= size - m) and (m <= fy <= size - m)
                pin = False
                for i in range(4):
                    p0 = m + (size - 2 * m) * (i + 0.5) / 4
                    w = size * 0.035
                    if abs(fx - p0) <= w and (size * 0.16 <= fy < m or size - m < fy <= size * 0.84):
                        pin = True
                    if abs(fy - p0) <= w and (size * 0.16 <= fx < m or size - m < fx <= size * 0.84):
                        pin = True
                if chip or pin:
                    c = (0x2B, 0x2B, 0x2B, 255)
                core = size * 0.4
                if core <= fx <= size - core and core <= fy <= size - core:
                    c = (0xF7, 0x93, 0x1A, 255)
            if c:
                i = (y * size + x) * 4
                px[i:i + 4] = c
    return px

for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    png(name, size, draw(size))
