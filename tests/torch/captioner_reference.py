#!/usr/bin/env python3
"""PyTorch reference for attnscope's captioner (assets/captioner).

Reads config.json and the safetensors weights on its own (no dependency on
tools/captioner), builds the model from PyTorch's own layers under the
state_dict names of the contract, and captions an image greedily, keeping
the attention weights the MultiheadAttention modules actually use
(need_weights=True, average_attn_weights=False; every call checks that the
module's output is those weights times its value projection, through
out_proj).

  load(model_dir, checkpoint=None) -> model
      checkpoint: None for model.safetensors, a step number (int) or a file
      name relative to model_dir (e.g. "checkpoints/step_000050.safetensors").
  caption(model, rgb_uint8_HxWx3) -> dict
      tokens            list of words, without <bos>/<eos>
      logits            [T_out, V] float64: the logits of every decoding step,
                        including the step that produced <eos> (so T_out =
                        T + 1 when <eos> came, T = max_tokens otherwise)
      encoder_attention [L_enc, H_enc, N, N] float32
      decoder_attention list of L_dec arrays [H_l, T, T] float32 (causal
                        self-attention; layers may differ in heads)
      cross_attention   list of L_dec arrays [H_l, T, N] float32
      word_maps         [T, N] float32: the last decoder layer's
                        cross-attention averaged over its heads (the map
                        attnscope shows and the grounding scores use)
      with T = len(tokens), N = patches row-major; row t is decoder query
      position t, whose input is token t-1 (<bos> for t = 0) and which
      predicts word t.
      An image that is not image_size x image_size is resized (bilinear).

usage: captioner_reference.py IMAGE.png [--model DIR] [--checkpoint STEP]"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "assets", "captioner")
_DTYPES = {"F32": "<f4", "F16": "<f2"}


def read_safetensors(path):
    """name -> float32 torch tensor (F32 or F16 files)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=_DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]))
    return out


