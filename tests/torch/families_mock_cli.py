#!/usr/bin/python3
"""A Python model of `attnscope-cli vit` for the families (not the C++): it
reads the files families_reference.py writes, decides the naming, heads,
eps, activation, resampling rule and normalisation from the files and flags
alone, as FAMILIES.md says, and writes A.npy / P.npy with the reference
forward. Running `families_reference.py families_mock_cli.py` shows that the
test's files carry everything the contract needs and that the test's own
plumbing (labels, orders, configs, probe output) works before the C++ exists.

usage: families_mock_cli.py vit --weights F [--checkpoint-key K] --image IMG --keep-size [--heads H]
           [--mean R,G,B --std R,G,B] --attn-out A.npy [--pool-attn-out P.npy]"""
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families_io as fio  # noqa: E402
from families_models import Arch, forward  # noqa: E402

OPTIONS = {"--weights", "--checkpoint-key", "--image", "--heads", "--mean", "--std", "--attn-out", "--pool-attn-out",
           "--norms-out"}
FAMILY_NORM = {"imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
               "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
               "siglip": ((0.5,) * 3, (0.5,) * 3)}
TANH_TIMM = re.compile(r"vit_(base_patch32_siglip(_gap)?_256|large_patch16_siglip(_gap)?_512|"
                       r"so400m_patch16_siglip(_gap)?_\d+|giantopt_patch16_siglip(_gap)?_\d+)$")


class Refused(Exception):
    pass


def parse(argv):
    if not argv or argv[0] != "vit":
        raise SystemExit(2)
    opts, i = {"keep-size": False}, 1
    while i < len(argv):
        if argv[i] == "--keep-size":
            opts["keep-size"] = True
            i += 1
        elif argv[i] in OPTIONS and i + 1 < len(argv):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            print(f"families_mock_cli: unknown option {argv[i]}", file=sys.stderr)
            raise SystemExit(2)
    return opts


def read_safetensors(path):
    out = {}
    for name, (dtype, shape, raw) in fio.read_safetensors(path).items():
        if dtype == "F32":
            out[name] = np.frombuffer(raw, "<f4").reshape(shape)
        elif dtype == "F16":
            out[name] = np.frombuffer(raw, "<f2").astype(np.float32).reshape(shape)
        elif dtype == "BF16":
            out[name] = fio.bf16_values(np.frombuffer(raw, "<u2")).reshape(shape)
        elif dtype == "F64":
            out[name] = np.frombuffer(raw, "<f8").astype(np.float32).reshape(shape)
        # any other dtype: a tensor the model cannot use; skipped unless needed
    return out


def pick_state_dict(obj, key):
    if all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    candidates = [k for k, v in obj.items() if isinstance(v, dict) and any(isinstance(t, torch.Tensor) for t in v.values())]
    for k in ([key] if key else ["teacher", "model", "state_dict"]):
        if k in obj and isinstance(obj[k], dict):
            return obj[k]
    raise Refused(f"no state dict chosen among {candidates}: use --checkpoint-key")


