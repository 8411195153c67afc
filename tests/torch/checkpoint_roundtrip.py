#!/usr/bin/env python3
"""PyTorch checkpoints made fresh by torch.save, read back by attnscope's
reader (through tests/torch/checkpoint_dump) to exactly the same tensors.

Usage: checkpoint_roundtrip.py CHECKPOINT_DUMP [--seed N]

Random state dicts of every dtype PyTorch can save (float32/64/16,
bfloat16, int64/32/16/8, uint8, bool, complex64), shapes from 0-d and empty
to 4-d, views that are not contiguous (transposes, steps, offsets, stride-0
expands, overlapping as_strided), storages shared between tensors,
Parameters, module state dicts (an OrderedDict with _metadata), nested
training checkpoints (model + optimizer + argparse.Namespace; DINO's
teacher/student with module./backbone. prefixes), pickle protocols 2, 4 and
5. Every element's bytes must match, and for dtypes that convert, the
float32 values must equal PyTorch's own .float(). Whole pickled models,
legacy (pre-1.6) files and TorchScript archives must be refused with their
message. Needs Debian's python3-torch; the seed is printed so a failure can
be replayed."""
import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile

import torch

DTYPES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.complex64: "C64",
}
SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4), (1, 1, 5), (4, 0, 3), (2, 1, 3, 2)]


def random_tensor(rng, dtype, shape):
    g = torch.Generator().manual_seed(rng.getrandbits(62))
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    if dtype.is_floating_point or dtype.is_complex:
        t = (torch.randn(shape, generator=g, dtype=torch.float64) * 10 ** rng.uniform(-3, 3)).to(dtype)
        if dtype.is_complex:
            t = t + 1j * torch.randn(shape, generator=g).to(dtype)
        elif t.numel() >= 4:  # the special values too
            flat = t.view(-1)
            flat[0], flat[1], flat[2], flat[3] = float("inf"), float("-inf"), float("nan"), -0.0
        return t
    info = torch.iinfo(dtype)
    return torch.randint(info.min, info.max, shape, generator=g, dtype=dtype)


def views(rng, dtype):
    """Non-contiguous tensors and the base they share a storage with."""
    base = random_tensor(rng, dtype, (6, 5))
    return {
        "base": base,
        "transposed": base.t(),
        "stepped": base[::2, 1::2],
        "offset_row": base[3],
        "narrowed": base.narrow(1, 2, 3),
        "expanded": base[1:2, 3:4].expand(4, 3),
        "overlapping": torch.as_strided(base, (3, 3), (1, 1), 7),
        "permuted": random_tensor(rng, dtype, (2, 3, 4, 5)).permute(2, 0, 3, 1),
        "diagonal": base.diagonal(),
    }


def random_state_dict(rng, prefix=""):
    sd = collections.OrderedDict()
    for dtype in DTYPES:
        for shape in rng.sample(SHAPES, 3):
            sd[f"{prefix}{str(dtype)[6:]}.{len(sd)}"] = random_tensor(rng, dtype, shape)
        for name, t in views(rng, dtype).items():
            sd[f"{prefix}{str(dtype)[6:]}.{name}"] = t
    sd[f"{prefix}large"] = random_tensor(rng, torch.float32, (300, 1000))
    return sd