class CaptionerModel(nn.Module):
    """The contract's modules, nothing else; forward code is in caption()."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, M, p, eps = cfg["width"], cfg["mlp"], cfg["patch"], cfg["layer_norm_eps"]
        P = (cfg["image_size"] // p) ** 2
        V, T = len(cfg["vocab"]), cfg["max_tokens"]
        assert cfg["activation"] == "gelu"
        self.patch_embed = nn.Conv2d(3, D, p, stride=p)
        self.pos_embed = nn.Parameter(torch.zeros(P, D))
        self.encoder = nn.ModuleList([
            nn.TransformerEncoderLayer(D, cfg["encoder_heads"], M, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, layer_norm_eps=eps)
            for _ in range(cfg["encoder_layers"])])
        self.encoder_norm = nn.LayerNorm(D, eps=eps)
        self.token_embed = nn.Embedding(V, D)
        self.token_pos = nn.Parameter(torch.zeros(T, D))
        heads = cfg["decoder_heads"]  # one count per decoder layer, or one for all
        heads = list(heads) if isinstance(heads, list) else [heads] * cfg["decoder_layers"]
        assert len(heads) == cfg["decoder_layers"], (heads, cfg["decoder_layers"])
        self.decoder = nn.ModuleList([
            nn.TransformerDecoderLayer(D, h, M, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, layer_norm_eps=eps)
            for h in heads])
        self.decoder_norm = nn.LayerNorm(D, eps=eps)
        self.head = nn.Linear(D, V)


def load(model_dir=DEFAULT_MODEL, checkpoint=None):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["format"] == "attnscope-captioner-1", cfg["format"]
    if checkpoint is None:
        path = os.path.join(model_dir, "model.safetensors")
    elif isinstance(checkpoint, int):
        files = {c["step"]: c["file"] for c in cfg["checkpoints"]}
        path = os.path.join(model_dir, files[checkpoint])
    else:
        path = os.path.join(model_dir, checkpoint)
    model = CaptionerModel(cfg)
    model.load_state_dict(read_safetensors(path), strict=True)
    model.eval()
    return model


def _attention(mha, q, kv, mask=None):
    """nn.MultiheadAttention with its per-head weights [B, H, Lq, Lk], and a
    check that they are the weights it used: its output is recomputed from
    them (weights times the value projection, heads joined, out_proj)."""
    out, w = mha(q, kv, kv, attn_mask=mask, need_weights=True, average_attn_weights=False)
    B, Lk, D = kv.shape
    H = mha.num_heads
    v = nn.functional.linear(kv, mha.in_proj_weight[2 * D:], mha.in_proj_bias[2 * D:])
    v = v.view(B, Lk, H, D // H).transpose(1, 2)  # [B, H, Lk, D/H]
    joined = (w @ v).transpose(1, 2).reshape(B, q.shape[1], D)
    again = mha.out_proj(joined)
    assert torch.allclose(out, again, rtol=1e-4, atol=1e-5), float((out - again).abs().max())
    return out, w


def _encoder(model, x):
    """Patch tokens -> (memory [1, N, D], attention [L, H, N, N])."""
    h = model.patch_embed(x).flatten(2).transpose(1, 2) + model.pos_embed
    attn = []
    for layer in model.encoder:  # norm_first: x + SA(LN1 x), then x + FF(LN2 x)
        y = layer.norm1(h)
        out, w = _attention(layer.self_attn, y, y)
        h = h + out
        h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        attn.append(w[0])
    return model.encoder_norm(h), torch.stack(attn)


def _decoder(model, tokens, memory):
    """Token ids [1, L] -> (logits [L, V], self-attention and
    cross-attention: lists over layers of [H, L, L] and [H, L, N])."""
    L = tokens.shape[1]
    h = model.token_embed(tokens) + model.token_pos[:L]
    causal = torch.triu(torch.full((L, L), float("-inf")), diagonal=1)
    sa, ca = [], []
    for layer in model.decoder:  # x + SA(LN1 x), x + CA(LN2 x, memory), x + FF(LN3 x)
        y = layer.norm1(h)
        out, w = _attention(layer.self_attn, y, y, causal)
        h = h + out
        y = layer.norm2(h)
        out, c = _attention(layer.multihead_attn, y, memory)
        h = h + out
        h = h + layer.linear2(layer.activation(layer.linear1(layer.norm3(h))))
        sa.append(w[0])
        ca.append(c[0])
    return model.head(model.decoder_norm(h))[0], sa, ca


def preprocess(model, rgb):
    cfg = model.cfg
    rgb = np.asarray(rgb)
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8, (rgb.shape, rgb.dtype)
    size = cfg["image_size"]
    if rgb.shape[:2] != (size, size):
        from PIL import Image
        rgb = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float()[None] / 255.0
    mean = torch.tensor(cfg["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(cfg["std"], dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def caption(model, rgb):
    cfg = model.cfg
    vocab, T_max = cfg["vocab"], cfg["max_tokens"]
    memory, enc_attn = _encoder(model, preprocess(model, rgb))
    ids, step_logits = [cfg["bos"]], []
    while len(ids) <= T_max:  # position len(ids)-1 < T_max predicts the next word
        logits, _, _ = _decoder(model, torch.tensor([ids]), memory)
        step_logits.append(logits[-1].double().numpy())
        nxt = int(logits[-1].argmax())
        if nxt == cfg["eos"]:
            break
        ids.append(nxt)
        if len(ids) - 1 == T_max:
            break
    words = [vocab[i] for i in ids[1:]]
    T = len(words)
    # One pass over the whole caption gives every step's attention (causal:
    # row t only sees inputs 0..t, exactly as when word t was generated).
    inputs = ids[:T_max]
    logits, sa, ca = _decoder(model, torch.tensor([inputs]), memory)
    assert np.allclose(logits.double().numpy(), np.stack(step_logits)[:len(inputs)], rtol=1e-4, atol=1e-4)
    return {"tokens": words,
            "logits": np.stack(step_logits).astype(np.float64),
            "encoder_attention": enc_attn.numpy().astype(np.float32),
            "decoder_attention": [a[:, :T, :T].numpy().astype(np.float32) for a in sa],
            "cross_attention": [c[:, :T, :].numpy().astype(np.float32) for c in ca],
            "word_maps": ca[-1][:, :T, :].mean(0).numpy().astype(np.float32)}


def main():
    ap = argparse.ArgumentParser(description="Caption one image with the attnscope captioner.")
    ap.add_argument("image")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="model folder (default: assets/captioner)")
    ap.add_argument("--checkpoint", type=int, default=None, help="a checkpoint step instead of the final weights")
    args = ap.parse_args()
    from PIL import Image
    torch.set_num_threads(1)
    rgb = np.asarray(Image.open(args.image).convert("RGB"))
    out = caption(load(args.model, args.checkpoint), rgb)
    print(" ".join(out["tokens"]))


if __name__ == "__main__":
    sys.exit(main())
