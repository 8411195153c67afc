"""Checks of the functional references in families_models against PyTorch's
own modules, where the definitions coincide: torchvision's
VisionTransformer (timm/DINOv2/DeiT block maths), nn.TransformerEncoderLayer
(CLIP's QuickGELU and ln_pre, SigLIP's tanh GELU, LayerScale folded into the
projections), nn.MultiheadAttention and scaled-dot-product attention (the
attention itself, SigLIP's probe, timm's latent pool), F.interpolate (the
three resampling rules, restated as explicit weights for the C++ side) and
the writers (bytes read back)."""
import argparse
import os
import shutil
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

import families_io as fio
from families_models import (Arch, attention_probs, embed, forward, random_weights, resample_matrix,
                             resample_patch_pos, swiglu_hidden, token_order)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def _check(results, name, err, tol):
    ok = err <= tol
    print(f"{'ok  ' if ok else 'FAIL'} self-test {name}: relative error {err:.1e}")
    results.check(f"self-test {name}", ok, f"relative error {err:.2e} > {tol:.0e}")


def _image(rng, w, h):
    return torch.from_numpy(rng.standard_normal((1, 3, h, w)))


def _capture(mha_modules, store):
    """Wraps each nn.MultiheadAttention so its per-head weights are kept."""
    for attn in mha_modules:
        orig = attn.forward

        def fwd(query, key, value, need_weights=False, orig=orig, **kw):
            kw.pop("average_attn_weights", None)
            out, wts = orig(query, key, value, need_weights=True, average_attn_weights=False, **kw)
            store.append(wts[0].detach().numpy())
            return out, wts

        attn.forward = fwd


def check_torchvision(results, rng):
    D, L, H, P, G = 48, 3, 4, 8, 4
    m = torchvision.models.VisionTransformer(image_size=P * G, patch_size=P, num_layers=L, num_heads=H,
                                             hidden_dim=D, mlp_dim=4 * D).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.5))
    captured = []
    _capture([layer.self_attention for layer in m.encoder.layers], captured)
    x = _image(rng, P * G, P * G)
    with torch.no_grad():
        m(x)
    sd = {k: v.numpy() for k, v in m.state_dict().items()}
    w = {"patch_w": sd["conv_proj.weight"], "patch_b": sd["conv_proj.bias"], "cls": sd["class_token"][0, 0],
         "pos": sd["encoder.pos_embedding"][0], "norm_w": sd["encoder.ln.weight"], "norm_b": sd["encoder.ln.bias"],
         "blocks": []}
    for i in range(L):
        s = f"encoder.layers.encoder_layer_{i}."
        b = {"ln1_w": sd[s + "ln_1.weight"], "ln1_b": sd[s + "ln_1.bias"], "ln2_w": sd[s + "ln_2.weight"],
             "ln2_b": sd[s + "ln_2.bias"], "o_w": sd[s + "self_attention.out_proj.weight"],
             "o_b": sd[s + "self_attention.out_proj.bias"], "fc1_w": sd[s + "mlp.0.weight"],
             "fc1_b": sd[s + "mlp.0.bias"], "fc2_w": sd[s + "mlp.3.weight"], "fc2_b": sd[s + "mlp.3.bias"],
             "ls1": np.ones(D), "ls2": np.ones(D)}
        for j, c in enumerate("qkv"):
            b[c + "_w"] = sd[s + "self_attention.in_proj_weight"][j * D:(j + 1) * D]
            b[c + "_b"] = sd[s + "self_attention.in_proj_bias"][j * D:(j + 1) * D]
        w["blocks"].append(b)
    arch = Arch(D, L, H, P, G, 4 * D, act="gelu", eps=1e-6)
    A, _ = forward(w, arch, x)
    _check(results, "timm/DINOv2/DeiT block maths vs torchvision VisionTransformer", rel(A, np.stack(captured)), 1e-10)
    A2, _ = forward(w, arch.copy(layerscale=True), x)  # DINOv2's LayerScale with gamma = 1 changes nothing
    _check(results, "LayerScale of ones vs torchvision", rel(A2, np.stack(captured)), 1e-10)


