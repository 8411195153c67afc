"""Functional PyTorch references for the vision backbones attnscope loads
(DINOv2, CLIP, SigLIP, DeiT), written from the published definitions; see
FAMILIES.md for the upstream files each rule comes from.

Every model is described by an `Arch` and a dict of canonical weights (numpy
float32, names of our own: q_w, k_w, ... per block). `forward` runs the model
in float64 in the model's own token order and returns the attention of every
layer and head reordered to attnscope's order (class, distillation, patches
row-major, registers), and the pooling probe's attention where there is one."""
import math

import numpy as np
import torch
import torch.nn.functional as F

DT = torch.float64
MLP_GAIN = 1.5

# How each implementation resamples the patch part of its position embeddings
# to another grid (all bicubic, align_corners=False):
#   "size"    F.interpolate(size=(rows, cols))                 HF CLIP, Dinov2, DeiT, SigLIP
#   "size_aa" F.interpolate(size=(rows, cols), antialias=True)  HF Dinov2WithRegisters, DINOv2
#             registers models (offset 0), timm, open_clip
#   "offset"  F.interpolate(scale_factor=((rows+0.1)/G, (cols+0.1)/G))  DINOv2 original, no registers
RESAMPLE_MODES = ("size", "size_aa", "offset")


class Arch:
    """One model's shape and the definitions that change its numbers."""

    def __init__(self, width, depth, heads, patch, grid, mlp, act="gelu", eps=1e-6, cls=True, dist=False,
                 registers=0, layerscale=False, pre_norm=False, patch_bias=True, resample="size",
                 probe=False, swiglu=False, final_norm=True):
        assert width % heads == 0 and resample in RESAMPLE_MODES
        assert act in ("gelu", "gelu_tanh", "quick_gelu")
        self.width, self.depth, self.heads, self.patch, self.grid, self.mlp = width, depth, heads, patch, grid, mlp
        self.act, self.eps, self.cls, self.dist, self.registers = act, eps, cls, dist, registers
        self.layerscale, self.pre_norm, self.patch_bias, self.resample = layerscale, pre_norm, patch_bias, resample
        self.probe, self.swiglu, self.final_norm = probe, swiglu, final_norm

    @property
    def prefix(self):
        """Tokens before the patches that own a position embedding row."""
        return int(self.cls) + int(self.dist)

    def copy(self, **changes):
        a = Arch.__new__(Arch)
        a.__dict__.update(self.__dict__, **changes)
        return a


def swiglu_hidden(width, mlp_ratio=4.0):
    """DINOv2's SwiGLUFFNFused (and HF Dinov2SwiGLUFFN): 2/3 of the MLP width,
    rounded up to a multiple of 8."""
    hidden = int(width * mlp_ratio)
    return (int(hidden * 2 / 3) + 7) // 8 * 8


def random_weights(arch, rng, qk_gain=2.5, embed_scale=1e-3, mlp_gain=MLP_GAIN):
    """Random canonical weights. q and k get std qk_gain/sqrt(D), so a head's
    logits have a standard deviation of about qk_gain^2: attention is clearly
    non-uniform without being one-hot. LayerNorms, tokens and position
    embeddings are random too, so that a wrong token or resampling shows.
    The embeddings (patches, tokens, positions) have a standard deviation of
    about embed_scale: the first LayerNorm then sees a variance near its eps,
    so that 1e-5, 1e-6 and 1e-12 give clearly different attention. mlp_gain
    widens the MLP's pre-activations so that the GELU variants differ."""
    D, G, e = arch.width, arch.grid, embed_scale
    n = lambda *shape, s=1.0: (rng.standard_normal(shape) * s).astype(np.float32)
    ln = lambda: (1.0 + n(D, s=0.2), n(D, s=0.1))
    w = {"patch_w": n(D, 3, arch.patch, arch.patch, s=e / math.sqrt(3 * arch.patch ** 2)),
         "patch_b": n(D, s=0.1 * e) if arch.patch_bias else None,
         "pos": n(arch.prefix + G * G, D, s=0.7 * e)}
    if arch.cls:
        w["cls"] = n(D, s=0.7 * e)
    if arch.dist:
        w["dist"] = n(D, s=0.7 * e)
    if arch.registers:
        w["reg"] = n(arch.registers, D, s=0.7 * e)
    if arch.pre_norm:
        w["pre_w"], w["pre_b"] = ln()
    if arch.final_norm:
        w["norm_w"], w["norm_b"] = ln()
    blocks = []
    hidden = arch.mlp
    for _ in range(arch.depth):
        b = {}
        b["ln1_w"], b["ln1_b"] = ln()
        b["ln2_w"], b["ln2_b"] = ln()
        for p in "qk":
            b[p + "_w"], b[p + "_b"] = n(D, D, s=qk_gain / math.sqrt(D)), n(D, s=0.2)
        b["v_w"], b["v_b"] = n(D, D, s=1.0 / math.sqrt(D)), n(D, s=0.1)
        b["o_w"], b["o_b"] = n(D, D, s=1.0 / math.sqrt(D)), n(D, s=0.1)
        if arch.swiglu:
            b["w12_w"], b["w12_b"] = n(2 * hidden, D, s=1.0 / math.sqrt(D)), n(2 * hidden, s=0.1)
            b["w3_w"], b["w3_b"] = n(D, hidden, s=1.0 / math.sqrt(hidden)), n(D, s=0.1)
        else:
            b["fc1_w"], b["fc1_b"] = n(hidden, D, s=mlp_gain / math.sqrt(D)), n(hidden, s=0.1)
            b["fc2_w"], b["fc2_b"] = n(D, hidden, s=mlp_gain / math.sqrt(hidden)), n(D, s=0.1)
        if arch.layerscale:
            b["ls1"], b["ls2"] = (0.5 + rng.random(D)).astype(np.float32), (0.5 + rng.random(D)).astype(np.float32)
        blocks.append(b)
    w["blocks"] = blocks
    if arch.probe:
        pr = {"latent": n(D, s=1.0)}
        for p in "qk":
            pr[p + "_w"], pr[p + "_b"] = n(D, D, s=qk_gain / math.sqrt(D)), n(D, s=0.2)
        pr["v_w"], pr["v_b"] = n(D, D, s=1.0 / math.sqrt(D)), n(D, s=0.1)
        pr["o_w"], pr["o_b"] = n(D, D, s=1.0 / math.sqrt(D)), n(D, s=0.1)
        pr["ln_w"], pr["ln_b"] = ln()
        pr["fc1_w"], pr["fc1_b"] = n(4 * D, D, s=1.0 / math.sqrt(D)), n(4 * D, s=0.1)
        pr["fc2_w"], pr["fc2_b"] = n(D, 4 * D, s=0.5 / math.sqrt(D)), n(D, s=0.1)
        w["probe"] = pr
    return w


