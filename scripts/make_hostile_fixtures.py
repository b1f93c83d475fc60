"""Hostile inputs for Tests/Fixtures/hostile: files a careless reader would crash or hang on.

Each must be refused by serkd with one error line. Fuzzer crashers are saved beside them by
Fuzz/run.sh; these are the hand-made cases from issue 11. Run from the repository root:
    python3 scripts/make_hostile_fixtures.py
"""
import struct
import zlib

import onnx
from onnx import TensorProto, helper

OUT = "Tests/Fixtures/hostile/"


def model_with_functions(functions, call, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node(call, ["x"], ["y"], domain="local", name="call")], name, [x], [y])
    model = helper.make_model(graph, functions=functions,
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    onnx.save(model, OUT + name + ".onnx")


def function(name, callee):
    body = [helper.make_node(callee, ["a"], ["b"], domain="local")]
    return helper.make_function("local", name, ["a"], ["b"], body, [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])


def relu_with_input(dims, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], name, [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), OUT + name + ".onnx")


def external_weight(location):
    # A weight whose bytes live in `location` beside the model; the test makes that a FIFO.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [0.0] * 4)
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in [("location", location), ("offset", "0"), ("length", "16")]:
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "external", [x], [y], initializer=[w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), OUT + "external_weight.onnx")


def conv_with_padding(pad):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], [0.1] * 9)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[pad] * 4, name="conv")
    graph = helper.make_graph([node], "padded", [x], [y], initializer=[w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), OUT + "conv_million_padding.onnx")


def png(width, height, data):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def jpeg_declaring(width, height):
    # The coffee fixture with its frame header (SOF0) claiming another size.
    data = bytearray(open("Tests/Fixtures/data/coffee.jpg", "rb").read())
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def npy(shape_text, payload=b""):
    header = ("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text).encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


model_with_functions([function("Self", "Self")], "Self", "recursive_function")
model_with_functions([function("Ping", "Pong"), function("Pong", "Ping")], "Ping", "mutually_recursive_functions")
conv_with_padding(1_000_000)
relu_with_input([1 << 40, 1 << 30], "huge_input")
relu_with_input([0, 4], "zero_sized_input")
external_weight("external_weight.bin")
# 16k × 16k grey from 1 KB of deflate: a decompression bomb.
open(OUT + "png_16k_bomb.png", "wb").write(png(16384, 16384, zlib.compress(b"\x00" * 4096)))
# 8000 × 8000 (inside the pixel limit) from the same few bytes: more than deflate can expand them to.
open(OUT + "png_8k_bomb.png", "wb").write(png(8000, 8000, zlib.compress(b"\x00" * 4096)))
open(OUT + "jpeg_16k.jpg", "wb").write(jpeg_declaring(16384, 16384))
open(OUT + "npy_2_62_elements.npy", "wb").write(npy("(4611686018427387904,)"))
