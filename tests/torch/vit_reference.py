#!/usr/bin/env python3
"""attnscope-cli vit against PyTorch on a tiny ViT with random weights.

The oracle is torchvision's own VisionTransformer (width 48, depth 3, 4 heads,
patch 8, 32x32 image), its attention captured from nn.MultiheadAttention.
Its weights are written as safetensors by hand (8-byte length, JSON header,
raw little-endian data) in each naming scheme: torchvision, timm and Hugging
Face (with a config.json). A functional PyTorch forward, checked against
torchvision first, then covers what torchvision cannot: a non-square image
with bicubically resampled position embeddings, register tokens, LayerScale
and the in-model temperature. All layers and heads: relative error <= 1e-4.

usage: vit_reference.py PATH/TO/attnscope-cli"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import Results, run_tests  # noqa: E402

CLI = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="attnscope-vit-")
TOL = 1e-4
results = Results("vit_reference")
seed = int(os.environ.get("ATTNSCOPE_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
D, DEPTH, HEADS, PATCH, MLP = 48, 3, 4, 8, 192


def write_safetensors(path, tensors, f64=()):
    """tensors: name -> array. Names in `f64` are stored as F64, the rest F32."""
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f8" if name in f64 else "<f4")
        header[name] = {"dtype": "F64" if name in f64 else "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def random_image(w, h):
    from PIL import Image
    pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path = os.path.join(TMP, f"img_{w}x{h}.png")
    Image.fromarray(pixels).save(path)
    x = (pixels.astype(np.float64) / 255.0 - MEAN) / STD
    return path, torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))


def run_cli(weights, image, *extra):
    out = os.path.join(TMP, "attn.npy")
    r = subprocess.run([CLI, "vit", "--weights", weights, "--image", image, "--keep-size", "--attn-out", out, *map(str, extra)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        return None
    return np.load(out)


def compare(name, ours, theirs):
    if ours is None:
        return results.check(name, False, "the CLI failed")
    if ours.shape != theirs.shape:
        return results.check(name, False, f"shape {ours.shape} vs {theirs.shape}")
    err = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    print(f"{'ok  ' if err <= TOL else 'FAIL'} {name}: relative error {err:.2e}")
    results.check(name, err <= TOL, f"relative error {err:.2e}")


def torchvision_model():
    m = torchvision.models.VisionTransformer(image_size=32, patch_size=PATCH, num_layers=DEPTH, num_heads=HEADS,
                                             hidden_dim=D, mlp_dim=MLP)
    with torch.no_grad():
        for p in m.parameters():  # every parameter random, LayerNorms and tokens included
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.5))
    m.eval()
    captured = []
    for layer in m.encoder.layers:
        attn = layer.self_attention
        orig = attn.forward

        def forward(query, key, value, need_weights=False, orig=orig, **kw):
            out, w = orig(query, key, value, need_weights=True, average_attn_weights=False, **kw)
            captured.append(w[0].detach().numpy())
            return out, w

        attn.forward = forward
    return m, captured


def layouts(sd):
    """The torchvision state dict renamed to timm and Hugging Face names."""
    tv = {k: v.numpy() for k, v in sd.items()}
    timm = {"cls_token": tv["class_token"], "pos_embed": tv["encoder.pos_embedding"],
            "patch_embed.proj.weight": tv["conv_proj.weight"], "patch_embed.proj.bias": tv["conv_proj.bias"],
            "norm.weight": tv["encoder.ln.weight"], "norm.bias": tv["encoder.ln.bias"]}
    hf = {"vit.embeddings.cls_token": tv["class_token"], "vit.embeddings.position_embeddings": tv["encoder.pos_embedding"],
          "vit.embeddings.patch_embeddings.projection.weight": tv["conv_proj.weight"],
          "vit.embeddings.patch_embeddings.projection.bias": tv["conv_proj.bias"],
          "vit.layernorm.weight": tv["encoder.ln.weight"], "vit.layernorm.bias": tv["encoder.ln.bias"]}
    for i in range(DEPTH):
        s, b, l = f"encoder.layers.encoder_layer_{i}.", f"blocks.{i}.", f"vit.encoder.layer.{i}."
        for a, t, h in (("ln_1", "norm1", "layernorm_before"), ("ln_2", "norm2", "layernorm_after")):
            for p in ("weight", "bias"):
                timm[f"{b}{t}.{p}"] = tv[f"{s}{a}.{p}"]
                hf[f"{l}{h}.{p}"] = tv[f"{s}{a}.{p}"]
        timm[b + "attn.qkv.weight"] = tv[s + "self_attention.in_proj_weight"]
        timm[b + "attn.qkv.bias"] = tv[s + "self_attention.in_proj_bias"]
        for j, part in enumerate(("query", "key", "value")):
            hf[f"{l}attention.attention.{part}.weight"] = tv[s + "self_attention.in_proj_weight"][j * D:(j + 1) * D]
            hf[f"{l}attention.attention.{part}.bias"] = tv[s + "self_attention.in_proj_bias"][j * D:(j + 1) * D]
        for p in ("weight", "bias"):
            timm[f"{b}attn.proj.{p}"] = tv[f"{s}self_attention.out_proj.{p}"]
            hf[f"{l}attention.output.dense.{p}"] = tv[f"{s}self_attention.out_proj.{p}"]
            timm[f"{b}mlp.fc1.{p}"] = tv[f"{s}mlp.0.{p}"]
            hf[f"{l}intermediate.dense.{p}"] = tv[f"{s}mlp.0.{p}"]
            timm[f"{b}mlp.fc2.{p}"] = tv[f"{s}mlp.3.{p}"]
            hf[f"{l}output.dense.{p}"] = tv[f"{s}mlp.3.{p}"]
    return tv, timm, hf


def reference_forward(w, x, temperature=1.0, registers=None, ls=None):
    """timm-style ViT in plain torch ops on timm-named weights; returns [L, H, N, N]
    with tokens ordered class, patches, registers."""
    t = lambda n: torch.from_numpy(np.asarray(w[n], dtype=np.float32))
    p = F.conv2d(x, t("patch_embed.proj.weight"), t("patch_embed.proj.bias"), stride=PATCH)  # [1, D, gh, gw]
    gh, gw = p.shape[2:]
    p = p.flatten(2).transpose(1, 2)
    pos = t("pos_embed")
    side = int(round((pos.shape[1] - 1) ** 0.5))
    grid = pos[:, 1:].reshape(1, side, side, D).permute(0, 3, 1, 2)
    if (gh, gw) != (side, side):
        grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
    p = p + grid.permute(0, 2, 3, 1).reshape(1, gh * gw, D)
    tokens = [t("cls_token") + pos[:, :1], p]
    if registers is not None:
        tokens.append(torch.from_numpy(registers))
    h = torch.cat(tokens, 1)
    maps = []
    for i in range(DEPTH):
        b = f"blocks.{i}."
        y = F.layer_norm(h, (D,), t(b + "norm1.weight"), t(b + "norm1.bias"), 1e-6)
        q, k, v = F.linear(y, t(b + "attn.qkv.weight"), t(b + "attn.qkv.bias")).reshape(1, -1, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) * (D // HEADS) ** -0.5 / temperature, -1)
        maps.append(a[0].numpy())
        o = F.linear((a @ v).transpose(1, 2).reshape(1, -1, D), t(b + "attn.proj.weight"), t(b + "attn.proj.bias"))
        h = h + (o * torch.from_numpy(ls[i][0]) if ls else o)
        y = F.layer_norm(h, (D,), t(b + "norm2.weight"), t(b + "norm2.bias"), 1e-6)
        o = F.linear(F.gelu(F.linear(y, t(b + "mlp.fc1.weight"), t(b + "mlp.fc1.bias"))), t(b + "mlp.fc2.weight"), t(b + "mlp.fc2.bias"))
        h = h + (o * torch.from_numpy(ls[i][1]) if ls else o)
    return np.stack(maps)


def test_three_layouts_against_torchvision():
    model, captured = torchvision_model()
    image, x = random_image(32, 32)
    with torch.no_grad():
        model(x)
    expect = np.stack(captured)  # [L, H, N, N]
    tv, timm, hf = layouts(model.state_dict())
    for name, tensors in (("torchvision", tv), ("timm", timm), ("huggingface", hf)):
        folder = os.path.join(TMP, name)
        os.makedirs(folder)
        path = os.path.join(folder, "model.safetensors")
        # Half the torchvision tensors in F64: the reader converts dtypes.
        write_safetensors(path, tensors, f64=set(list(tensors)[::2]) if name == "torchvision" else ())
        extra = ["--heads", HEADS]
        if name == "huggingface":
            json.dump({"hidden_size": D, "num_attention_heads": HEADS, "layer_norm_eps": 1e-6, "patch_size": PATCH},
                      open(os.path.join(folder, "config.json"), "w"))
            extra = []  # the head count comes from config.json
        compare(f"{name} layout vs torchvision.models.VisionTransformer", run_cli(path, image, *extra), expect)
    # The functional reference agrees with torchvision, so it can serve below.
    compare("functional reference vs torchvision", reference_forward(timm, x), expect)


def test_non_square_registers_layerscale_temperature():
    model, _ = torchvision_model()
    _, timm, _ = layouts(model.state_dict())
    registers = (rng.standard_normal((1, 2, D)) * 0.5).astype(np.float32)
    ls = [tuple((rng.random(D) * 0.5 + 0.5).astype(np.float32) for _ in range(2)) for _ in range(DEPTH)]
    tensors = dict(timm, reg_token=registers)
    for i in range(DEPTH):
        tensors[f"blocks.{i}.ls1.gamma"], tensors[f"blocks.{i}.ls2.gamma"] = ls[i]
    path = os.path.join(TMP, "timm_reg.safetensors")
    write_safetensors(path, tensors)
    for (w, h), temperature in (((40, 24), 1.0), ((56, 16), 0.5), ((32, 32), 2.0)):
        image, x = random_image(w, h)
        expect = reference_forward(timm, x, temperature, registers[0][None], ls)
        compare(f"{w}x{h} image (position embeddings resampled), 2 registers, LayerScale, model T={temperature}",
                run_cli(path, image, "--heads", HEADS, "--temperature", temperature), expect)


if __name__ == "__main__":
    print(f"seed {seed} (ATTNSCOPE_TEST_SEED={seed} replays), torch {torch.__version__}, torchvision {torchvision.__version__}")
    torch.set_num_threads(1)
    run_tests(globals(), results, TMP)
