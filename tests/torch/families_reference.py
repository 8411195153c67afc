#!/usr/bin/env python3
"""attnscope-cli vit on the backbones practitioners inspect, against PyTorch.

For DINOv2 (original and Hugging Face names, registers, SwiGLU, training
checkpoints), CLIP (OpenAI, open_clip, Hugging Face, sharded), SigLIP
(Hugging Face with its probe, timm/open_clip with attn_pool) and DeiT
(timm, .pth, Hugging Face), a tiny model with random weights is written the
way its project publishes it (safetensors bytes, torch.save zips, config
files beside them), attnscope-cli runs it, and every layer's and head's
attention (and the pooling probe's, and every token's norm at each layer's
input) must match a functional PyTorch
reference (families_models.py) to a relative error of 1e-4
(max |a - b| / max |b| per layer and head). Images: square at the trained
grid, non-square, and other grid sizes (position embeddings resampled as
each implementation does; see FAMILIES.md). The references themselves are
first checked against torchvision, nn.TransformerEncoderLayer,
nn.MultiheadAttention and F.interpolate (families_selftest.py).

The CLI contract this script pins down:
  attnscope-cli vit --weights FILE [--checkpoint-key K] --image IMG --keep-size [--heads H]
      [--mean R,G,B --std R,G,B] --attn-out A.npy --norms-out T.npy [--pool-attn-out P.npy]
A.npy float32 [L, H, N, N] in the order class, distillation, patches
(row-major), registers; P.npy float32 [H, N] and T.npy float32 [L + 1, N]
(norms at each block's input, the last after the last block) in the same order.

usage: families_reference.py PATH/TO/attnscope-cli [--skip-unsupported] [--only TEXT]
       families_reference.py --self-test
A case whose options the CLI rejects (exit code 2) is skipped with the
command and the CLI's message; --skip-unsupported also skips cases the CLI
refuses as bad input (exit code 3), for while the loaders are being written.
families_mock_cli.py in place of the CLI (a Python model of the loaders,
about 6 minutes) passes every case: the files carry what the contract needs.
ATTNSCOPE_TEST_SEED=N replays a run."""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import families_io as fio  # noqa: E402
import families_names as names  # noqa: E402
import families_selftest  # noqa: E402
from families_models import Arch, forward, map_arrays, random_weights, swiglu_hidden  # noqa: E402
from harness import Results, run_tests  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("cli", nargs="?", help="path to attnscope-cli")
parser.add_argument("--self-test", action="store_true", help="only check the references against PyTorch (no CLI)")
parser.add_argument("--skip-unsupported", action="store_true", help="skip, not fail, cases the CLI refuses (exit 3)")
parser.add_argument("--only", metavar="TEXT", help="run only the cases whose name contains TEXT (case-insensitive)")
ARGS = parser.parse_args()
if not ARGS.self_test and not ARGS.cli:
    parser.error("give the path to attnscope-cli, or --self-test")
