"""The attnscope captioner: a small ViT encoder and a Transformer decoder,
built from PyTorch's own layers (the contract in assets/captioner/README.md),
plus safetensors reading and writing and the evaluation (exact captions and
grounding) used by train.py."""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import scenes as S


def sincos_2d(grid, D):
    """[grid*grid, D] fixed 2D sine-cosine codes of the patch centres
    (row-major), amplitude 1: the first half of the channels encode the
    column, the second half the row, each with D/4 frequencies spaced
    geometrically from a quarter to 8 half-turns across the image (the
    lowest are nearly linear in the position)."""
    q = D // 4
    k = 0.25 * 32.0 ** (torch.arange(q, dtype=torch.float32) / max(q - 1, 1))
    u = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid  # patch centre, 0..1
    ang = math.pi * u[:, None] * k[None, :]
    code = torch.cat([torch.sin(ang), torch.cos(ang)], 1)  # [grid, D/2]
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    return torch.cat([code[cols.reshape(-1)], code[rows.reshape(-1)]], 1)


def decoder_heads(cfg):
    """Heads of each decoder layer: config "decoder_heads" is a list (one
    count per layer) or, in older configs, one count for every layer."""
    h = cfg["decoder_heads"]
    return list(h) if isinstance(h, (list, tuple)) else [h] * cfg["decoder_layers"]


class Captioner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, M, p = cfg["width"], cfg["mlp"], cfg["patch"]
        P = (cfg["image_size"] // p) ** 2
        V, T, eps = len(cfg["vocab"]), cfg["max_tokens"], cfg["layer_norm_eps"]
        self.patch_embed = nn.Conv2d(3, D, p, stride=p)
        # pos_embed starts as the fixed 2D sine-cosine codes times
        # pos_init_scale (a training choice, not part of the exported config)
        # and is then trained like any weight.
        self.pos_embed = nn.Parameter(sincos_2d(int(round(P ** 0.5)), D) * cfg.get("pos_init_scale", 1.0))
        self.encoder = nn.ModuleList([
            nn.TransformerEncoderLayer(D, cfg["encoder_heads"], M, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, layer_norm_eps=eps)
            for _ in range(cfg["encoder_layers"])])
        self.encoder_norm = nn.LayerNorm(D, eps=eps)
        self.token_embed = nn.Embedding(V, D)
        self.token_pos = nn.Parameter(torch.randn(T, D) * 0.02)
        self.decoder = nn.ModuleList([
            nn.TransformerDecoderLayer(D, h, M, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, layer_norm_eps=eps)
            for h in decoder_heads(cfg)])
        self.decoder_norm = nn.LayerNorm(D, eps=eps)
        self.head = nn.Linear(D, V)
        self.register_buffer("mean", torch.tensor(cfg["mean"]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg["std"]).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images_uint8):
        """[B, H, W, 3] uint8 (numpy or torch) -> normalised [B, 3, H, W]."""
        x = torch.as_tensor(np.asarray(images_uint8)).to(self.mean.device).permute(0, 3, 1, 2).float() / 255.0
        return (x - self.mean) / self.std

    def encode(self, x, capture=False):
        """Normalised images -> memory [B, P, D] (the encoder_norm output) and,
        when capture, the self-attention of each layer [B, H, P, P]."""
        h = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        attn = []
        for layer in self.encoder:
            y = layer.norm1(h)
            out, w = layer.self_attn(y, y, y, need_weights=capture, average_attn_weights=False)
            h = h + out
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
            if capture:
                attn.append(w)
        return self.encoder_norm(h), attn

    def decode(self, tokens, memory, capture=False):
        """Teacher-forced decoder: tokens [B, L] (starting with <bos>) ->
        logits [B, L, V]; row t predicts word t. When capture, also the
        self-attention [B, H, L, L] and cross-attention [B, H, L, P] of each
        layer."""
        L = tokens.shape[1]
        h = self.token_embed(tokens) + self.token_pos[:L]
        causal = torch.triu(torch.full((L, L), float("-inf"), device=tokens.device), diagonal=1)
        self_attn, cross_attn = [], []
        for layer in self.decoder:
            y = layer.norm1(h)
            out, w = layer.self_attn(y, y, y, attn_mask=causal, need_weights=capture,
                                     average_attn_weights=False)
            h = h + out
            y = layer.norm2(h)
            out, c = layer.multihead_attn(y, memory, memory, need_weights=capture,
                                          average_attn_weights=False)
            h = h + out
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm3(h))))
            if capture:
                self_attn.append(w)
                cross_attn.append(c)
        return self.head(self.decoder_norm(h)), self_attn, cross_attn

    @torch.no_grad()
    def greedy(self, images_uint8):
        """Greedy captions for a batch: (list of word lists, cross-attention
        of the last decoder layer averaged over heads [B, T, P] as numpy,
        where row t is word t)."""
        memory, _ = self.encode(self.preprocess(images_uint8))
        B, T = memory.shape[0], self.cfg["max_tokens"]
        tokens = torch.full((B, 1), S.BOS, dtype=torch.long, device=memory.device)
        done = torch.zeros(B, dtype=torch.bool, device=memory.device)
        for _ in range(T):
            logits, _, _ = self.decode(tokens, memory)
            nxt = logits[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, S.PAD), nxt)
            done |= nxt == S.EOS
            if tokens.shape[1] == T:  # the decoder has T positions: no more inputs
                tokens = torch.cat([tokens, nxt[:, None]], 1)
                break
            tokens = torch.cat([tokens, nxt[:, None]], 1)
            if bool(done.all()):
                break
        _, _, cross = self.decode(tokens[:, :T], memory, capture=True)
        maps = cross[-1].mean(1).cpu().numpy()
        words = []
        for row in tokens[:, 1:].tolist():
            w = []
            for t in row:
                if t in (S.EOS, S.PAD):
                    break
                w.append(S.VOCAB[t])
            words.append(w)
        return words, maps

    @torch.no_grad()
    def teacher_maps(self, images_uint8, captions):
        """Last-layer cross-attention (mean over heads) [B, L, P] for given
        captions (word lists), row t = word t."""
        memory, _ = self.encode(self.preprocess(images_uint8))
        L = max(len(c) for c in captions)
        tokens = torch.full((len(captions), L), S.PAD, dtype=torch.long, device=memory.device)
        for i, c in enumerate(captions):
            ids = [S.BOS] + [S.TOKEN[w] for w in c]
            tokens[i, :len(ids[:L])] = torch.tensor(ids[:L])
        _, _, cross = self.decode(tokens, memory, capture=True)
        return cross[-1].mean(1).cpu().numpy()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- safetensors

