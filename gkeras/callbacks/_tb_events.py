"""A small writer of TensorBoard event files, standard library only.

An event file is a sequence of TFRecords:

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

(little endian), where `data` is a serialized `tensorflow.Event` protocol
buffer. The few messages needed (Event, Summary, Summary.Value,
Summary.Image, HistogramProto, SummaryMetadata, TensorProto) are encoded
by hand below; field numbers are those of TensorFlow's
`event.proto`, `summary.proto` and `tensor.proto`.
"""

import os
import socket
import struct
import time
import zlib

import numpy as np

# -- CRC-32C (Castagnoli), as TFRecord requires -------------------------------

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)
del _i, _c


def crc32c(data):
    """CRC-32C of `data` (bytes)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked CRC: rotate right by 15 and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def encode_record(data):
    """One TFRecord (header, payload and checksums)."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data +
            struct.pack("<I", masked_crc32c(data)))


def read_records(path):
    """Yields the payloads of a TFRecord file, checking both CRCs.

    Raises:
        ValueError: on a truncated record or a checksum mismatch.
    """
    with open(path, "rb") as f:
        while True:
            header = f.read(8)
            if not header:
                return
            if len(header) < 8:
                raise ValueError(f"{path}: truncated record header")
            (crc,) = struct.unpack("<I", f.read(4))
            if crc != masked_crc32c(header):
                raise ValueError(f"{path}: bad length checksum")
            (n,) = struct.unpack("<Q", header)
            data = f.read(n)
            (crc,) = struct.unpack("<I", f.read(4))
            if len(data) != n or crc != masked_crc32c(data):
                raise ValueError(f"{path}: bad data checksum")
            yield data


# -- protobuf wire format -----------------------------------------------------

def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def f_varint(field, n):
    return _key(field, 0) + _varint(int(n))


def f_double(field, x):
    return _key(field, 1) + struct.pack("<d", float(x))


def f_float(field, x):
    return _key(field, 5) + struct.pack("<f", float(x))


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode("utf8")
    return _key(field, 2) + _varint(len(b)) + b


def f_packed_doubles(field, xs):
    return f_bytes(field, struct.pack(f"<{len(xs)}d", *map(float, xs)))


def event(wall_time, step, **what):
    """An `Event`: `file_version=str`, `graph_def=bytes` or
    `summary=bytes` (a serialized Summary)."""
    out = f_double(1, wall_time) + f_varint(2, step)
    if "file_version" in what:
        out += f_bytes(3, what["file_version"])
    if "graph_def" in what:
        out += f_bytes(4, what["graph_def"])
    if "summary" in what:
        out += f_bytes(5, what["summary"])
    return out


def summary(*values):
    """A `Summary` of serialized `Summary.Value`s."""
    return b"".join(f_bytes(1, v) for v in values)


def scalar_value(tag, x):
    return f_bytes(1, tag) + f_float(2, x)


def histogram_value(tag, values, bins=30):
    """A `Summary.Value` holding a `HistogramProto` of `values`."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        v = np.zeros(1)
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    histo = (f_double(1, v.min()) + f_double(2, v.max()) +
             f_double(3, v.size) + f_double(4, v.sum()) +
             f_double(5, np.dot(v, v)) + f_packed_doubles(6, edges[1:]) +
             f_packed_doubles(7, counts))
    return f_bytes(1, tag) + f_bytes(5, histo)


def png_gray(img):
    """Encodes a 2-D uint8 array as a grayscale PNG."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def image_value(tag, array2d):
    """A `Summary.Value` with a `Summary.Image` of a 2-D array, scaled to
    0..255."""
    a = np.asarray(array2d, dtype=np.float64)
    lo, hi = a.min(), a.max()
    scaled = np.zeros_like(a) if hi == lo else (a - lo) / (hi - lo) * 255.0
    img = np.ascontiguousarray(np.round(scaled).astype(np.uint8))
    image = (f_varint(1, img.shape[0]) + f_varint(2, img.shape[1]) +
             f_varint(3, 1) + f_bytes(4, png_gray(img)))
    return f_bytes(1, tag) + f_bytes(4, image)


def text_value(tag, text, plugin="text", content=b""):
    """A `Summary.Value` with a string tensor (the text plugin, or the
    `graph_keras_model` plugin for a model's JSON)."""
    plugin_data = f_bytes(1, plugin) + (f_bytes(2, content) if content
                                        else b"")
    metadata = f_bytes(1, plugin_data)
    tensor = f_varint(1, 7) + f_bytes(2, b"") + f_bytes(8, text)  # DT_STRING
    return f_bytes(1, tag) + f_bytes(9, metadata) + f_bytes(8, tensor)


class EventFileWriter:
    """Appends events to `logdir/events.out.tfevents.<time>.<host>...`.

    Args:
        logdir: the folder (created if needed).
    """

    _counter = 0

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        EventFileWriter._counter += 1
        name = (f"events.out.tfevents.{int(time.time()):010d}."
                f"{socket.gethostname()}.{os.getpid()}."
                f"{EventFileWriter._counter}.v2")
        self.path = os.path.join(logdir, name)
        self._f = open(self.path, "ab")
        self.write(event(time.time(), 0, file_version="brain.Event:2"))

    def write(self, serialized_event):
        self._f.write(encode_record(serialized_event))

    def add_summary(self, step, *values):
        """Writes one Event holding a Summary of `values`."""
        self.write(event(time.time(), step, summary=summary(*values)))

    def flush(self):
        self._f.flush()

    def close(self):
        if not self._f.closed:
            self._f.close()