CLI = os.path.abspath(ARGS.cli) if ARGS.cli else None
TMP = tempfile.mkdtemp(prefix="attnscope-families-")
TOL = 1e-4
results = Results("families_reference")
skipped = []
seed = int(os.environ.get("ATTNSCOPE_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
torch.manual_seed(seed)
rng = np.random.default_rng(seed)

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
OPENAI = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
UNUSUAL = ((0.3, 0.5, 0.7), (0.2, 0.3, 0.4))  # in config files, to see that they are read
# Every model: patch 8 on a 4x4 grid (trained on 32x32). Images (width, height):
# the trained grid, non-square 5x3, a larger square 6x6, and 2 wide by 3 high.
IMAGES = ((32, 32), (40, 24), (48, 48), (16, 24))
_images = {}


def image(w, h):
    """A random PNG, written once per size; returns its path and pixels."""
    if (w, h) not in _images:
        from PIL import Image
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        path = os.path.join(TMP, f"img_{w}x{h}.png")
        Image.fromarray(pixels).save(path)
        _images[w, h] = (path, pixels)
    return _images[w, h]


def normalised(pixels, norm):
    mean, std = (np.asarray(v, dtype=np.float64) for v in norm)
    x = (pixels.astype(np.float64) / 255.0 - mean) / std
    return torch.from_numpy(x.transpose(2, 0, 1)[None].copy())


def folder(name):
    path = os.path.join(TMP, name.replace(" ", "_").replace("/", "_"))
    os.makedirs(path, exist_ok=True)
    return path


def triple(v):
    return ",".join(repr(float(x)) for x in v)


def run_cli(case, weights, img, extra, pool):
    """Runs the CLI; returns (A, P) or None after reporting a skip or failure."""
    out_a, out_p, out_n = (os.path.join(TMP, f) for f in ("attn.npy", "pool.npy", "norms.npy"))
    for p in (out_a, out_p, out_n):
        if os.path.exists(p):
            os.remove(p)
    cmd = [CLI, "vit", "--weights", weights, "--image", img, "--keep-size", "--attn-out", out_a, "--norms-out", out_n,
           *map(str, extra)]
    if pool:
        cmd += ["--pool-attn-out", out_p]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        skip = r.returncode == 2 or (ARGS.skip_unsupported and r.returncode == 3)
        if skip:
            print(f"SKIP {case}: attnscope-cli exited {r.returncode}")
            skipped.append(case)
        else:
            results.check(case, False, f"attnscope-cli exited {r.returncode}")
        print(f"     command: {shlex.join(cmd)}\n     stderr: {r.stderr.strip()}")
        return None
    return np.load(out_a), (np.load(out_p) if pool else None), np.load(out_n)


def compare(label, got, want, matrix_dims):
    """Relative error per layer and head (the last matrix_dims axes form one tensor)."""
    if got.dtype != np.float32 or got.shape != want.shape:
        return results.check(label, False, f"got {got.dtype} {got.shape}, want float32 {want.shape}")
    if not np.isfinite(got).all():
        return results.check(label, False, "non-finite values")
    worst, where = 0.0, None
    for idx in np.ndindex(want.shape[:want.ndim - matrix_dims]):
        err = float(np.abs(got[idx].astype(np.float64) - want[idx]).max() / np.abs(want[idx]).max())
        if err >= worst:
            worst, where = err, idx
    if worst <= TOL:
        print(f"ok   {label}: relative error {worst:.1e}")
    results.check(label, worst <= TOL, f"relative error {worst:.2e} at {'(layer, head)' if matrix_dims == 2 else 'head'} "
                                       f"{where if matrix_dims == 2 else where[0]}")


def run_case(case, weights, arch, w, args=(), norm=IMAGENET, pass_norm=True, images=IMAGES, pool=False):
    """One model file against the reference on each image."""
    if ARGS.only and ARGS.only.lower() not in case.lower():
        return
    for size in images:
        path, pixels = image(*size)
        norms = []
        A, P = forward(w, arch, normalised(pixels, norm), norms=norms)
        extra = list(args) + (["--mean", triple(norm[0]), "--std", triple(norm[1])] if pass_norm else [])
        label = f"{case}, {size[0]}x{size[1]}" + ("" if pass_norm else " (normalisation from defaults)")
        got = run_cli(label, weights, path, extra, pool)
        if got is None:  # the other images would meet the same refusal
            return
        compare(label, got[0], A, 2)
        if pool:
            compare(label + ", probe", got[1], P, 1)
        compare(label + ", token norms", got[2], np.stack(norms), 1)


def save_pth(path, obj):
    torch.save(obj, path)
    return path


# ---------------------------------------------------------------- DINOv2

def dinov2_arch(**kw):
    base = dict(act="gelu", eps=1e-6, layerscale=True, resample="offset")
    base.update(kw)
    return Arch(48, 3, 4, 8, 4, 192, **base)


def test_dinov2_original():
    """facebookresearch/dinov2 names in a torch.save(state_dict) .pth. No
    registers: scale factor (G + 0.1) / G; registers: size + antialias."""
    for regs in (0, 4):
        arch = dinov2_arch(registers=regs, resample="size_aa" if regs else "offset")
        w = random_weights(arch, rng)
        path = save_pth(os.path.join(folder(f"dinov2_{regs}"), "dinov2_vits8.pth"),
                        fio.torch_state_dict(names.dinov2_original(w, arch)))
        run_case(f"DINOv2 original names, {regs} registers, .pth", path, arch, w, ["--heads", 4])
    # ViT-g's SwiGLU FFN: mlp.w12 [2h, D], mlp.w3 [D, h], h = 2/3 of 4D rounded up to 8 (40 -> 112)
    arch = Arch(40, 2, 4, 8, 4, swiglu_hidden(40), eps=1e-6, layerscale=True, swiglu=True, resample="offset")
    w = random_weights(arch, rng)
    path = save_pth(os.path.join(folder("dinov2_swiglu"), "dinov2_vitg8.pth"),
                    fio.torch_state_dict(names.dinov2_original(w, arch)))
    run_case("DINOv2 original names, SwiGLU (mlp.w12/w3, hidden 112), .pth", path, arch, w, ["--heads", 4])


def test_dinov2_training_checkpoints():
    """Checkpoints as training writes them: teacher/student under their keys
    with backbone./module. prefixes, chunked blocks (blocks.{chunk}.{i}), heads,
    an argparse.Namespace and other entries; and {"model": ...}."""
    arch = dinov2_arch(registers=0)
    teacher, student = random_weights(arch, rng), random_weights(arch, rng)
    head = {"dino_head.mlp.0.weight": np.ones((16, 48), np.float32), "dino_head.mlp.0.bias": np.zeros(16, np.float32),
            "dino_head.last_layer.weight_g": np.ones((32, 1), np.float32),
            "dino_head.last_layer.weight_v": np.ones((32, 16), np.float32)}

    def prefixed(w, prefix):
        sd = {prefix + "backbone." + k: v for k, v in names.dinov2_original(w, arch, chunks=3).items()}
        sd.update({prefix + k: v for k, v in head.items()})
        return fio.torch_state_dict(sd)

    ckpt = {"student": prefixed(student, "module."), "teacher": prefixed(teacher, ""),
            "optimizer": {"state": {}, "param_groups": [{"lr": 5e-4, "weight_decay": 0.04, "params": [0, 1]}]},
            "epoch": 3, "args": argparse.Namespace(arch="vit_small", patch_size=8, out_dim=32, lr=5e-4),
            "dino_loss": {"center": torch.zeros(1, 32)}}
    path = save_pth(os.path.join(folder("dino_training"), "checkpoint.pth"), ckpt)
    run_case("DINOv2 training checkpoint, teacher chosen by default", path, arch, teacher, ["--heads", 4])
    run_case("DINOv2 training checkpoint, --checkpoint-key student", path, arch, student,
             ["--heads", 4, "--checkpoint-key", "student"])
    sd = fio.torch_state_dict({"module." + k: v for k, v in names.dinov2_original(teacher, arch).items()})
    path = save_pth(os.path.join(folder("dino_model_key"), "checkpoint0003.pth"),
                    {"model": sd, "epoch": 3, "optimizer": {"state": {}, "param_groups": []}})
    run_case('DINOv2 {"model": state_dict} with module. prefix', path, arch, teacher, ["--heads", 4], images=IMAGES[:2])


def test_dinov2_huggingface():
    """transformers Dinov2Model (size, no antialias) and Dinov2WithRegistersModel
    (size + antialias) as model.safetensors + config.json; SwiGLU (weights_in/out);
    the dinov2. prefix of Dinov2ForImageClassification."""
    for regs, swiglu in ((0, False), (4, False), (0, True)):
        arch = dinov2_arch(registers=regs, resample="size_aa" if regs else "size")
        if swiglu:
            arch = arch.copy(swiglu=True, mlp=swiglu_hidden(48), eps=1e-5)
        w = random_weights(arch, rng)
        d = folder(f"hf_dinov2_{regs}_{swiglu}")
        fio.write_safetensors(os.path.join(d, "model.safetensors"), names.dinov2_hf(w, arch), metadata={"format": "pt"})
        fio.write_json(os.path.join(d, "config.json"), names.dinov2_hf_config(arch))
        what = "Dinov2WithRegistersModel, 4 registers" if regs else "Dinov2Model" + (", SwiGLU, eps 1e-5" if swiglu else "")
        run_case(f"Hugging Face {what}", os.path.join(d, "model.safetensors"), arch, w)
    arch = dinov2_arch(resample="size", eps=1e-12)  # older Dinov2 configs said 1e-12
    w = random_weights(arch, rng)
    d = folder("hf_dinov2_cls")
    t = names.dinov2_hf(w, arch, prefix="dinov2.")
    del t["dinov2.embeddings.mask_token"]  # use_mask_token: false
    t["classifier.weight"], t["classifier.bias"] = np.ones((10, 96), np.float32), np.zeros(10, np.float32)
    fio.write_safetensors(os.path.join(d, "model.safetensors"), t)
    cfg = dict(names.dinov2_hf_config(arch), architectures=["Dinov2ForImageClassification"], use_mask_token=False)
    fio.write_json(os.path.join(d, "config.json"), cfg)
    fio.write_json(os.path.join(d, "preprocessor_config.json"),
                   names.preprocessor_config(*UNUSUAL, processor="BitImageProcessor"))
    run_case("Hugging Face Dinov2ForImageClassification (dinov2. prefix, no mask_token, eps 1e-12)",
             os.path.join(d, "model.safetensors"), arch, w, norm=UNUSUAL, pass_norm=False, images=IMAGES[1:3])


# ---------------------------------------------------------------- CLIP

def test_clip_openai():
    """OpenAI's state dict (.pt): heads = width / 64, QuickGELU, eps 1e-5,
    ln_pre; text tower, logit_scale and the 0-d ints of the JIT archive
    beside it. Resampled as open_clip does (size + antialias)."""
    arch = Arch(128, 2, 2, 8, 4, 512, act="quick_gelu", eps=1e-5, pre_norm=True, patch_bias=False,
                resample="size_aa")
    w = random_weights(arch, rng)
    sd = names.openai_text()
    sd.update(names.openai_visual(w, arch))
    t = fio.torch_state_dict(sd)
    for k in ("input_resolution", "context_length", "vocab_size"):
        t[k] = torch.tensor({"input_resolution": 32, "context_length": 8, "vocab_size": 20}[k])
    path = save_pth(os.path.join(folder("openai_clip"), "ViT-T-8.pt"), t)
    run_case("OpenAI CLIP .pt (heads = width / 64)", path, arch, w, norm=OPENAI)
    run_case("OpenAI CLIP .pt, CLIP's normalisation by default", path, arch, w, norm=OPENAI, pass_norm=False,
             images=IMAGES[1:2])


def test_open_clip():
    """open_clip_model.safetensors / open_clip_pytorch_model.bin beside
    open_clip_config.json: heads = width / head_width, quick_gelu decides the
    activation, norm_kwargs.eps the LayerNorms, preprocess_cfg the normalisation."""
    for ls, quick in ((False, False), (True, True)):
        eps = 1e-6 if ls else 1e-5
        arch = Arch(64, 2, 4, 8, 4, 256, act="quick_gelu" if quick else "gelu", eps=eps, pre_norm=True,
                    patch_bias=False, layerscale=ls, resample="size_aa")
        w = random_weights(arch, rng)
        d = folder(f"open_clip_{ls}")
        sd = names.openai_text()
        sd.update(names.openai_visual(w, arch))
        fio.write_json(os.path.join(d, "open_clip_config.json"),
                       names.open_clip_config(arch, quick, *UNUSUAL, head_width=16, ls=1e-5 if ls else None,
                                              eps=eps if ls else None))
        what = "LayerScale, QuickGELU, norm_kwargs eps 1e-6" if ls else "GELU"
        fio.write_safetensors(os.path.join(d, "open_clip_model.safetensors"), sd)
        run_case(f"open_clip safetensors, {what}, preprocess_cfg normalisation",
                 os.path.join(d, "open_clip_model.safetensors"), arch, w, norm=UNUSUAL, pass_norm=False)
        if ls:
            path = save_pth(os.path.join(folder("open_clip_bin"), "open_clip_pytorch_model.bin"),
                            fio.torch_state_dict(sd))
            fio.write_json(os.path.join(folder("open_clip_bin"), "open_clip_config.json"),
                           names.open_clip_config(arch, quick, *OPENAI, head_width=16, ls=1e-5, eps=eps))
            run_case(f"open_clip .bin, {what}", path, arch, w, norm=IMAGENET, images=IMAGES[1:3])


def test_clip_huggingface():
    """CLIPVisionModel (flat config.json, position_ids buffer), CLIPModel
    (nested vision_config, text tower, hidden_act from the config), the same
    split into two shards with model.safetensors.index.json, and a
    pytorch_model.bin. Resampled at an explicit size, no antialias."""
    arch = Arch(48, 2, 3, 8, 4, 96, act="quick_gelu", eps=1e-5, pre_norm=True, patch_bias=False, resample="size")
    w = random_weights(arch, rng)
    d = folder("hf_clip_vision")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.hf_clip_vision(w, arch))
    fio.write_json(os.path.join(d, "config.json"), dict(names.hf_clip_vision_config(arch), model_type="clip_vision_model",
                                                        architectures=["CLIPVisionModel"]))
    run_case("Hugging Face CLIPVisionModel, flat config.json", os.path.join(d, "model.safetensors"), arch, w, norm=OPENAI)

    arch = arch.copy(act="gelu")  # the vision_config's hidden_act decides
    w = random_weights(arch, rng)
    t = names.hf_text(arch.width)
    t.update(names.hf_clip_vision(w, arch, position_ids=False))
    cfg = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 32, "logit_scale_init_value": 2.6592,
           "text_config": names.hf_text_config(), "vision_config": names.hf_clip_vision_config(arch, act="gelu")}
    d = folder("hf_clip_model")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), t)
    fio.write_json(os.path.join(d, "config.json"), cfg)
    fio.write_json(os.path.join(d, "preprocessor_config.json"), names.preprocessor_config(*UNUSUAL))
    run_case("Hugging Face CLIPModel, nested vision_config (gelu), preprocessor_config normalisation",
             os.path.join(d, "model.safetensors"), arch, w, norm=UNUSUAL, pass_norm=False)
    d = folder("hf_clip_sharded")
    index = fio.write_sharded(d, t, 2)
    fio.write_json(os.path.join(d, "config.json"), cfg)
    run_case("Hugging Face CLIPModel in 2 shards (model.safetensors.index.json)", index, arch, w, norm=OPENAI,
             images=IMAGES[1:3])
    d = folder("hf_clip_bin")
    path = save_pth(os.path.join(d, "pytorch_model.bin"), fio.torch_state_dict(t))
    fio.write_json(os.path.join(d, "config.json"), cfg)
    run_case("Hugging Face CLIPModel as pytorch_model.bin", path, arch, w, norm=OPENAI, images=IMAGES[1:2])