def map_arrays(w, fn):
    """The same nested weights with fn applied to every array (e.g. rounding
    to float16 or bfloat16)."""
    if isinstance(w, dict):
        return {k: map_arrays(v, fn) for k, v in w.items()}
    if isinstance(w, list):
        return [map_arrays(v, fn) for v in w]
    return None if w is None else fn(w)


def activation(x, act):
    if act == "gelu":
        return F.gelu(x)
    if act == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    return x * torch.sigmoid(1.702 * x)  # quick_gelu


def resample_patch_pos(pos, grid, rows, cols, mode):
    """pos: [G*G, D] (patch rows only) -> [rows*cols, D] as the family does.
    Every implementation returns the table untouched when the patch count and
    the image's squareness are unchanged (only a square grid of G*G patches)."""
    D = pos.shape[-1]
    if (rows, cols) == (grid, grid):
        return pos
    img = pos.reshape(1, grid, grid, D).permute(0, 3, 1, 2)
    if mode == "offset":
        out = F.interpolate(img, scale_factor=((rows + 0.1) / grid, (cols + 0.1) / grid), mode="bicubic",
                            align_corners=False)
    else:
        out = F.interpolate(img, size=(rows, cols), mode="bicubic", align_corners=False,
                            antialias=(mode == "size_aa"))
    assert out.shape[-2:] == (rows, cols), out.shape
    return out.permute(0, 2, 3, 1).reshape(rows * cols, D)


def attention_probs(q, k, heads):
    """q: [Nq, D], k: [Nk, D] -> softmax(q_h k_h^T / sqrt(hd)) per head, [H, Nq, Nk]."""
    hd = q.shape[-1] // heads
    qh = q.reshape(q.shape[0], heads, hd).transpose(0, 1)
    kh = k.reshape(k.shape[0], heads, hd).transpose(0, 1)
    return torch.softmax(qh @ kh.transpose(-1, -2) * hd ** -0.5, dim=-1)


def token_order(arch, rows, cols):
    """perm[i] = the model-order index of attnscope's i-th token."""
    P, R, pre = rows * cols, arch.registers, arch.prefix
    # model order: class, registers (DINOv2 inserts them after the class
    # token), distillation, patches; DINOv2 has no distillation token, DeiT no registers
    if R:
        assert not arch.dist
        return list(range(pre)) + [pre + R + i for i in range(P)] + [pre + i for i in range(R)]
    return list(range(pre + P))


def embed(w, arch, x, dtype=DT):
    """x: [1, 3, H, W] normalised image (float64). Returns the token sequence
    in the model's own order and the patch grid."""
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64)).to(dtype)
    x = x.to(dtype)
    b = None if w.get("patch_b") is None else t(w["patch_b"])
    p = F.conv2d(x, t(w["patch_w"]), b, stride=arch.patch)  # [1, D, rows, cols]
    rows, cols = p.shape[2:]
    p = p.flatten(2).transpose(1, 2)[0]  # [rows*cols, D], row-major
    pos = t(w["pos"])
    p = p + resample_patch_pos(pos[arch.prefix:], arch.grid, rows, cols, arch.resample)
    prefix = []
    if arch.cls:
        prefix.append(t(w["cls"]) + pos[0])
    if arch.dist:
        prefix.append(t(w["dist"]) + pos[1])
    seq = prefix[:1] + ([t(w["reg"])] if arch.registers else []) + prefix[1:] + [p]
    h = torch.cat([s.reshape(-1, arch.width) for s in seq], 0)
    if arch.pre_norm:
        h = F.layer_norm(h, (arch.width,), t(w["pre_w"]), t(w["pre_b"]), arch.eps)
    return h, rows, cols


