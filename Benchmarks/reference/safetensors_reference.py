#!/usr/bin/env python3
"""Writes the reference fixtures for Tests/SafeTensorsTests: small safetensors files produced by the
Python `safetensors` library (0.8) with numpy and ml_dtypes (for bfloat16), embedded as base64 in a
Swift source file together with the values the Swift reader must find in them.

Setup (once):  python3 -m venv Benchmarks/.venv-ref
               Benchmarks/.venv-ref/bin/pip install safetensors numpy ml_dtypes
Run:           Benchmarks/.venv-ref/bin/python Benchmarks/reference/safetensors_reference.py \
                   > Tests/SafeTensorsTests/ReferenceFixtures.swift

Fixtures:
- mixed: one tensor of every dtype numpy can hold (F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8
  BOOL), including F16/BF16 special values, a scalar and an empty tensor, with `__metadata__`.
  Expected Float32 values are numpy's `astype(float32)` bit patterns.
- writer parity: the same float32 values saved by the Python library as F32, F16 (numpy's
  round-to-nearest-even) and BF16 (ml_dtypes' round-to-nearest-even). The Swift writer must
  produce byte-identical files from the F32 values, which checks both the layout (order, JSON,
  padding) and the rounding against independent implementations.
- empty: no tensors, no metadata.
"""
import base64
import sys

import ml_dtypes
import numpy as np
import safetensors
from safetensors.numpy import save

f32 = np.float32


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def swift_string(name: str, data: bytes) -> str:
    text = b64(data)
    lines = [text[i:i + 100] for i in range(0, len(text), 100)] or [""]
    body = "\n".join("        " + line for line in lines)
    return f'    static let {name} = """\n{body}\n        """\n'


def bits(arr) -> list:
    return [int(x) for x in np.asarray(arr, dtype=f32).reshape(-1).view(np.uint32)]


def mixed():
    f16_specials = np.array(
        [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, np.inf, -np.inf, np.nan,
         2.0 ** -24, -(2.0 ** -24), 2.0 ** -14, 1023 * 2.0 ** -24, 1.0 / 3.0],
        dtype=np.float16)
    bf16_specials = np.array(
        [0.0, -0.0, 1.0, -1.5, 3.0e38, -3.0e38, np.inf, -np.inf, np.nan, 1.0e-40, 0.1],
        dtype=f32).astype(ml_dtypes.bfloat16)
    tensors = {
        "weight.f32": (np.arange(-6, 6, dtype=f32).reshape(3, 4) / f32(7.0)),
        "weight.f64": np.array([[0.1, -1e300], [1e-50, 3.141592653589793]], dtype=np.float64),
        "special.f16": f16_specials,
        "special.bf16": bf16_specials,
        "embeddings.position_ids": np.arange(8, dtype=np.int64).reshape(1, 8),
        "ints.i32": np.array([[-2147483648, 2147483647], [0, -1]], dtype=np.int32),
        "ints.i16": np.array([-32768, 32767, -1], dtype=np.int16),
        "ints.i8": np.array([-128, 127, 0], dtype=np.int8),
        "ints.u64": np.array([0, 2 ** 63 - 1, 5], dtype=np.uint64),
        "ints.u32": np.array([4294967295, 0], dtype=np.uint32),
        "ints.u16": np.array([65535, 1], dtype=np.uint16),
        "ints.u8": np.array([255, 0, 7], dtype=np.uint8),
        "mask.bool": np.array([True, False, True], dtype=bool),
        "scalar.f32": np.array(42.5, dtype=f32),
        "empty.f32": np.zeros((0, 3), dtype=f32),
    }
    data = save(tensors, metadata={"format": "pt"})
    expected = {}
    for name, arr in tensors.items():
        with np.errstate(over="ignore"):
            values = arr.astype(f32)  # F64 beyond the float32 range becomes infinity, as in Swift
        ints = None
        if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
            ints = [int(x) for x in arr.reshape(-1)]
        expected[name] = (list(arr.shape), bits(values), ints)
    return data, expected


def parity_inputs():
    rng = np.random.default_rng(20240601)
    normal = rng.standard_normal(300).astype(f32)
    wide = (rng.standard_normal(100) * np.exp2(rng.integers(-30, 20, 100))).astype(f32)
    edges = np.array([
        0.0, -0.0, 1.0, -1.0, 65504.0, 65519.996, 65520.0, -65520.0, 1e6, np.inf, -np.inf,
        2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 * (1 - 2.0 ** -11),
        1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
        3.3895314e38, 3.4028235e38, 1e-40, -1e-45, 0.1, 1.0 / 3.0,
    ], dtype=f32)
    return np.concatenate([normal, wide, edges]).astype(f32)


def parity():
    x = parity_inputs()
    a = x[:200].reshape(10, 20)
    b = x[200:].reshape(-1)
    meta = {"note": "parity"}
    out = {}
    out["f32"] = save({"layer.a": a, "layer.b": b, "bias": np.array([1.5], dtype=f32)}, metadata=meta)
    out["f16"] = save({"layer.a": a.astype(np.float16), "layer.b": b.astype(np.float16),
                       "bias": np.array([1.5], dtype=np.float16)}, metadata=meta)
    out["bf16"] = save({"layer.a": a.astype(ml_dtypes.bfloat16), "layer.b": b.astype(ml_dtypes.bfloat16),
                        "bias": np.array([1.5], dtype=ml_dtypes.bfloat16)}, metadata=meta)
    return out


def main():
    np.seterr(over="ignore")  # float16 casts of the edge values overflow to infinity on purpose
    mixed_bytes, expected = mixed()
    par = parity()
    empty = save({})
    w = sys.stdout.write
    w("// Generated by Benchmarks/reference/safetensors_reference.py with safetensors "
      f"{safetensors.__version__}, numpy {np.__version__}, ml_dtypes {ml_dtypes.__version__}. Do not edit.\n\n")
    w("/// Files written by the Python `safetensors` library, and what they contain.\n")
    w("enum ReferenceFixtures {\n")
    w(swift_string("mixed", mixed_bytes))
    w(swift_string("parityF32", par["f32"]))
    w(swift_string("parityF16", par["f16"]))
    w(swift_string("parityBF16", par["bf16"]))
    w(swift_string("empty", empty))
    w("\n    struct Expected {\n        let shape: [Int]\n        let floatBits: [UInt32]\n        let integers: [Int64]?\n    }\n\n")
    w("    /// Per tensor of `mixed`: shape, numpy's float32 conversion as bit patterns, and integer values.\n")
    w("    static let mixedExpected: [String: Expected] = [\n")
    for name, (shape, fbits, ints) in expected.items():
        ints_s = "nil" if ints is None else "[" + ", ".join(str(v) for v in ints) + "]"
        fb = ", ".join(f"0x{v:08X}" for v in fbits)
        w(f'        "{name}": Expected(shape: {shape}, floatBits: [{fb}], integers: {ints_s}),\n')
    w("    ]\n}\n")


if __name__ == "__main__":
    main()
