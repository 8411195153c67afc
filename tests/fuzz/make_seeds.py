#!/usr/bin/env python3
"""Writes tests/fuzz/seeds/<target>/: valid files of each format and the
malformed cases of the bad-inputs reference (from tests/data), so every
fuzzer starts from real structure. Needs Debian's python3-numpy and python3-pil
(and python3-torch for the checkpoint seeds)."""
import io
import json
import os
import shutil
import struct
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data")


def out(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(target, folder, suffixes):
    for base in (os.path.join(DATA, "bad", folder), os.path.join(DATA, "valid")):
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            if name.endswith(suffixes):
                with open(os.path.join(base, name), "rb") as f:
                    out(target, name, f.read())


def small_images():
    rgb = np.random.default_rng(1).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 80}), ("JPEG", {"quality": 80, "progressive": True}), ("BMP", {})):
        b = io.BytesIO()
        Image.fromarray(rgb).save(b, fmt, **kw)
        out("image", f"small_{fmt.lower()}{'_prog' if kw.get('progressive') else ''}", b.getvalue())
    b = io.BytesIO()
    Image.fromarray(rgb[:, :, 0]).save(b, "PNG")
    out("image", "small_grey.png", b.getvalue())


def safetensors_bytes(tensors):
    header, blob, off = {}, b"", 0
    for n, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blob += a.tobytes()
        off += a.nbytes
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


def tiny_vit(layout):
    D, p, rng = 8, 2, np.random.default_rng(2)
    r = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)
    if layout == "timm":
        t = {"cls_token": r(1, 1, D), "pos_embed": r(1, 5, D), "patch_embed.proj.weight": r(D, 3, p, p),
             "patch_embed.proj.bias": r(D), "norm.weight": r(D), "norm.bias": r(D)}
        for n, s in (("norm1.weight", (D,)), ("norm1.bias", (D,)), ("norm2.weight", (D,)), ("norm2.bias", (D,)),
                     ("attn.qkv.weight", (3 * D, D)), ("attn.qkv.bias", (3 * D,)), ("attn.proj.weight", (D, D)),
                     ("attn.proj.bias", (D,)), ("mlp.fc1.weight", (4 * D, D)), ("mlp.fc1.bias", (4 * D,)),
                     ("mlp.fc2.weight", (D, 4 * D)), ("mlp.fc2.bias", (D,))):
            t["blocks.0." + n] = r(*s)
        return t
    t = {"class_token": r(1, 1, D), "encoder.pos_embedding": r(1, 5, D), "conv_proj.weight": r(D, 3, p, p),
         "conv_proj.bias": r(D), "encoder.ln.weight": r(D), "encoder.ln.bias": r(D)}
    l = "encoder.layers.encoder_layer_0."
    for n, s in (("ln_1.weight", (D,)), ("ln_1.bias", (D,)), ("ln_2.weight", (D,)), ("ln_2.bias", (D,)),
                 ("self_attention.in_proj_weight", (3 * D, D)), ("self_attention.in_proj_bias", (3 * D,)),
                 ("self_attention.out_proj.weight", (D, D)), ("self_attention.out_proj.bias", (D,)),
                 ("mlp.0.weight", (4 * D, D)), ("mlp.0.bias", (4 * D,)), ("mlp.3.weight", (D, 4 * D)), ("mlp.3.bias", (D,))):
        t[l + n] = r(*s)
    return t


def words_seeds():
    """fuzz_words: byte 0 picks the loader (0 .npy, 1 .safetensors, 2 tokens),
    bytes 1 and 2 the image's size; then the file."""
    folder = os.path.join(DATA, "valid", "words")
    bad = os.path.join(DATA, "bad", "words")
    for base in (folder, bad):
        for name in sorted(os.listdir(base)):
            with open(os.path.join(base, name), "rb") as f:
                data = f.read()
            kind = 0 if name.endswith(".npy") else 1 if name.endswith(".safetensors") else 2
            out("words", ("valid_" if base == folder else "") + name, bytes([kind, 63, 63]) + data)
    a = np.random.default_rng(3).random((3, 1 + 12)).astype("<f2")
    b = io.BytesIO()
    np.save(b, a)
    out("words", "f16_wide", bytes([0, 119, 39]) + b.getvalue())
    out("words", "safetensors_cross", bytes([1, 63, 63]) + safetensors_bytes({"cross": np.ones((2, 3, 5), "<f4")}))


def captioner_seeds():
    """fuzz_captioner: config.json, NUL, model.safetensors, from the valid
    tiny captioner and every bad captioner folder."""
    for base in (os.path.join(DATA, "valid"), os.path.join(DATA, "bad", "captioner")):
        for case in sorted(os.listdir(base)):
            folder = os.path.join(base, case)
            if base.endswith("valid") and case != "captioner_tiny":
                continue
            parts = []
            for name in ("config.json", "model.safetensors"):
                path = os.path.join(folder, name)
                parts.append(open(path, "rb").read() if os.path.exists(path) else b"")
            if len(parts[0]) > 100000:
                continue  # the nesting bomb: the configs target has its own
            out("captioner", case, parts[0] + b"\0" + parts[1])