def cases(rng):
    """(name, object to save, save kwargs, checkpoint key, expected {name: tensor} and key, or refusal words)."""
    sd = random_state_dict(rng)
    yield "flat", sd, {}, None, (sd, None)
    for protocol in (4, 5):
        yield f"protocol{protocol}", sd, {"pickle_protocol": protocol}, None, (sd, None)

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()  # the optimizer's state now holds tensors too
    msd = model.state_dict()  # an OrderedDict with _metadata
    yield "module_state_dict", msd, {}, None, (msd, None)
    training = {"model": msd, "optimizer": opt.state_dict(), "epoch": 5,
                "args": argparse.Namespace(lr=0.1, arch="vit_small"), "best": 0.5}
    yield "training_checkpoint", training, {}, None, (msd, "model")

    params = {"w": torch.nn.Parameter(random_tensor(rng, torch.float32, (3, 2))),
              "frozen": torch.nn.Parameter(random_tensor(rng, torch.float16, (4,)), requires_grad=False)}
    yield "parameters", params, {}, None, (params, None)

    student = {f"module.backbone.blocks.{i}.w": random_tensor(rng, torch.float32, (2, 2)) for i in range(3)}
    student["module.head.w"] = random_tensor(rng, torch.float32, (2,))
    teacher = {k.replace("module.", ""): v.clone() + 1 for k, v in student.items()}
    dino = {"student": student, "teacher": teacher, "epoch": 100, "args": argparse.Namespace(arch="vit_small"),
            "dino_loss": {"center": torch.zeros(1, 8)}}
    strip = lambda d: {k.replace("module.", "").replace("backbone.", ""): v for k, v in d.items()}
    yield "dino_teacher", dino, {}, None, (strip(teacher), "teacher")
    yield "dino_student", dino, {}, "student", (strip(student), "student")

    nested = {"encoder": {"layer": {"w": random_tensor(rng, torch.bfloat16, (2, 3))}, "b": torch.tensor(1.5)},
              "note": "kept out", "sizes": (1, (2, 3))}
    yield "nested", nested, {}, None, ({"encoder.layer.w": nested["encoder"]["layer"]["w"],
                                        "encoder.b": nested["encoder"]["b"]}, None)

    yield "whole_model", model, {}, None, "a whole pickled model?"
    yield "legacy", sd, {"_use_new_zipfile_serialization": False}, None, "legacy format of torch.save"
    yield "torchscript", None, {}, None, "a TorchScript archive"


def logical_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what matter
    return t.numpy().tobytes().hex()


def check(dump, path, key, expected, failures, case):
    cmd = [dump, path] + ([key] if key else [])
    run = subprocess.run(cmd, capture_output=True, text=True)
    if isinstance(expected, str):
        if run.returncode != 3 or expected not in run.stderr or path not in run.stderr:
            failures.append(f"{case}: expected exit 3 and {expected!r}, got {run.returncode}: {run.stderr.strip()}")
        return
    if run.returncode != 0:
        failures.append(f"{case}: refused: {run.stderr.strip()}")
        return
    got = json.loads(run.stdout)
    tensors, want_key = expected
    if got["metadata"].get("checkpoint_key") != want_key:
        failures.append(f"{case}: checkpoint_key {got['metadata'].get('checkpoint_key')!r}, expected {want_key!r}")
    if set(got["tensors"]) != set(tensors):
        failures.append(f"{case}: names differ: extra {sorted(set(got['tensors']) - set(tensors))[:5]}, "
                        f"missing {sorted(set(tensors) - set(got['tensors']))[:5]}")
    for name in sorted(set(got["tensors"]) & set(tensors)):
        t, g = tensors[name].detach(), got["tensors"][name]
        problems = []
        if g["dtype"] != DTYPES[t.dtype]:
            problems.append(f"dtype {g['dtype']}, expected {DTYPES[t.dtype]}")
        if g["shape"] != list(t.shape):
            problems.append(f"shape {g['shape']}, expected {list(t.shape)}")
        if g["bytes"] != logical_bytes(t):
            problems.append("element bytes differ")
        if not t.is_complex() and g.get("float") != logical_bytes(t.float()):
            problems.append("float32 values differ from PyTorch's .float()")
        if problems:
            failures.append(f"{case}: {name}: " + "; ".join(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", help="path of the checkpoint_dump tool")
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    args = parser.parse_args()
    print(f"seed {args.seed} (rerun with --seed {args.seed})")
    rng = random.Random(args.seed)
    failures, count = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for case, obj, kwargs, key, expected in cases(rng):
            path = os.path.join(tmp, case + ".pth")
            if case == "torchscript":
                torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
            else:
                torch.save(obj, path, **kwargs)
            check(args.dump, path, key, expected, failures, case)
            count += 1
    for f in failures:
        print("FAIL", f)
    print(f"{count} checkpoints, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