_DTYPES = {"F32": np.float32, "F16": np.float16}


def save_safetensors(path, state_dict, dtype="F32"):
    """Writes tensors as safetensors: 8-byte little-endian header length,
    JSON header (tensors sorted by name, dtype, shape, data_offsets), data."""
    names = sorted(state_dict)
    arrays, header, offset = [], {}, 0
    for name in names:
        a = state_dict[name].detach().cpu().numpy().astype(_DTYPES[dtype]).astype(
            np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        b = a.tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        arrays.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in arrays:
            f.write(b)


def load_safetensors(path):
    """name -> float32 torch tensor."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]))
    return out


# ----------------------------------------------------------------- evaluation

def covered_patches(mask, patch):
    """Boolean [P]: patches (row-major) holding a pixel of coverage >= 0.5."""
    g = mask.shape[0] // patch
    return (mask.reshape(g, patch, g, patch).max(axis=(1, 3)) >= 0.5).reshape(-1)


def eval_scenes(base_seed, count):
    """Held-out scenes (with masks) and one reference caption each (the
    canonical order, as in training)."""
    out = []
    for i in range(count):
        img, objs = S.make_scene(S.scene_rng(base_seed, i))
        out.append((img, objs, S.canonical_caption(objs)))
    return out


def word_shares(words, maps, objs, patch, kinds=False):
    """Grounding shares of the colour and shape words of a caption: for each
    mention, the share of the word's map on its object's patches (0 when the
    mention names no object of the scene). With kinds, (kind, share) pairs,
    kind "colour" or "shape"."""
    parsed = S.parse(words)
    if parsed is None:  # unparsable: score each colour/shape word 0
        out = [("colour" if w in S.COLOURS else "shape", 0.0) for w in words if w in S.COLOURS or w in S.SHAPES]
        return out if kinds else [v for _, v in out]
    index = {(o["colour"], o["shape"]): i for i, o in enumerate(objs)}
    shares = []
    for colour, shape, ci in parsed[0]:
        k = index.get((colour, shape))
        for kind, t in (("colour", ci), ("shape", ci + 1)):
            if k is None or t >= maps.shape[0]:
                shares.append((kind, 0.0))
            else:
                cov = covered_patches(objs[k]["mask"], patch)
                shares.append((kind, float(maps[t][cov].sum())))
    return shares if kinds else [v for _, v in shares]


def evaluate(model, scene_set, batch=100):
    """Exact-caption rate and grounding on a list from eval_scenes."""
    model.eval()
    p = model.cfg["patch"]
    exact, shares_gen, per_scene_gen, shares_tf = 0, [], [], []
    by_n = {1: [0, 0], 2: [0, 0], 3: [0, 0]}
    by_kind = {"colour": [], "shape": []}
    for s in range(0, len(scene_set), batch):
        chunk = scene_set[s:s + batch]
        imgs = np.stack([c[0] for c in chunk])
        words, maps = model.greedy(imgs)
        tf = model.teacher_maps(imgs, [c[2] for c in chunk])
        for (img, objs, ref), w, m, mt in zip(chunk, words, maps, tf):
            ok, _ = S.caption_correct(w, objs)
            exact += ok
            by_n[len(objs)][0] += ok
            by_n[len(objs)][1] += 1
            shk = word_shares(w, m, objs, p, kinds=True)
            sh = [v for _, v in shk]
            shares_gen += sh
            for kind, v in shk:
                by_kind[kind].append(v)
            per_scene_gen.append(float(np.mean(sh)) if sh else 0.0)
            shares_tf += word_shares(ref, mt, objs, p)
    n = len(scene_set)
    return {"scenes": n, "exact": exact / n,
            "exact_by_objects": {str(k): v[0] / max(v[1], 1) for k, v in by_n.items()},
            "grounding": float(np.mean(shares_gen)) if shares_gen else 0.0,
            "grounding_per_scene": float(np.mean(per_scene_gen)),
            "grounding_colour_words": float(np.mean(by_kind["colour"])) if by_kind["colour"] else 0.0,
            "grounding_shape_words": float(np.mean(by_kind["shape"])) if by_kind["shape"] else 0.0,
            "grounding_teacher_forced": float(np.mean(shares_tf))}
