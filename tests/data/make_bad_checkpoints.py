#!/usr/bin/env python3
"""Writes tests/data/bad/checkpoints/ (PyTorch checkpoints attnscope's
reader must refuse with a clear message, exit code 3, never crashing, hanging
or calling anything) and tests/data/valid/checkpoints/ (small good ones whose
tensors it must read exactly; expected.json lists their values). The files
are committed; run this again only to change them (every file comes out the
same but legacy_format.pth and torchscript.pt, whose storage keys and code
archive PyTorch varies). Needs Debian's python3-torch.

A .pth/.pt/.bin checkpoint is a zip (entries stored, not compressed): DIR/data.pkl,
a pickle whose persistent ids ('storage', StorageType, key, location, numel)
name the raw little-endian storages DIR/data/KEY; DIR/version; newer PyTorch
adds DIR/byteorder. DIR is the file's stem in PyTorch 1.x, "archive" later.
Tensors are torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, hooks). The hand-made pickles below use protocol 2, as torch.save does."""
import argparse
import io
import json
import os
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad", "checkpoints")
VALID = os.path.join(HERE, "valid", "checkpoints")


class Pickle:
    """Emits pickle opcodes one by one, so that broken programs can be written."""

    def __init__(self):
        self.b = bytearray(b"\x80\x02")  # PROTO 2
        self.memo = 0

    def raw(self, data):
        self.b += data
        return self

    def put(self):  # BINPUT n (memoise the top of the stack)
        self.b += b"q" + bytes([self.memo])
        self.memo += 1
        return self

    def glob(self, module, name):  # GLOBAL
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n").put()

    def str(self, s):  # BINUNICODE
        data = s.encode()
        return self.raw(b"X" + struct.pack("<I", len(data)) + data).put()

    def int(self, n):
        if 0 <= n < 256:
            return self.raw(b"K" + bytes([n]))
        if -2 ** 31 <= n < 2 ** 31:
            return self.raw(b"J" + struct.pack("<i", n))
        data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)  # LONG1
        return self.raw(b"\x8a" + bytes([len(data)]) + data)

    def tuple_of(self, values):
        self.raw(b"(")
        for v in values:
            self.int(v)
        return self.raw(b"t").put()

    def tensor(self, key, numel, offset, size, stride, storage="FloatStorage"):
        """_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())."""
        self.glob("torch._utils", "_rebuild_tensor_v2").raw(b"(")
        self.raw(b"(").str("storage").glob("torch", storage).str(key).str("cpu").int(numel).raw(b"t").put()
        self.raw(b"Q").int(offset).tuple_of(size).tuple_of(stride).raw(b"\x89")
        self.glob("collections", "OrderedDict").raw(b")R").put()
        return self.raw(b"t").put().raw(b"R").put()

    def dict_of(self, items):
        """items: (key, callable that emits the value)."""
        self.raw(b"}").put().raw(b"(")
        for k, emit in items:
            self.str(k)
            emit(self)
        return self.raw(b"u")

    def done(self):
        return bytes(self.b + b".")