def load(path, key):
    folder = os.path.dirname(os.path.abspath(path))
    if path.endswith(".index.json"):
        index = json.load(open(path))
        tensors = {}
        for shard in sorted(set(index["weight_map"].values())):
            tensors.update(read_safetensors(os.path.join(folder, shard)))
    elif path.endswith(".safetensors"):
        tensors = read_safetensors(path)
    else:
        obj = torch.load(path, map_location="cpu")  # a model of the reader only: our own files
        sd = pick_state_dict(obj, key)
        tensors = {}
        for k, v in sd.items():
            if isinstance(v, torch.Tensor) and v.is_floating_point():
                for prefix in ("module.", "backbone."):
                    k = k[len(prefix):] if k.startswith(prefix) else k
                tensors[re.sub(r"^blocks\.\d+\.(\d+)\.", r"blocks.\1.", k)] = v.float().numpy()
    configs = {}
    for name in ("config.json", "open_clip_config.json", "preprocessor_config.json"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            configs[name] = json.load(open(p))
    return tensors, configs


def vision_config(configs):
    cfg = configs.get("config.json", {})
    return cfg.get("vision_config", cfg)


def block_weights(t, fmt, fused, names, extra=()):
    """fmt: the block prefix with {i}; names: canonical -> name suffix."""
    blocks, i = [], 0
    while fmt.format(i=i) + names["ln1_w"] in t:
        p, b = fmt.format(i=i), {}
        for c, n in names.items():
            if n in ("", None) or p + n not in t:
                continue
            b[c] = t[p + n]
        if fused:
            w, bias = t[p + fused[0]], t[p + fused[1]]
            D = w.shape[1]
            for j, c in enumerate("qkv"):
                b[c + "_w"], b[c + "_b"] = w[j * D:(j + 1) * D], bias[j * D:(j + 1) * D]
        blocks.append(b)
        i += 1
    return blocks


TIMM_BLOCK = {"ln1_w": "norm1.weight", "ln1_b": "norm1.bias", "ln2_w": "norm2.weight", "ln2_b": "norm2.bias",
              "o_w": "attn.proj.weight", "o_b": "attn.proj.bias", "fc1_w": "mlp.fc1.weight", "fc1_b": "mlp.fc1.bias",
              "fc2_w": "mlp.fc2.weight", "fc2_b": "mlp.fc2.bias", "w12_w": "mlp.w12.weight", "w12_b": "mlp.w12.bias",
              "w3_w": "mlp.w3.weight", "w3_b": "mlp.w3.bias", "ls1": "ls1.gamma", "ls2": "ls2.gamma"}
HF_CLIP_BLOCK = {"ln1_w": "layer_norm1.weight", "ln1_b": "layer_norm1.bias", "ln2_w": "layer_norm2.weight",
                 "ln2_b": "layer_norm2.bias", "q_w": "self_attn.q_proj.weight", "q_b": "self_attn.q_proj.bias",
                 "k_w": "self_attn.k_proj.weight", "k_b": "self_attn.k_proj.bias", "v_w": "self_attn.v_proj.weight",
                 "v_b": "self_attn.v_proj.bias", "o_w": "self_attn.out_proj.weight", "o_b": "self_attn.out_proj.bias",
                 "fc1_w": "mlp.fc1.weight", "fc1_b": "mlp.fc1.bias", "fc2_w": "mlp.fc2.weight", "fc2_b": "mlp.fc2.bias"}
OPENAI_BLOCK = {"ln1_w": "ln_1.weight", "ln1_b": "ln_1.bias", "ln2_w": "ln_2.weight", "ln2_b": "ln_2.bias",
                "o_w": "attn.out_proj.weight", "o_b": "attn.out_proj.bias", "fc1_w": "mlp.c_fc.weight",
                "fc1_b": "mlp.c_fc.bias", "fc2_w": "mlp.c_proj.weight", "fc2_b": "mlp.c_proj.bias",
                "ls1": "ls_1.gamma", "ls2": "ls_2.gamma"}
HF_VIT_BLOCK = {"ln1_w": "{n1}.weight", "ln1_b": "{n1}.bias", "ln2_w": "{n2}.weight", "ln2_b": "{n2}.bias",
                "q_w": "attention.attention.query.weight", "q_b": "attention.attention.query.bias",
                "k_w": "attention.attention.key.weight", "k_b": "attention.attention.key.bias",
                "v_w": "attention.attention.value.weight", "v_b": "attention.attention.value.bias",
                "o_w": "attention.output.dense.weight", "o_b": "attention.output.dense.bias"}


def hf_vit_block(dinov2):
    names = {k: v.format(n1="norm1" if dinov2 else "layernorm_before", n2="norm2" if dinov2 else "layernorm_after")
             for k, v in HF_VIT_BLOCK.items()}
    if dinov2:
        names.update({"ls1": "layer_scale1.lambda1", "ls2": "layer_scale2.lambda1", "fc1_w": "mlp.fc1.weight",
                      "fc1_b": "mlp.fc1.bias", "fc2_w": "mlp.fc2.weight", "fc2_b": "mlp.fc2.bias",
                      "w12_w": "mlp.weights_in.weight", "w12_b": "mlp.weights_in.bias",
                      "w3_w": "mlp.weights_out.weight", "w3_b": "mlp.weights_out.bias"})
    else:
        names.update({"fc1_w": "intermediate.dense.weight", "fc1_b": "intermediate.dense.bias",
                      "fc2_w": "output.dense.weight", "fc2_b": "output.dense.bias"})
    return names


def build(t, configs, heads_flag):
    """-> (canonical weights, Arch, family for the normalisation default)."""
    vc = vision_config(configs)
    oc = configs.get("open_clip_config.json", {})
    occ = oc.get("model_cfg", oc)
    w, kw = {}, {}
    if "visual.trunk.pos_embed" in t or "attn_pool.latent" in t or "dist_token" in t or "mask_token" in t:
        p = "visual.trunk." if "visual.trunk.pos_embed" in t else ""
        w["blocks"] = block_weights(t, p + "blocks.{i}.", ("attn.qkv.weight", "attn.qkv.bias"), TIMM_BLOCK)
        w["patch_w"], w["patch_b"], w["pos"] = t[p + "patch_embed.proj.weight"], t[p + "patch_embed.proj.bias"], t[p + "pos_embed"][0]
        w["norm_w"], w["norm_b"] = t[p + "norm.weight"], t[p + "norm.bias"]
        cls, dist = p + "cls_token" in t, p + "dist_token" in t
        if cls:
            w["cls"] = t[p + "cls_token"].reshape(-1)
        if dist:
            w["dist"] = t[p + "dist_token"].reshape(-1)
        if "register_tokens" in t:
            w["reg"] = t["register_tokens"][0]
        kw = dict(cls=cls, dist=dist, registers=len(w.get("reg", [])), eps=1e-6, act="gelu")
        if "mask_token" in t:  # DINOv2's own code: the hub's rule for registers / none
            kw["resample"] = "size_aa" if "register_tokens" in t else "offset"
            family = "imagenet"
        else:  # timm
            kw["resample"] = "size_aa"
            family = "siglip" if not cls else "imagenet"
            name = occ.get("vision_cfg", {}).get("timm_model_name") or configs.get("config.json", {}).get("architecture", "")
            if TANH_TIMM.match(name or ""):
                kw["act"] = "gelu_tanh"
        if p + "attn_pool.latent" in t:
            a = p + "attn_pool."
            kv_w, kv_b = t[a + "kv.weight"], t[a + "kv.bias"]
            D = kv_w.shape[1]
            w["probe"] = {"latent": t[a + "latent"].reshape(-1), "q_w": t[a + "q.weight"], "q_b": t[a + "q.bias"],
                          "k_w": kv_w[:D], "k_b": kv_b[:D], "v_w": kv_w[D:], "v_b": kv_b[D:]}
            kw["probe"] = True
        heads = int(heads_flag) if heads_flag else None
    elif "visual.conv1.weight" in t:
        w["blocks"] = block_weights(t, "visual.transformer.resblocks.{i}.", ("attn.in_proj_weight", "attn.in_proj_bias"),
                                    OPENAI_BLOCK)
        w.update(patch_w=t["visual.conv1.weight"], cls=t["visual.class_embedding"], pos=t["visual.positional_embedding"],
                 pre_w=t["visual.ln_pre.weight"], pre_b=t["visual.ln_pre.bias"])
        vcfg = occ.get("vision_cfg", {})
        D = w["cls"].shape[0]
        heads = int(heads_flag) if heads_flag else (D // vcfg.get("head_width", 64))
        kw = dict(pre_norm=True, patch_bias=False, resample="size_aa", final_norm=False,
                  eps=vcfg.get("norm_kwargs", {}).get("eps", 1e-5),
                  act="quick_gelu" if (occ.get("quick_gelu", False) or not oc) else "gelu")
        family = "clip"
    elif "vision_model.embeddings.patch_embedding.weight" in t:
        p, e = "vision_model.", "vision_model.embeddings."
        w["blocks"] = block_weights(t, p + "encoder.layers.{i}.", None, HF_CLIP_BLOCK)
        w["patch_w"], w["pos"] = t[e + "patch_embedding.weight"], t[e + "position_embedding.weight"]
        act = {"quick_gelu": "quick_gelu", "gelu": "gelu", "gelu_pytorch_tanh": "gelu_tanh"}[vc.get("hidden_act", "quick_gelu")]
        heads = vc.get("num_attention_heads") or (int(heads_flag) if heads_flag else None)
        w["norm_w"], w["norm_b"] = t[p + "post_layernorm.weight"], t[p + "post_layernorm.bias"]
        if e + "class_embedding" in t:  # CLIP
            w.update(cls=t[e + "class_embedding"], pre_w=t[p + "pre_layrnorm.weight"], pre_b=t[p + "pre_layrnorm.bias"])
            kw = dict(pre_norm=True, patch_bias=False, act=act, eps=vc.get("layer_norm_eps", 1e-5), resample="size")
            family = "clip"
        else:  # SigLIP
            w["patch_b"] = t[e + "patch_embedding.bias"]
            kw = dict(cls=False, act=act, eps=vc.get("layer_norm_eps", 1e-6), resample="size")
            if p + "head.probe" in t:
                h = p + "head."
                W, B = t[h + "attention.in_proj_weight"], t[h + "attention.in_proj_bias"]
                D = W.shape[1]
                w["probe"] = {"latent": t[h + "probe"].reshape(-1)}
                for j, c in enumerate("qkv"):
                    w["probe"][c + "_w"], w["probe"][c + "_b"] = W[j * D:(j + 1) * D], B[j * D:(j + 1) * D]
                kw["probe"] = True
            family = "siglip"
    else:
        p = next((q for q in ("", "dinov2.", "deit.") if q + "embeddings.patch_embeddings.projection.weight" in t), None)
        if p is None:
            raise Refused("not a known layout")
        e, deit = p + "embeddings.", p + "embeddings.distillation_token" in t
        w["blocks"] = block_weights(t, p + "encoder.layer.{i}.", None, hf_vit_block(not deit))
        w.update(patch_w=t[e + "patch_embeddings.projection.weight"], patch_b=t[e + "patch_embeddings.projection.bias"],
                 pos=t[e + "position_embeddings"][0], cls=t[e + "cls_token"].reshape(-1),
                 norm_w=t[p + "layernorm.weight"], norm_b=t[p + "layernorm.bias"])
        kw = dict(eps=vc.get("layer_norm_eps", 1e-12), act="gelu", resample="size")
        if deit:
            w["dist"], kw["dist"] = t[e + "distillation_token"].reshape(-1), True
        if e + "register_tokens" in t:
            w["reg"] = t[e + "register_tokens"][0]
            kw.update(registers=w["reg"].shape[0], resample="size_aa")
        heads = vc.get("num_attention_heads")
        family = "imagenet"
    b0 = w["blocks"][0]
    D = b0["ln1_w"].shape[0]
    swiglu = "w12_w" in b0
    kw.update(layerscale="ls1" in b0, swiglu=swiglu)
    if not heads:
        heads = D // 64
    patch = w["patch_w"].shape[-1]
    n_pos = w["pos"].shape[0] - int(kw.get("cls", True)) - int(kw.get("dist", False))
    grid = int(round(n_pos ** 0.5))
    mlp = b0["w3_w"].shape[1] if swiglu else b0["fc1_w"].shape[0]
    arch = Arch(D, len(w["blocks"]), heads, patch, grid, mlp, **kw)
    return w, arch, family


def main(argv):
    opts = parse(argv)
    try:
        t, configs = load(opts["weights"], opts.get("checkpoint-key"))
        w, arch, family = build(t, configs, opts.get("heads"))
    except (Refused, KeyError) as e:
        print(f"families_mock_cli: {opts['weights']}: {e}", file=sys.stderr)
        return 3
    if "mean" in opts:
        norm = tuple(tuple(float(v) for v in opts[k].split(",")) for k in ("mean", "std"))
    elif "preprocessor_config.json" in configs:
        c = configs["preprocessor_config.json"]
        norm = (c["image_mean"], c["image_std"])
    elif "preprocess_cfg" in configs.get("open_clip_config.json", {}):
        c = configs["open_clip_config.json"]["preprocess_cfg"]
        norm = (c["mean"], c["std"])
    else:
        norm = FAMILY_NORM[family]
    from PIL import Image
    pixels = np.asarray(Image.open(opts["image"]).convert("RGB"))
    x = (pixels.astype(np.float64) / 255.0 - np.asarray(norm[0])) / np.asarray(norm[1])
    norms = []
    A, P = forward(w, arch, torch.from_numpy(x.transpose(2, 0, 1)[None].copy()), norms=norms)
    np.save(opts["attn-out"], A.astype(np.float32))
    if "norms-out" in opts:
        np.save(opts["norms-out"], np.stack(norms).astype(np.float32))
    if "pool-attn-out" in opts:
        if P is None:
            print("families_mock_cli: the model has no pooling probe", file=sys.stderr)
            return 3
        np.save(opts["pool-attn-out"], P.astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