def checkpoints():
    """Whole checkpoints (the committed good and bad ones, protocols 2, 4 and 5)
    and their data.pkl alone, which fuzz_checkpoint wraps in an archive."""
    import torch
    copy("checkpoint", "checkpoints", (".pth", ".pt"))
    valid = os.path.join(DATA, "valid", "checkpoints")
    for name in sorted(os.listdir(valid)):
        if name.endswith(".pth"):
            with open(os.path.join(valid, name), "rb") as f:
                out("checkpoint", "valid_" + name, f.read())
    state = {"model": {"module.w": torch.arange(6.0).reshape(2, 3).t(), "b": torch.ones(2, dtype=torch.bfloat16),
                       "p": torch.nn.Parameter(torch.zeros(3))}, "epoch": 3}
    for protocol in (2, 4, 5):
        b = io.BytesIO()
        torch.save(state, b, pickle_protocol=protocol)
        out("checkpoint", f"protocol{protocol}.pth", b.getvalue())
    d = os.path.join(HERE, "seeds", "checkpoint")
    for name in sorted(os.listdir(d)):
        try:
            with zipfile.ZipFile(os.path.join(d, name)) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
                if pkl and z.getinfo(pkl[0]).compress_type == zipfile.ZIP_STORED:
                    out("checkpoint", "pkl_" + os.path.splitext(name)[0], z.read(pkl[0]))
        except zipfile.BadZipFile:
            pass


if __name__ == "__main__":
    shutil.rmtree(os.path.join(HERE, "seeds"), ignore_errors=True)
    copy("image", "images", (".png", ".jpg", ".bmp"))
    small_images()
    copy("npy", "npy", (".npy",))
    copy("csv", "csv", (".csv",))
    copy("safetensors", "safetensors", (".safetensors",))
    for layout in ("timm", "torchvision"):
        b = safetensors_bytes(tiny_vit(layout))
        out("safetensors", f"vit_{layout}.safetensors", b)
        out("vit", f"vit_{layout}", bytes([2]) + b)
    for name in ("vit_missing_tensor", "vit_wrong_shape"):
        with open(os.path.join(DATA, "bad", "safetensors", name + ".safetensors"), "rb") as f:
            out("vit", name, bytes([2]) + f.read())
    out("session", "minimal.json", b'{"format": "attnscope-session-1"}')
    out("session", "full.json", json.dumps({"format": "attnscope-session-1", "source": "vit", "patch": 8, "heads": 2,
                                             "temperature": 0.5, "queries": [1, 2], "colormap": "viridis",
                                             "vit_view": "rollout", "recent_files": ["a.png"]}).encode())
    checkpoints()
    out("session", "duplicate.json", b'{"format": "attnscope-session-1", "patch": 8, "patch": 9}')
    # Configs: config.json NUL open_clip_config.json NUL preprocessor_config.json.
    hf = {"model_type": "dinov2_with_registers", "hidden_size": 384, "num_attention_heads": 6, "layer_norm_eps": 1e-6,
          "hidden_act": "gelu", "num_register_tokens": 4, "image_size": 518, "patch_size": 14}
    clip = {"model_type": "clip", "vision_config": {"hidden_size": 768, "num_attention_heads": 12,
                                                    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}}
    timm = {"architecture": "vit_base_patch16_siglip_224", "pretrained_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    oc = {"model_cfg": {"quick_gelu": True, "vision_cfg": {"width": 768, "head_width": 64, "norm_kwargs": {"eps": 1e-5},
                                                            "timm_model_name": "vit_so400m_patch16_siglip_256"}},
          "preprocess_cfg": {"mean": [0.48, 0.45, 0.40], "std": [0.26, 0.26, 0.27]}}
    pre = {"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
    for name, parts in (("dinov2", (hf, {}, pre)), ("clip", (clip, oc, pre)), ("timm", (timm, {}, {}))):
        out("configs", name, b"\0".join(json.dumps(p).encode() if p else b"" for p in parts))
    out("configs", "index", json.dumps({"metadata": {"total_size": 8}, "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}).encode())
    for case in sorted(os.listdir(os.path.join(DATA, "bad", "configs"))):
        for name in os.listdir(os.path.join(DATA, "bad", "configs", case)):
            if name.endswith(".json"):
                with open(os.path.join(DATA, "bad", "configs", case, name), "rb") as f:
                    slot = {"open_clip_config.json": 1, "preprocessor_config.json": 2}.get(name, 0)
                    out("configs", case, b"\0" * slot + f.read())
    words_seeds()
    captioner_seeds()
    print("seeds:", {t: len(os.listdir(os.path.join(HERE, "seeds", t))) for t in sorted(os.listdir(os.path.join(HERE, "seeds")))})