# ---------------------------------------------------------------- SigLIP

def siglip_arch(mlp=120, **kw):
    base = dict(act="gelu_tanh", eps=1e-6, cls=False, probe=True, resample="size")
    base.update(kw)
    return Arch(48, 2, 4, 8, 4, mlp, **base)


def test_siglip_huggingface():
    """SiglipVisionModel / SiglipModel: no class token, patch bias, tanh GELU,
    post_layernorm on every token, the head's probe over them (P.npy)."""
    arch = siglip_arch()
    w = random_weights(arch, rng)
    d = folder("hf_siglip_vision")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.hf_siglip_vision(w, arch))
    fio.write_json(os.path.join(d, "config.json"), dict(names.hf_siglip_vision_config(arch),
                                                        model_type="siglip_vision_model",
                                                        architectures=["SiglipVisionModel"]))
    run_case("Hugging Face SiglipVisionModel with its probe", os.path.join(d, "model.safetensors"), arch, w,
             norm=HALF, pool=True)
    run_case("Hugging Face SiglipVisionModel, SigLIP's normalisation by default", os.path.join(d, "model.safetensors"),
             arch, w, norm=HALF, pass_norm=False, images=IMAGES[1:2], pool=True)

    w = random_weights(arch, rng)
    t = names.hf_text(arch.width, siglip=True)
    t.update(names.hf_siglip_vision(w, arch))
    d = folder("hf_siglip_model")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), t)
    fio.write_json(os.path.join(d, "config.json"), {
        "architectures": ["SiglipModel"], "model_type": "siglip",
        "text_config": dict(names.hf_text_config(), hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
        "vision_config": names.hf_siglip_vision_config(arch)})
    fio.write_json(os.path.join(d, "preprocessor_config.json"),
                   dict(names.preprocessor_config(*UNUSUAL, processor="SiglipImageProcessor"), do_center_crop=False))
    run_case("Hugging Face SiglipModel, nested vision_config, preprocessor_config normalisation",
             os.path.join(d, "model.safetensors"), arch, w, norm=UNUSUAL, pass_norm=False, pool=True)

    arch = siglip_arch(probe=False)  # vision_use_head: false (towers of vision-language models)
    w = random_weights(arch, rng)
    d = folder("hf_siglip_nohead")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.hf_siglip_vision(w, arch, head=False))
    fio.write_json(os.path.join(d, "config.json"), dict(names.hf_siglip_vision_config(arch, use_head=False),
                                                        model_type="siglip_vision_model"))
    run_case("Hugging Face SiglipVisionModel without a head", os.path.join(d, "model.safetensors"), arch, w,
             norm=HALF, images=IMAGES[:2])


