"""Two edits of an ONNX model file, made on its protobuf wire format (no ``onnx`` package needed).

An ONNX file is a protobuf ``ModelProto``. To run CenterFace at one fixed input size we change two
things and copy every other byte as it is:

* the dimensions of named graph inputs and outputs (``ValueInfoProto.type.tensor_type.shape.dim``
  becomes a list of ``dim_value``), and
* graph inputs that are also initializers (the file lists its 194 weights as inputs, so onnxruntime
  must treat them as overridable and will not fold the batch norms into the convolutions) are dropped.

Field numbers are those of ``onnx/onnx.proto`` (IR version 4+): ModelProto.graph = 7; GraphProto
initializer = 5, input = 11, output = 12; TensorProto.name = 8; ValueInfoProto name = 1, type = 2;
TypeProto.tensor_type = 1; TypeProto.Tensor elem_type = 1, shape = 2; TensorShapeProto.dim = 1;
Dimension.dim_value = 1. Pure functions over bytes; the ``onnx`` package (with ``ml_dtypes``) cost
about a second of every ``liuhen`` start only to do this.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from liuhen.redaction.errors import DetectorUnavailable

VARINT, I64, LEN, I32 = 0, 1, 2, 5
Field = tuple[int, int, int | bytes, bytes]  # (number, wire type, value, the field's exact bytes)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DetectorUnavailable(f"face model: truncated or malformed protobuf varint at byte {pos}")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as protobuf writes it: ten bytes, two's complement
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fields(buf: bytes) -> Iterator[Field]:
    """Every field of one message, in file order."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = _varint(buf, pos)
        elif wire == LEN:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise DetectorUnavailable(f"face model: field {number} runs past the end of its message")
            value, pos = buf[pos : pos + n], pos + n
        elif wire in (I64, I32):
            width = 8 if wire == I64 else 4
            value, pos = buf[pos : pos + width], pos + width
        else:
            raise DetectorUnavailable(f"face model: unsupported protobuf wire type {wire} (field {number})")
        yield number, wire, value, buf[start:pos]


def encode_len(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | LEN) + encode_varint(len(payload)) + payload


def _string(msg: bytes, number: int) -> str | None:
    for n, wire, value, _ in fields(msg):
        if n == number and wire == LEN and isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return None


def _only(msg: bytes, number: int) -> bytes:
    for n, wire, value, _ in fields(msg):
        if n == number and wire == LEN and isinstance(value, bytes):
            return value
    return b""


def _with_shape(value_info: bytes, dims: Sequence[int]) -> bytes:
    """The ValueInfoProto with its tensor shape replaced by ``dims`` (element type and the rest kept)."""
    shape = b"".join(encode_len(1, encode_varint(1 << 3 | VARINT) + encode_varint(d)) for d in dims)
    tensor = b"".join(raw for n, _, _, raw in fields(_only(_only(value_info, 2), 1)) if n != 2) + encode_len(2, shape)
    type_proto = b"".join(raw for n, _, _, raw in fields(_only(value_info, 2)) if n != 1) + encode_len(1, tensor)
    return b"".join(raw for n, _, _, raw in fields(value_info) if n != 2) + encode_len(2, type_proto)


def _graph(graph: bytes, shapes: Mapping[str, Sequence[int]]) -> bytes:
    weights = {_string(v, 8) for n, w, v, _ in fields(graph) if n == 5 and isinstance(v, bytes)}
    out = []
    for n, _, value, raw in fields(graph):
        if n in (11, 12) and isinstance(value, bytes):
            name = _string(value, 1) or ""
            if n == 11 and name in weights:
                continue
            if name in shapes:
                raw = encode_len(n, _with_shape(value, shapes[name]))
        out.append(raw)
    return b"".join(out)


def fix_shapes(model: bytes, shapes: Mapping[str, Sequence[int]]) -> bytes:
    """``model`` with the named inputs/outputs set to fixed ``shapes`` and its weights no longer inputs."""
    out = []
    seen = False
    for n, _, value, raw in fields(model):
        if n == 7 and isinstance(value, bytes):
            raw, seen = encode_len(7, _graph(value, shapes)), True
        out.append(raw)
    if not seen:
        raise DetectorUnavailable("face model: no graph in the ONNX file")
    return b"".join(out)


def graph_io(model: bytes) -> tuple[list[tuple[str, list[int]]], list[tuple[str, list[int]]], int]:
    """(inputs, outputs) as (name, dim values), and the number of initializers — to inspect a model."""
    graph = _only(model, 7)
    io: dict[int, list[tuple[str, list[int]]]] = {11: [], 12: []}
    weights = 0
    for n, _, value, _ in fields(graph):
        if n == 5:
            weights += 1
        elif n in io and isinstance(value, bytes):
            shape = _only(_only(_only(value, 2), 1), 2)
            dims = [
                int(dv) for d_n, _, d, _ in fields(shape) if d_n == 1 and isinstance(d, bytes)
                for f_n, _, dv, _ in fields(d) if f_n == 1 and isinstance(dv, int)
            ]
            io[n].append((_string(value, 1) or "", dims))
    return io[11], io[12], weights