def zip_checkpoint(path, pkl, storages, folder="archive", version=b"3\n", byteorder=True,
                   compress=(), names=None):
    """A torch.save-like zip, written entry by entry (fixed timestamps, so the
    file is the same on every run). storages: key -> bytes."""
    with zipfile.ZipFile(path, "w") as z:
        def add(name, data):
            info = zipfile.ZipInfo((names or {}).get(name, f"{folder}/{name}"), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            z.writestr(info, data)
        if pkl is not None:
            add("data.pkl", pkl)
        if byteorder:
            add("byteorder", b"little")
        for key, data in storages.items():
            add(f"data/{key}", data)
        add("version", version)


def f32(*values):
    return np.asarray(values, dtype="<f4").tobytes()


def one_tensor(name="w", key="0", numel=4, offset=0, size=(2, 2), stride=(2, 1), storage="FloatStorage"):
    return Pickle().dict_of([(name, lambda p: p.tensor(key, numel, offset, size, stride, storage))]).done()


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def bad_files():
    four = {"0": f32(1, 2, 3, 4)}
    good = one_tensor()

    # empty file: "empty file" (not "not a zip" with a garbage offset)
    write(BAD, "empty.pth", b"")
    # plain text renamed .pth: "not a zip archive (no end-of-central-directory record)"
    write(BAD, "not_a_zip.pth", b"this is not a checkpoint\n" * 4)
    # a zip holding the storages and version but no data.pkl: "no data.pkl: not a PyTorch checkpoint"
    zip_checkpoint(os.path.join(BAD, "no_data_pkl.pth"), None, four)
    # a good checkpoint cut in half (central directory lost): "truncated zip"
    buf = io.BytesIO()
    torch.save({"w": torch.arange(64, dtype=torch.float32)}, buf)
    write(BAD, "truncated.pth", buf.getvalue()[:len(buf.getvalue()) // 2])
    # PyTorch < 1.6 format (magic number + pickles, no zip): "legacy torch.save format: re-save with
    # torch.save(torch.load(f), f) in PyTorch >= 1.6"
    torch.save({"w": torch.ones(2, 2)}, os.path.join(BAD, "legacy_format.pth"), _use_new_zipfile_serialization=False)
    # TorchScript archive (constants.pkl, code/): "a TorchScript model: torch.jit.load(f).state_dict(), then torch.save"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(BAD, "torchscript.pt"))
    # data.pkl names storage "1", the zip holds only "0": "storage 1 missing from the archive"
    pkl = Pickle().dict_of([("a", lambda p: p.tensor("0", 4, 0, (4,), (1,))),
                            ("b", lambda p: p.tensor("1", 4, 0, (4,), (1,)))]).done()
    zip_checkpoint(os.path.join(BAD, "missing_storage.pth"), pkl, four)
    # 2x4 floats over a 4-float storage: "tensor w needs 8 elements, its storage holds 4"
    zip_checkpoint(os.path.join(BAD, "storage_too_short.pth"), one_tensor(size=(2, 4), stride=(4, 1)), four)
    # the storage's bytes shorter than its declared numel (4 floats declared, 2 stored): "storage 0: 8 bytes, 16 expected"
    zip_checkpoint(os.path.join(BAD, "storage_bytes_short.pth"), good, {"0": f32(1, 2)})
    # offset 10 into a 4-float storage: "offset past the end of the storage"
    zip_checkpoint(os.path.join(BAD, "offset_past_end.pth"), one_tensor(offset=10, size=(2,), stride=(1,)), four)
    # size 2x2 with stride (4, 1) reaches element 5 of 4: "tensor extends past its storage"
    zip_checkpoint(os.path.join(BAD, "stride_past_end.pth"), one_tensor(stride=(4, 1)), four)
    # a negative stride: "negative stride"
    zip_checkpoint(os.path.join(BAD, "negative_stride.pth"), one_tensor(offset=2, stride=(-2, 1)), four)
    # sizes whose product overflows 64 bits: "tensor size overflows"
    zip_checkpoint(os.path.join(BAD, "size_overflow.pth"),
                   one_tensor(size=(2 ** 40, 2 ** 40), stride=(2 ** 40, 1)), four)
    # torch.QuantumStorage is no storage type: "unknown storage type torch.QuantumStorage"
    zip_checkpoint(os.path.join(BAD, "unknown_storage_type.pth"), one_tensor(storage="QuantumStorage"), four)
    # os.system("touch attnscope-pickle-was-called") beside a good tensor: never called; the tensor may
    # load (the value skipped as opaque) or the file is refused; the marker file must never appear
    def call(module, name, arg):
        return lambda p: p.glob(module, name).raw(b"(").str(arg).raw(b"t").put().raw(b"R").put()
    pkl = Pickle().dict_of([("w", lambda p: p.tensor("0", 4, 0, (2, 2), (2, 1))),
                            ("x", call("os", "system", "touch attnscope-pickle-was-called"))]).done()
    zip_checkpoint(os.path.join(BAD, "global_os_system.pth"), pkl, four)
    # builtins.eval("__import__('os').system('touch attnscope-pickle-was-called')"): same
    pkl = Pickle().dict_of([("w", lambda p: p.tensor("0", 4, 0, (2, 2), (2, 1))),
                            ("x", call("builtins", "eval",
                                       "__import__('os').system('touch attnscope-pickle-was-called')"))]).done()
    zip_checkpoint(os.path.join(BAD, "global_builtins_eval.pth"), pkl, four)
    # 1-tuples nested 100000 deep: "pickle nested too deeply" (no stack overflow, in reading or freeing it)
    zip_checkpoint(os.path.join(BAD, "nesting_bomb.pth"), Pickle().raw(b"K\x00" + b"\x85" * 100000).done(), {})
    # a list that contains itself (l = []; l.append(l)) beside a good tensor: must finish at once,
    # loading w or refusing the file; no endless recursion
    pkl = Pickle().dict_of([("w", lambda p: p.tensor("0", 4, 0, (2, 2), (2, 1))),
                            ("x", lambda p: p.raw(b"]").put().raw(b"h" + bytes([p.memo - 1]) + b"a"))]).done()
    zip_checkpoint(os.path.join(BAD, "self_reference.pth"), pkl, four)
    # 60 levels of t[i+1] = (t[i], t[i]): 2^60 leaves if copied out as a tree; must finish at once
    def dag(p):
        p.raw(b"K\x00\x85").put()
        for _ in range(60):
            p.raw(b"h" + bytes([p.memo - 1]) + b"h" + bytes([p.memo - 1]) + b"\x86").put()
    pkl = Pickle().dict_of([("w", lambda p: p.tensor("0", 4, 0, (2, 2), (2, 1))), ("x", dag)]).done()
    zip_checkpoint(os.path.join(BAD, "exponential_sharing.pth"), pkl, four)
    # 100000 MARKs: "pickle nested too deeply"
    zip_checkpoint(os.path.join(BAD, "mark_bomb.pth"), Pickle().raw(b"(" * 100000).done(), {})
    # a string declaring 4 GiB - 16 bytes in a 40-byte pickle: "string length past the end of data.pkl"
    huge = Pickle().raw(b"}(X" + struct.pack("<I", 0xFFFFFFF0) + b"w").done()
    zip_checkpoint(os.path.join(BAD, "huge_length.pth"), huge, four)
    # BINUNICODE8 declaring 2^62 bytes: the same, without a 64-bit overflow on the way
    zip_checkpoint(os.path.join(BAD, "huge_length_8.pth"),
                   Pickle().raw(b"\x8d" + struct.pack("<Q", 2 ** 62) + b"w").done(), four)
    # BINGET 7 when nothing was memoised: "memo entry 7 missing"
    zip_checkpoint(os.path.join(BAD, "memo_missing.pth"), Pickle().raw(b"}(X\x01\x00\x00\x00wh\x07u").done(), four)
    # SETITEMS with nothing on the stack: "pickle stack underflow"
    zip_checkpoint(os.path.join(BAD, "stack_underflow.pth"), Pickle().raw(b"u").done(), four)
    # no STOP opcode: "data.pkl ends before its STOP"
    zip_checkpoint(os.path.join(BAD, "no_stop.pth"), good[:-1], four)
    # INST os.system("true") ('i', an opcode outside the data subset): "unsupported pickle opcode", never called
    zip_checkpoint(os.path.join(BAD, "unknown_opcode.pth"),
                   Pickle().raw(b"(X\x04\x00\x00\x00trueios\nsystem\n").done(), four)
    # storage key "../0" (a path that climbs out): "storage key ../0 is not a plain name"
    zip_checkpoint(os.path.join(BAD, "storage_path_climbs.pth"), one_tensor(key="../0"), four)
    # the storage entry DEFLATE-compressed (torch stores them): "compressed entry"
    zip_checkpoint(os.path.join(BAD, "compressed_storage.pth"), good, {"0": f32(*range(64))[:16]},
                   compress=("data/0",))
    # a dict of numbers and strings: "no tensors in the checkpoint (keys: epoch, lr, note)"
    torch.save({"epoch": 3, "lr": 0.1, "note": "no weights here"}, os.path.join(BAD, "no_tensors.pth"))
    # two state dicts under keys the reader does not prefer (teacher, model, state_dict, model_ema, module, net,
    # network, params): "several state dicts (ema, swa): choose one with --checkpoint-key"
    torch.save({"ema": {"blocks.0.attn.qkv.weight": torch.ones(6, 2)},
                "swa": {"blocks.0.attn.qkv.weight": torch.zeros(6, 2)}}, os.path.join(BAD, "several_state_dicts.pth"))


def valid_files():
    """Good checkpoints; expected.json: file -> tensor path -> dtype, shape and
    the logical (row-major) values."""
    expected = {}

    def save(name, obj, tensors, **kw):
        torch.save(obj, os.path.join(VALID, name), **kw)
        expected[name] = {k: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                              "values": t.double().flatten().tolist() if t.dtype != torch.bool else
                              t.flatten().tolist()} for k, t in tensors.items()}

    os.makedirs(VALID, exist_ok=True)
    a = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4
    # nested dicts, a tuple, a list and plain values around the tensors
    nested = {"state": {"encoder": {"w": a, "b": torch.tensor([0.5, -1.5])}}, "shape": (3, (4, 5)),
              "tags": ["x", 1.5, None, True], "epoch": 7}
    save("nested.pth", nested, {"state.encoder.w": a, "state.encoder.b": nested["state"]["encoder"]["b"]})
    # one tensor per dtype: bf16, f16, f32, f64, int64, int32, int16, int8, uint8, bool
    dt = {str(d).replace("torch.", ""): (torch.arange(6) - 2).to(d).reshape(2, 3) / (1 if not d.is_floating_point else 4)
          for d in (torch.bfloat16, torch.float16, torch.float32, torch.float64)}
    dt.update({str(d).replace("torch.", ""): (torch.arange(6) - (0 if d == torch.uint8 else 2)).to(d).reshape(2, 3)
               for d in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)})
    dt["bool"] = torch.tensor([[True, False, True], [False, False, True]])
    save("dtypes.pth", dt, dt)
    # a transposed (non-contiguous) tensor: the storage holds a's order, strides (1, 4)
    save("transposed.pth", {"t": a.T}, {"t": a.T})
    # views: a slice with a storage offset, and three tensors sharing one storage
    base = torch.arange(10, dtype=torch.float32)
    save("view_offset.pth", {"v": base[3:7]}, {"v": base[3:7]})
    shared = {"all": base, "middle": base[2:5], "grid": base.view(2, 5), "column": base.view(2, 5)[:, 1]}
    save("shared_storage.pth", shared, shared)
    # a 0-d tensor and an empty one
    special = {"scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3)}
    save("scalar_and_empty.pth", special, special)
    # the layout of newer PyTorch: folder "archive", a byteorder entry (hand-written zip)
    pkl = Pickle().dict_of([("w", lambda p: p.tensor("0", 4, 0, (2, 2), (2, 1)))]).done()
    zip_checkpoint(os.path.join(VALID, "archive_layout.pth"), pkl, {"0": f32(1, 2, 3, 4)})
    expected["archive_layout.pth"] = {"w": {"dtype": "float32", "shape": [2, 2], "values": [1.0, 2.0, 3.0, 4.0]}}
    with open(os.path.join(VALID, "expected.json"), "w") as f:  # one line per tensor
        f.write("{\n" + ",\n".join(
            f'  {json.dumps(name)}: {{\n' + ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in ts.items())
            + "\n  }" for name, ts in expected.items()) + "\n}\n")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    os.makedirs(BAD, exist_ok=True)
    bad_files()
    valid_files()
    print(f"wrote {len(os.listdir(BAD))} files to {BAD} and {len(os.listdir(VALID))} to {VALID}")