def check_encoder_layers(results, rng):
    """CLIP (QuickGELU, eps 1e-5, ln_pre, conv without bias) and SigLIP (tanh
    GELU, eps 1e-6, no class token) blocks vs nn.TransformerEncoderLayer
    (pre-norm); LayerScale folded into out_proj and linear2."""
    quick = lambda x: x * torch.sigmoid(1.702 * x)
    tanh = lambda x: F.gelu(x, approximate="tanh")
    cases = (("CLIP block (QuickGELU, ln_pre, eps 1e-5)",
              Arch(64, 2, 2, 8, 4, 256, act="quick_gelu", eps=1e-5, pre_norm=True, patch_bias=False), quick),
             ("SigLIP block (tanh GELU, no class token, eps 1e-6)",
              Arch(48, 2, 4, 8, 4, 120, act="gelu_tanh", eps=1e-6, cls=False), tanh),
             ("open_clip/DINOv2 LayerScale (folded into the projections)",
              Arch(48, 2, 3, 8, 4, 192, act="gelu", eps=1e-6, layerscale=True), F.gelu))
    for name, arch, act in cases:
        w = random_weights(arch, rng)
        x = _image(rng, 40, 24)
        A, _ = forward(w, arch, x)
        h, rows, cols = embed(w, arch, x)
        t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))
        layers, captured = [], []
        for b in w["blocks"]:
            layer = torch.nn.TransformerEncoderLayer(arch.width, arch.heads, arch.mlp, dropout=0.0, activation=act,
                                                     layer_norm_eps=arch.eps, batch_first=True,
                                                     norm_first=True).double().eval()
            g1 = t(b["ls1"]) if arch.layerscale else torch.ones(arch.width, dtype=torch.float64)
            g2 = t(b["ls2"]) if arch.layerscale else torch.ones(arch.width, dtype=torch.float64)
            with torch.no_grad():
                layer.self_attn.in_proj_weight.copy_(torch.cat([t(b[c + "_w"]) for c in "qkv"]))
                layer.self_attn.in_proj_bias.copy_(torch.cat([t(b[c + "_b"]) for c in "qkv"]))
                layer.self_attn.out_proj.weight.copy_(t(b["o_w"]) * g1[:, None])
                layer.self_attn.out_proj.bias.copy_(t(b["o_b"]) * g1)
                layer.linear1.weight.copy_(t(b["fc1_w"]))
                layer.linear1.bias.copy_(t(b["fc1_b"]))
                layer.linear2.weight.copy_(t(b["fc2_w"]) * g2[:, None])
                layer.linear2.bias.copy_(t(b["fc2_b"]) * g2)
                for n in (1, 2):
                    getattr(layer, f"norm{n}").weight.copy_(t(b[f"ln{n}_w"]))
                    getattr(layer, f"norm{n}").bias.copy_(t(b[f"ln{n}_b"]))
            layers.append(layer)
        _capture([layer.self_attn for layer in layers], captured)
        with torch.no_grad():
            y = h[None]
            for layer in layers:
                y = layer(y)
        perm = token_order(arch, rows, cols)
        expect = np.stack([c[:, perm][:, :, perm] for c in captured])
        _check(results, name + " vs nn.TransformerEncoderLayer", rel(A, expect), 1e-10)


def check_attention(results, rng):
    D, H, N = 32, 4, 11
    x = torch.from_numpy(rng.standard_normal((1, N, D)))
    mha = torch.nn.MultiheadAttention(D, H, batch_first=True).double().eval()
    with torch.no_grad():
        _, wts = mha(x, x, x, need_weights=True, average_attn_weights=False)
    Wq, Wk, Wv = mha.in_proj_weight.detach().chunk(3)
    bq, bk, bv = mha.in_proj_bias.detach().chunk(3)
    q, k, v = x[0] @ Wq.T + bq, x[0] @ Wk.T + bk, x[0] @ Wv.T + bv
    a = attention_probs(q, k, H)
    _check(results, "attention vs nn.MultiheadAttention weights", rel(a, wts[0]), 1e-12)
    hd = D // H
    qh, kh, vh = (t.reshape(N, H, hd).transpose(0, 1)[None] for t in (q, k, v))
    if hasattr(F, "scaled_dot_product_attention"):
        out = F.scaled_dot_product_attention(qh, kh, vh)
    else:  # torch 1.13: the private form, which also returns the weights
        out, w2 = F._scaled_dot_product_attention(qh, kh, vh, need_attn_weights=True)
        _check(results, "attention vs scaled_dot_product_attention weights", rel(a, w2[0]), 1e-12)
    _check(results, "attention @ V vs scaled_dot_product_attention", rel(a @ vh[0], out[0]), 1e-12)