def forward(w, arch, x, dtype=DT, norms=None):
    """Returns (A [L, H, N, N], P [H, N] or None), both in attnscope's token
    order. dtype float32 estimates the rounding error of a float32 run. A list
    passed as `norms` receives every token's L2 norm at each block's input and
    after the last block ([N] each, L + 1 of them, attnscope's order)."""
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64)).to(dtype)
    D = arch.width
    h, rows, cols = embed(w, arch, x, dtype)
    perm = torch.tensor(token_order(arch, rows, cols))
    maps = []
    for b in w["blocks"]:
        if norms is not None:
            norms.append(h.norm(dim=-1)[perm].numpy())
        y = F.layer_norm(h, (D,), t(b["ln1_w"]), t(b["ln1_b"]), arch.eps)
        q, k, v = (F.linear(y, t(b[p + "_w"]), t(b[p + "_b"])) for p in "qkv")
        a = attention_probs(q, k, arch.heads)
        maps.append(a[:, perm][:, :, perm])
        vh = v.reshape(-1, arch.heads, D // arch.heads).transpose(0, 1)
        o = F.linear((a @ vh).transpose(0, 1).reshape(-1, D), t(b["o_w"]), t(b["o_b"]))
        h = h + (o * t(b["ls1"]) if arch.layerscale else o)
        y = F.layer_norm(h, (D,), t(b["ln2_w"]), t(b["ln2_b"]), arch.eps)
        if arch.swiglu:
            x1, x2 = F.linear(y, t(b["w12_w"]), t(b["w12_b"])).chunk(2, dim=-1)
            o = F.linear(F.silu(x1) * x2, t(b["w3_w"]), t(b["w3_b"]))
        else:
            o = F.linear(activation(F.linear(y, t(b["fc1_w"]), t(b["fc1_b"])), arch.act), t(b["fc2_w"]), t(b["fc2_b"]))
        h = h + (o * t(b["ls2"]) if arch.layerscale else o)
    if norms is not None:
        norms.append(h.norm(dim=-1)[perm].numpy())
    A = torch.stack(maps).numpy()
    P = None
    if arch.probe:
        # SigLIP's head (HF: nn.MultiheadAttention(probe, x, x); timm:
        # AttentionPoolLatent) attends from one learned query to every token
        # after the final LayerNorm; scale head_dim^-0.5, no q/k norm.
        pr = w["probe"]
        y = F.layer_norm(h, (D,), t(w["norm_w"]), t(w["norm_b"]), arch.eps) if arch.final_norm else h
        q = F.linear(t(pr["latent"]).reshape(1, D), t(pr["q_w"]), t(pr["q_b"]))
        k = F.linear(y, t(pr["k_w"]), t(pr["k_b"]))
        P = attention_probs(q, k, arch.heads)[:, 0][:, perm].numpy()
    return A, P


# ---- numpy restatements of torch's bicubic kernels (self-test: they document
# for the C++ side exactly what F.interpolate computes) ----

def _cubic(x, a):
    x = abs(x)
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def resample_matrix(n_in, n_out, scale=None, antialias=False):
    """[n_out, n_in] weights of one axis of F.interpolate(mode="bicubic",
    align_corners=False). scale: the scale_factor given (the source step is
    then 1/scale_factor, not n_in/n_out), else the size form."""
    step = 1.0 / scale if scale else n_in / n_out
    M = np.zeros((n_out, n_in))
    for i in range(n_out):
        if not antialias:  # Keys' cubic, a = -0.75, taps clamped to the edge
            src = (i + 0.5) * step - 0.5
            i0 = math.floor(src)
            frac = src - i0
            for j, wt in zip(range(i0 - 1, i0 + 3), (_cubic(frac + 1, -0.75), _cubic(frac, -0.75),
                                                       _cubic(1 - frac, -0.75), _cubic(2 - frac, -0.75))):
                M[i, min(max(j, 0), n_in - 1)] += wt
        else:  # PIL-style: a = -0.5, support widened by the step when shrinking, taps cut at the edge, renormalised
            support = 2.0 * step if step >= 1.0 else 2.0
            center = step * (i + 0.5)
            inv = 1.0 / step if step >= 1.0 else 1.0
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            ws = [_cubic((j - center + 0.5) * inv, -0.5) for j in range(lo, hi)]
            total = sum(ws)
            for j, wt in zip(range(lo, hi), ws):
                M[i, j] = wt / total
    return M