def test_siglip_timm():
    """timm's SigLIP (global_pool='map'): attn_pool.latent/q/kv, scale head_dim^-0.5,
    timm's resampling (size + antialias). Bare timm names with timm's config.json,
    and open_clip's visual.trunk. names beside open_clip_config.json. timm runs
    exact GELU for the original SigLIP names and tanh GELU for some (listed in
    FAMILIES.md), chosen by the timm model name."""
    arch = siglip_arch(act="gelu", resample="size_aa", mlp=192)
    w = random_weights(arch, rng)
    d = folder("timm_siglip")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.timm_vit(w, arch, classifier=0))
    fio.write_json(os.path.join(d, "config.json"), {
        "architecture": "vit_base_patch16_siglip_224", "num_classes": 0, "num_features": 48, "global_pool": "map",
        "pretrained_cfg": {"tag": "webli", "input_size": [3, 32, 32], "interpolation": "bicubic",
                           "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "num_classes": 0}})
    run_case("timm SigLIP (attn_pool), timm config.json", os.path.join(d, "model.safetensors"), arch, w,
             ["--heads", 4], norm=HALF, pool=True)
    for timm_name, act in (("vit_base_patch16_siglip_224", "gelu"), ("vit_so400m_patch16_siglip_256", "gelu_tanh")):
        a = arch.copy(act=act)
        w = random_weights(a, rng)
        sd = {"visual.trunk." + k: v for k, v in names.timm_vit(w, a, classifier=0).items()}
        sd.update(names.openai_text(prefix="text."))
        sd["logit_bias"] = np.array([-10.0], np.float32)
        d = folder(f"open_clip_siglip_{act}")
        fio.write_safetensors(os.path.join(d, "open_clip_model.safetensors"), sd)
        fio.write_json(os.path.join(d, "open_clip_config.json"),
                       names.open_clip_config(a, False, *HALF, head_width=12, timm_name=timm_name))
        run_case(f"open_clip SigLIP visual.trunk ({timm_name}: {act})", os.path.join(d, "open_clip_model.safetensors"),
                 a, w, ["--heads", 4], norm=HALF, pool=True, images=IMAGES[1:3])


# ---------------------------------------------------------------- DeiT

def test_deit():
    """DeiT distilled: class then distillation token, pos_embed [1, N+2, D].
    timm names (safetensors, and {"model": ...} .pth as facebookresearch/deit
    publishes it; timm's resampling) and Hugging Face's (eps 1e-12, size)."""
    arch = Arch(48, 3, 3, 8, 4, 192, act="gelu", eps=1e-6, dist=True, resample="size_aa")
    w = random_weights(arch, rng)
    d = folder("timm_deit")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.timm_vit(w, arch))
    run_case("timm DeiT distilled safetensors", os.path.join(d, "model.safetensors"), arch, w, ["--heads", 3])
    path = save_pth(os.path.join(d, "deit_tiny_distilled_patch8.pth"),
                    {"model": fio.torch_state_dict(names.timm_vit(w, arch))})
    run_case('DeiT distilled {"model": state_dict} .pth', path, arch, w, ["--heads", 3], images=IMAGES[1:3])
    arch = arch.copy(eps=1e-12, resample="size")
    w = random_weights(arch, rng)
    d = folder("hf_deit")
    fio.write_safetensors(os.path.join(d, "model.safetensors"), names.hf_deit(w, arch))
    fio.write_json(os.path.join(d, "config.json"), names.hf_deit_config(arch))
    run_case("Hugging Face DeiTForImageClassificationWithTeacher", os.path.join(d, "model.safetensors"), arch, w)


# ---------------------------------------------------------------- dtypes

ODD = ("F64", "F8_E4M3", "F8_E5M2", "I64", "I32", "I16", "I8", "U8", "BOOL", "F32")
NEWER = ("F8_E8M0", "C64", "U16", "U32", "U64", "F4", "F6_E2M3", "F6_E3M2")


def test_dtypes():
    """A CLIPModel whose vision tensors are F16 and BF16 (the reference runs
    on the rounded values) and whose unused tensors (text tower, projections,
    buffers, logit_scale) use every other dtype the format defines: those must
    be skipped whatever their dtype."""
    arch = Arch(48, 2, 3, 8, 4, 96, act="quick_gelu", eps=1e-5, pre_norm=True, patch_bias=False, resample="size")
    cfg = {"architectures": ["CLIPModel"], "model_type": "clip", "text_config": names.hf_text_config(),
           "vision_config": names.hf_clip_vision_config(arch)}
    for kinds, label in ((ODD, "F16/BF16 weights, unused tensors in F64, F8, ints, BOOL"),
                         (NEWER, "unused tensors in F8_E8M0, C64, U16/32/64, F4, F6")):
        w = random_weights(arch, rng)
        # Tag every canonical array with an id, export, and read back which
        # file tensor each canonical array became; then pick its dtype.
        ids = iter(range(1, 10 ** 6))
        tagged = map_arrays(w, lambda a: np.full(np.shape(a), next(ids), np.float32))
        chosen, order = {}, 0
        for name, a in names.hf_clip_vision(tagged, arch).items():
            if a.dtype == np.float32 and a.size and np.all(a == a.flat[0]) and a.flat[0] >= 1:
                chosen[int(a.flat[0])] = "F32" if kinds is NEWER else ("F16", "BF16")[order % 2]
                order += 1
        ids = iter(range(1, 10 ** 6))
        w = map_arrays(w, lambda a: fio.round_to(chosen.get(next(ids), "F32"))(a))
        t = names.hf_text(arch.width)
        t.update(names.hf_clip_vision(w, arch))
        tagged_names = names.hf_clip_vision(tagged, arch)
        dtypes, odd = {}, 0
        for name, a in t.items():
            if name in tagged_names and tagged_names[name].dtype == np.float32 and name.endswith(("weight", "bias", "embedding")):
                dtypes[name] = chosen.get(int(tagged_names[name].flat[0]), "F32")
            elif a.dtype == np.int64:
                dtypes[name] = "I64"
            else:  # the next odd dtype that packs this tensor into whole bytes
                while (max(a.size, 1) * fio.DTYPE_BITS[kinds[odd % len(kinds)]]) % 8:
                    odd += 1
                dtypes[name] = kinds[odd % len(kinds)]
                odd += 1
                if not dtypes[name].startswith(("F", "C")):
                    t[name] = (np.abs(a) * 100).astype(np.int64)
        d = folder(f"dtypes_{len(kinds)}")
        fio.write_safetensors(os.path.join(d, "model.safetensors"), t, dtypes, metadata={"format": "pt"})
        fio.write_json(os.path.join(d, "config.json"), cfg)
        run_case(f"safetensors dtypes: {label}", os.path.join(d, "model.safetensors"), arch, w, norm=OPENAI,
                 images=IMAGES[:2])


def test_zz_skipped():
    """Last: list the cases the CLI could not run."""
    if skipped:
        print(f"{len(skipped)} comparisons skipped (the CLI rejected an option"
              f"{' or the model' if ARGS.skip_unsupported else ''}):")
        for s in skipped:
            print("  " + s)


if __name__ == "__main__":
    print(f"seed {seed} (ATTNSCOPE_TEST_SEED={seed} replays), torch {torch.__version__}")
    torch.set_num_threads(1)
    self_test = {"test_self_checks": lambda: families_selftest.run(results, seed)}
    run_tests(self_test if ARGS.self_test else dict(self_test, **{k: v for k, v in globals().items()
                                                                  if k.startswith("test_")}), results, TMP)