def check_probe(results, rng):
    """SigLIP's head: HF nn.MultiheadAttention(probe, x, x) and timm's
    AttentionPoolLatent (q from the latent, K and V fused in kv, heads
    contiguous within each, scale head_dim^-0.5) give the same weights."""
    arch = Arch(48, 1, 4, 8, 4, 192, act="gelu_tanh", cls=False, probe=True)
    w = random_weights(arch, rng)
    x = _image(rng, 32, 32)
    _, P = forward(w, arch, x)
    pr, t = w["probe"], (lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64)))
    # the probe's input: post-LayerNorm tokens, recomputed via the module route
    h, _, _ = embed(w, arch, x)
    b = w["blocks"][0]
    layer = torch.nn.TransformerEncoderLayer(48, 4, 192, dropout=0.0, activation=lambda z: F.gelu(z, approximate="tanh"),
                                             layer_norm_eps=1e-6, batch_first=True, norm_first=True).double().eval()
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([t(b[c + "_w"]) for c in "qkv"]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([t(b[c + "_b"]) for c in "qkv"]))
        for src, dst in (("o", layer.self_attn.out_proj), ("fc1", layer.linear1), ("fc2", layer.linear2)):
            dst.weight.copy_(t(b[src + "_w"]))
            dst.bias.copy_(t(b[src + "_b"]))
        for n in (1, 2):
            getattr(layer, f"norm{n}").weight.copy_(t(b[f"ln{n}_w"]))
            getattr(layer, f"norm{n}").bias.copy_(t(b[f"ln{n}_b"]))
        y = F.layer_norm(layer(h[None]), (48,), t(w["norm_w"]), t(w["norm_b"]), 1e-6)
        mha = torch.nn.MultiheadAttention(48, 4, batch_first=True).double().eval()
        mha.in_proj_weight.copy_(torch.cat([t(pr[c + "_w"]) for c in "qkv"]))
        mha.in_proj_bias.copy_(torch.cat([t(pr[c + "_b"]) for c in "qkv"]))
        _, wts = mha(t(pr["latent"]).reshape(1, 1, 48), y, y, need_weights=True, average_attn_weights=False)
    _check(results, "SigLIP probe vs nn.MultiheadAttention(probe, x, x)", rel(P, wts[0, :, 0]), 1e-10)
    # timm's layout: kv = Linear(D, 2D) with rows [K; V], reshaped (N, 2, H, hd)
    kv = y[0] @ torch.cat([t(pr["k_w"]), t(pr["v_w"])]).T + torch.cat([t(pr["k_b"]), t(pr["v_b"])])
    k = kv.reshape(-1, 2, 4, 12)[:, 0].transpose(0, 1)  # [H, N, hd]
    q = (t(pr["latent"]) @ t(pr["q_w"]).T + t(pr["q_b"])).reshape(4, 1, 12)
    timm = torch.softmax((q * 12 ** -0.5) @ k.transpose(-1, -2), -1)[:, 0]
    _check(results, "timm AttentionPoolLatent layout vs the probe", rel(P, timm), 1e-10)


def check_resampling(results, rng):
    G, D = 4, 5
    pos = torch.from_numpy(rng.standard_normal((G * G, D)))
    for mode in ("size", "size_aa", "offset"):
        same = resample_patch_pos(pos, G, G, G, mode)
        results.check(f"self-test {mode}: unchanged grid is the identity", torch.equal(same, pos))
    grid = pos.reshape(G, G, D).numpy()
    worst = 0.0
    for rows, cols in ((3, 2), (6, 6), (5, 3), (2, 8), (4, 6), (8, 8)):
        for mode in ("size", "size_aa", "offset"):
            got = resample_patch_pos(pos, G, rows, cols, mode).numpy().reshape(rows, cols, D)
            sr, sc = ((rows + 0.1) / G, (cols + 0.1) / G) if mode == "offset" else (None, None)
            Mr = resample_matrix(G, rows, sr, antialias=(mode == "size_aa"))
            Mc = resample_matrix(G, cols, sc, antialias=(mode == "size_aa"))
            worst = max(worst, rel(np.einsum("ri,cj,ijd->rcd", Mr, Mc, grid), got))
    _check(results, "resampling weights restated vs F.interpolate (3 rules, 6 grids)", worst, 1e-12)
    a, b, c = (resample_patch_pos(pos, G, 3, 5, m) for m in ("size", "size_aa", "offset"))
    differ = min(rel(a, b), rel(a, c), rel(b, c))
    results.check("self-test the three resampling rules differ", differ > 1e-3, f"only {differ:.1e} apart")
    print(f"ok   self-test resampling rules differ by >= {differ:.1e} on a 4x4 -> 3x5 grid")


