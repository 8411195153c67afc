"""Writing weights the way each project publishes them, without the
safetensors package: safetensors files in every dtype the format defines
(bytes encoded here), sharded safetensors with their index, and PyTorch zip
checkpoints (torch.save)."""
import json
import os
import struct

import numpy as np
import torch

# Bits per element of every dtype the safetensors format defines (F4/F6 pack
# several elements per byte; a tensor's bit count must fill whole bytes).
DTYPE_BITS = {"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16,
              "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
              "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}
_NUMPY = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2", "I32": "<i4",
          "U32": "<u4", "F32": "<f4", "C64": "<c8", "F64": "<f8", "I64": "<i8", "U64": "<u8"}


def bf16_bits(a):
    """float32 -> bfloat16 bit patterns, rounded to nearest even (NaN kept NaN)."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    return np.where(nan, np.uint16(0x7FC0), rounded).astype("<u2")


def bf16_values(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).astype("<u4").view("<f4")


def round_to(dtype):
    """The float32 values a tensor holds after being stored as `dtype` (F16 or
    BF16) and read back: the reference runs on these."""
    if dtype == "F16":
        return lambda a: np.asarray(a, dtype=np.float32).astype(np.float16).astype(np.float32)
    if dtype == "BF16":
        return lambda a: bf16_values(bf16_bits(a)).reshape(np.shape(a))
    return lambda a: np.asarray(a, dtype=np.float32)


def _f8_table(exp_bits, man_bits, bias, fn):
    """Values of all 256 codes of an 8-bit float (fn: E4M3FN, no infinities,
    only S.1111.111 is NaN)."""
    vals = np.zeros(256)
    for code in range(256):
        s, e, m = code >> 7, (code >> man_bits) & ((1 << exp_bits) - 1), code & ((1 << man_bits) - 1)
        if e == (1 << exp_bits) - 1 and (not fn or m == (1 << man_bits) - 1):
            v = np.nan if (fn or m) else np.inf
        elif e == 0:
            v = m / (1 << man_bits) * 2.0 ** (1 - bias)
        else:
            v = (1 + m / (1 << man_bits)) * 2.0 ** (e - bias)
        vals[code] = -v if s else v
    return vals


F8_E4M3 = _f8_table(4, 3, 7, fn=True)
F8_E5M2 = _f8_table(5, 2, 15, fn=False)


def f8_bytes(a, table):
    """Nearest 8-bit float code for each value (ties to the lower code)."""
    finite = np.where(np.isfinite(table), table, np.inf)
    a = np.asarray(a, dtype=np.float64).reshape(-1, 1)
    return np.argmin(np.abs(a - finite[None, :]), axis=1).astype(np.uint8)


def encode(array, dtype):
    """The little-endian bytes of `array` stored as `dtype`."""
    a = np.asarray(array)
    if dtype == "BF16":
        return bf16_bits(a.astype(np.float32)).tobytes()
    if dtype in ("F8_E4M3", "F8_E5M2"):
        return f8_bytes(a, F8_E4M3 if dtype == "F8_E4M3" else F8_E5M2).tobytes()
    if dtype == "F8_E8M0":  # a power-of-two scale: the biased exponent alone (127 = 1.0)
        e = np.round(np.log2(np.maximum(np.abs(a.astype(np.float64)), 2.0 ** -127))) + 127
        return np.clip(e, 0, 254).astype(np.uint8).tobytes()
    if dtype in ("F4", "F6_E2M3", "F6_E3M2"):
        # Sub-byte kinds: any bit pattern is a valid value; packed little-end first.
        bits = DTYPE_BITS[dtype]
        codes = (np.abs(a.astype(np.float64)).reshape(-1) * 3).astype(np.int64) % (1 << bits)
        total = 0
        for i, c in enumerate(codes):
            total |= int(c) << (i * bits)
        return total.to_bytes(len(codes) * bits // 8, "little")
    return np.ascontiguousarray(a, dtype=_NUMPY[dtype]).tobytes()


def nbytes(shape, dtype):
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    assert (n * DTYPE_BITS[dtype]) % 8 == 0, (shape, dtype)
    return n * DTYPE_BITS[dtype] // 8


def write_safetensors(path, tensors, dtypes=None, metadata=None):
    """tensors: name -> array; dtypes: name -> safetensors dtype (default F32).
    Returns the file's size."""
    dtypes = dtypes or {}
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, a in tensors.items():
        dtype = dtypes.get(name, "F32")
        data = encode(a, dtype)
        shape = list(np.shape(a))
        assert len(data) == nbytes(shape, dtype), name
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return 8 + len(text) + offset


def read_safetensors(path):
    """name -> (dtype, shape, raw bytes): the self-test reads back what was written."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
            for k, v in header.items()}


def write_sharded(folder, tensors, shards, dtypes=None):
    """Hugging Face's sharded layout: model-0000i-of-0000n.safetensors plus
    model.safetensors.index.json {"metadata": {"total_size"}, "weight_map"}.
    Returns the index's path."""
    names = list(tensors)
    per = -(-len(names) // shards)
    weight_map, total = {}, 0
    for s in range(shards):
        part = names[s * per:(s + 1) * per]
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(folder, fname), {k: tensors[k] for k in part}, dtypes)
        for k in part:
            weight_map[k] = fname
            total += nbytes(list(np.shape(tensors[k])), (dtypes or {}).get(k, "F32"))
    index = os.path.join(folder, "model.safetensors.index.json")
    with open(index, "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    return index


def torch_state_dict(tensors, dtype=torch.float32):
    """name -> array as an ordered dict of torch tensors (what model.state_dict() gives)."""
    out = {}
    for k, v in tensors.items():
        a = np.asarray(v)
        t = torch.from_numpy(np.ascontiguousarray(a))
        out[k] = t.to(dtype) if t.is_floating_point() else t
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
