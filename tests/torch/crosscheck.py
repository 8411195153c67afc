#!/usr/bin/env python3
"""Cross-check against PyTorch, the reference users trust.

For fresh random inputs of many shapes, PyTorch (Debian's python3-torch)
computes softmax(QKᵀ/(√d·T))V per head, and torch.nn.MultiheadAttention with
given projection weights; attnscope-cli computes the same from the same .npy
files; the two must agree to a relative error of 1e-5 in float32
(max |ours - torch| / max |torch|).

usage: crosscheck.py PATH/TO/attnscope-cli"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

CLI = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="attnscope-torch-")
TOL = 1e-5
seed = int(os.environ.get("ATTNSCOPE_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
rng = np.random.default_rng(seed)
torch.manual_seed(seed)
results = {"passed": 0, "failed": 0}


def rel_error(ours, theirs):
    theirs = np.asarray(theirs, dtype=np.float64)
    return float(np.abs(np.asarray(ours, dtype=np.float64) - theirs).max() / max(np.abs(theirs).max(), 1e-6))


def check(name, err):
    ok = err <= TOL
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}: relative error {err:.2e}")


def save(name, a):
    path = os.path.join(TMP, name)
    np.save(path, np.asarray(a, dtype=np.float32))
    return path


def cli(*args):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"attnscope-cli failed: {r.stderr}")


def torch_attention(q, k, v, temperature=1.0, causal=False, score="scaled-dot", norm="softmax"):
    """q [H, Nq, d], k [H, Nk, d], v [H, Nk, dv] -> weights [H, Nq, Nk], output [H, Nq, dv] (float32)."""
    q, k, v = (torch.from_numpy(np.asarray(x, dtype=np.float32)) for x in (q, k, v))
    if score == "cosine":
        q = torch.nn.functional.normalize(q, dim=-1)
        k = torch.nn.functional.normalize(k, dim=-1)
    s = q @ k.transpose(-1, -2)
    if score == "scaled-dot":
        s = s / q.shape[-1] ** 0.5
    s = s / temperature
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool).triu(1), float("-inf"))
    if norm == "softmax":
        w = torch.softmax(s, dim=-1)
    else:  # sparsemax, by its sort-based closed form (Martins & Astudillo 2016)
        z, _ = torch.sort(s, dim=-1, descending=True)
        ks = torch.arange(1, s.shape[-1] + 1, dtype=s.dtype)
        cum = z.cumsum(-1)
        support = (1 + ks * z) > cum
        kz = support.sum(-1, keepdim=True)
        tau = (cum.gather(-1, kz - 1) - 1) / kz
        w = torch.clamp(s - tau, min=0)
    return w.numpy(), (w @ v).numpy()


def case_per_head(h, nq, nk, d, dv, t, causal=False, score="scaled-dot", norm="softmax", two_d=False):
    q, k, v = rng.standard_normal((h, nq, d)), rng.standard_normal((h, nk, d)), rng.standard_normal((h, nk, dv))
    w_ref, o_ref = torch_attention(q, k, v, t, causal, score, norm)
    w_out, o_out = os.path.join(TMP, "w.npy"), os.path.join(TMP, "o.npy")
    if two_d:  # [N, H*d]: the CLI splits the last dimension into heads
        args = ["--q", save("q.npy", q.transpose(1, 0, 2).reshape(nq, h * d)), "--k", save("k.npy", k.transpose(1, 0, 2).reshape(nk, h * d)),
                "--v", save("v.npy", v.transpose(1, 0, 2).reshape(nk, h * dv)), "--heads", h]
        o_ref = o_ref.transpose(1, 0, 2).reshape(nq, h * dv)
    else:
        args = ["--q", save("q.npy", q), "--k", save("k.npy", k), "--v", save("v.npy", v)]
    args += ["--temperature", t, "--score", score, "--norm", norm, "--weights-out", w_out, "--output-out", o_out]
    if causal:
        args += ["--mask", "causal"]
    cli("attend", *args)
    name = f"H={h} Nq={nq} Nk={nk} d={d} dv={dv} T={t} {score} {norm}{' causal' if causal else ''}{' 2-D' if two_d else ''}"
    check(f"weights {name}", rel_error(np.load(w_out), w_ref))
    check(f"output  {name}", rel_error(np.load(o_out), o_ref))


def case_multihead(e, h, nq, nk, bias=True):
    mha = torch.nn.MultiheadAttention(e, h, bias=bias, batch_first=True)
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    xq = torch.from_numpy(rng.standard_normal((1, nq, e)).astype(np.float32))
    xk = torch.from_numpy(rng.standard_normal((1, nk, e)).astype(np.float32))
    xv = torch.from_numpy(rng.standard_normal((1, nk, e)).astype(np.float32))
    with torch.no_grad():
        out, weights = mha(xq, xk, xv, need_weights=True, average_attn_weights=False)
    wq, wk, wv = mha.in_proj_weight.detach().numpy().reshape(3, e, e)
    args = ["--q", save("xq.npy", xq[0]), "--k", save("xk.npy", xk[0]), "--v", save("xv.npy", xv[0]), "--heads", h,
            "--wq", save("wq.npy", wq), "--wk", save("wk.npy", wk), "--wv", save("wv.npy", wv),
            "--wo", save("wo.npy", mha.out_proj.weight.detach()), "--weights-out", os.path.join(TMP, "w.npy"),
            "--output-out", os.path.join(TMP, "o.npy")]
    if bias:
        bq, bk, bv = mha.in_proj_bias.detach().numpy().reshape(3, e)
        args += ["--bq", save("bq.npy", bq), "--bk", save("bk.npy", bk), "--bv", save("bv.npy", bv),
                 "--bo", save("bo.npy", mha.out_proj.bias.detach())]
    cli("attend", *args)
    name = f"nn.MultiheadAttention E={e} H={h} Nq={nq} Nk={nk}{' bias' if bias else ''}"
    check(f"weights {name}", rel_error(np.load(os.path.join(TMP, "w.npy")), weights[0].numpy()))
    check(f"output  {name}", rel_error(np.load(os.path.join(TMP, "o.npy")), out[0].numpy()))


if __name__ == "__main__":
    print(f"seed {seed} (ATTNSCOPE_TEST_SEED={seed} replays), torch {torch.__version__}")
    torch.set_num_threads(1)
    try:
        for h, nq, nk, d, dv in [(1, 1, 1, 1, 1), (1, 7, 13, 5, 3), (4, 32, 32, 16, 16), (8, 50, 120, 64, 32), (3, 197, 197, 64, 64)]:
            for t in (0.5, 1.0, 4.0):
                case_per_head(h, nq, nk, d, dv, t)
        case_per_head(4, 40, 40, 8, 8, 1.0, causal=True)
        case_per_head(2, 30, 30, 16, 4, 0.7, causal=True, two_d=True)
        case_per_head(6, 20, 33, 12, 10, 1.0, two_d=True)
        case_per_head(2, 16, 24, 8, 8, 2.0, score="dot")
        case_per_head(2, 16, 24, 8, 8, 0.1, score="cosine")
        case_per_head(2, 16, 24, 8, 8, 1.0, norm="sparsemax")
        case_per_head(2, 16, 16, 8, 8, 0.5, causal=True, norm="sparsemax")
        case_multihead(16, 4, 10, 10)
        case_multihead(64, 8, 50, 77)
        case_multihead(24, 3, 9, 5, bias=False)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"torch_crosscheck: {results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