def check_small_facts(results):
    results.check("self-test SwiGLU hidden width (giant 1536 -> 4096)", swiglu_hidden(1536) == 4096)
    results.check("self-test SwiGLU hidden width (40 -> 112)", swiglu_hidden(40) == 112)
    results.check("self-test SwiGLU hidden width (384 -> 1024)", swiglu_hidden(384) == 1024)
    arch = Arch(8, 1, 2, 8, 2, 16, registers=2)
    results.check("self-test DINOv2 register order", token_order(arch, 2, 2) == [0, 3, 4, 5, 6, 1, 2],
                  str(token_order(arch, 2, 2)))


def check_writers(results, rng):
    tmp = tempfile.mkdtemp(prefix="attnscope-families-self-")
    x = (rng.standard_normal(37) * 3).astype(np.float32)
    ok = np.array_equal(fio.bf16_bits(x), torch.from_numpy(x).bfloat16().view(torch.int16).numpy().view("<u2"))
    results.check("self-test BF16 rounding vs torch.bfloat16", ok)
    results.check("self-test F8 E4M3 max 448, E5M2 max 57344",
                  np.nanmax(fio.F8_E4M3) == 448 and np.nanmax(fio.F8_E5M2[np.isfinite(fio.F8_E5M2)]) == 57344)
    tensors = {d: (np.abs(rng.standard_normal(8)) * 2).astype(np.float32) for d in fio.DTYPE_BITS}
    path = os.path.join(tmp, "all.safetensors")
    fio.write_safetensors(path, tensors, {d: d for d in tensors}, metadata={"format": "pt"})
    back = fio.read_safetensors(path)
    sizes = all(len(back[d][2]) == fio.nbytes([8], d) for d in tensors)
    f16 = np.frombuffer(back["F16"][2], "<f2").astype(np.float32)
    bf16 = fio.bf16_values(np.frombuffer(back["BF16"][2], "<u2"))
    results.check("self-test safetensors of every dtype: sizes", sizes)
    results.check("self-test F16/BF16 bytes read back as the rounded values",
                  np.array_equal(f16, fio.round_to("F16")(tensors["F16"])) and
                  np.array_equal(bf16, fio.round_to("BF16")(tensors["BF16"])))
    nested = {"teacher": {"backbone.a": torch.ones(2)}, "args": argparse.Namespace(arch="vit_small"), "epoch": 3}
    torch.save(nested, os.path.join(tmp, "n.pth"))
    back = torch.load(os.path.join(tmp, "n.pth"))
    results.check("self-test nested .pth round trip", list(back) == ["teacher", "args", "epoch"] and
                  torch.equal(back["teacher"]["backbone.a"], torch.ones(2)))
    shutil.rmtree(tmp, ignore_errors=True)


def check_power(results, rng, tol=1e-4):
    """The comparison can tell the definitions apart: each variant a loader
    could get wrong moves the attention well past the tolerance, while a
    float32 run of the reference stays well inside it."""
    x = _image(rng, 40, 24)
    base = Arch(48, 2, 4, 8, 4, 120, act="gelu_tanh", eps=1e-6, layerscale=True, resample="size", probe=True)
    variants = (("eps 1e-5", dict(eps=1e-5)), ("eps 1e-12", dict(eps=1e-12)), ("exact GELU", dict(act="gelu")),
                ("QuickGELU", dict(act="quick_gelu")), ("no LayerScale", dict(layerscale=False)),
                ("antialiased resampling", dict(resample="size_aa")), ("+0.1 scale factor", dict(resample="offset")))
    for trial in range(3):
        w = random_weights(base, rng)
        A, P = forward(w, base, x)
        A32, P32 = forward(w, base, x, torch.float32)
        noise = max(rel(A32, A), rel(P32, P))
        results.check(f"self-test float32 rounding well inside the tolerance (trial {trial})", noise < tol / 4,
                      f"{noise:.1e}")
        for name, change in variants:
            B, PB = forward(w, base.copy(**change), x)
            gap = max(rel(B, A), rel(PB, P))  # caught if either output moves
            ok = results.check(f"self-test {name} moves the attention past the tolerance (trial {trial})",
                               gap > 3 * tol, f"only {gap:.1e}")
            if trial == 0 and ok:
                print(f"ok   self-test {name}: attention moves by {gap:.1e} (float32 rounding {noise:.1e})")


def run(results, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    check_torchvision(results, rng)
    check_encoder_layers(results, rng)
    check_attention(results, rng)
    check_probe(results, rng)
    check_resampling(results, rng)
    check_small_facts(results)
    check_writers(results, rng)
    check_power(results, rng)
