"""Hostile inputs, made small: archives, compressed bodies and images that claim far more than
they carry (for the tests and `make bench-hostile`)."""

import gzip
import io
import struct
import zlib

from PIL import Image

from tests.support.images import image_bytes

MB = 1024 * 1024


def many_entry_zip(entries: int) -> bytes:
    """One stored member and a central directory that names it ``entries`` times (zip64)."""
    name, data = b"a.png", image_bytes("red")
    crc = zlib.crc32(data)
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0
    )
    local += name + data
    entry_head = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 20, 0, 0, 0, 0, crc, len(data), len(data),
        9, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    directory = b"".join(entry_head + b"m%07d" % i for i in range(entries))
    directory_at = len(local)
    end64_at = directory_at + len(directory)
    end64 = b"PK\x06\x06" + struct.pack(
        "<QHHIIQQQQ", 44, 45, 45, 0, 0, entries, entries, len(directory), directory_at
    )
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, end64_at, 1)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + directory + end64 + locator + end


def gzip_bomb(expanded: int, layers: int) -> bytes:
    """Zeros that expand to ``expanded`` bytes through ``layers`` of gzip."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    body = b"".join(compressor.compress(zeros) for _ in range(expanded // MB))
    body += compressor.flush()
    for _ in range(layers - 1):
        body = gzip.compress(body, 9)
    return body


def png(width: int, height: int, seed: int) -> bytes:
    """A real PNG that compresses to almost nothing: one colour, one odd pixel (a fresh id)."""
    image = Image.new("RGB", (width, height), (seed % 256, 90, 160))
    image.putpixel((seed % width, 0), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=9)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims this size over an 8x8 image's pixel data: any attempt to
    decode it fails (corrupt), so refusing it by its size shows nothing was decoded."""
    small = io.BytesIO()
    Image.new("RGB", (8, 8), (5, 6, 7)).save(small, format="PNG")
    data = bytearray(small.getvalue())
    header = data[12:29]  # chunk type + 13 bytes of IHDR
    header[4:12] = struct.pack(">II", width, height)
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(header)))
    return bytes(data)
