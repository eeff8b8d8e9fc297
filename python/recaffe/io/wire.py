"""A minimal protobuf wire-format walker, enough to pull the packed float arrays out of a
.caffemodel as numpy views (np.frombuffer) instead of letting protobuf build Python float lists:
a 550 MB VGG16 file loads in about a second this way (README, "Caffe files")."""
from __future__ import annotations

VARINT, FIXED64, LEN, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


class WireError(ValueError):
    """Malformed protobuf bytes; `offset` is where the problem was found."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint", pos)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes", pos)


def iter_fields(buf, start: int, end: int):
    """Yield (field_number, wire_type, value, field_start, field_end) for each field in
    buf[start:end]. value is an int for VARINT/FIXED*, and (offset, length) for LEN."""
    pos = start
    while pos < end:
        fstart = pos
        key, pos = read_varint(buf, pos, end)
        field, wtype = key >> 3, key & 7
        if field == 0:
            raise WireError("field number 0", fstart)
        if wtype == VARINT:
            value, pos = read_varint(buf, pos, end)
        elif wtype == FIXED64:
            if pos + 8 > end:
                raise WireError("truncated 64-bit field", pos)
            value = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wtype == FIXED32:
            if pos + 4 > end:
                raise WireError("truncated 32-bit field", pos)
            value = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        elif wtype == LEN:
            length, pos = read_varint(buf, pos, end)
            if pos + length > end:
                raise WireError(f"field {field} claims {length} bytes but only {end - pos} remain", pos)
            value = (pos, length)
            pos += length
        else:
            raise WireError(f"unsupported wire type {wtype} (groups are not used by caffe.proto)", fstart)
        yield field, wtype, value, fstart, pos


def encode_varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_key(field: int, wtype: int) -> bytes:
    return encode_varint((field << 3) | wtype)


def encode_len(field: int, payload: bytes) -> bytes:
    return encode_key(field, LEN) + encode_varint(len(payload)) + payload
