#!/usr/bin/env python3
"""attnscope's engine against the references users would otherwise use, in
one run on one machine: NumPy's sgemm (the machine's practical matrix-
multiply rate), PyTorch's attention, torchvision's VisionTransformer, and
`attnscope-cli bench` on the same shapes and the same ViT weights.

usage: bench/compare.py build/attnscope-cli [--threads 2] [--repeats 5] [--quick]

Prints a table of times, rates and ratios against the targets of issues 5 and 12,
then the same as Markdown for bench/RESULTS.md. --quick uses smaller shapes
(a smoke test; its ratios are not the targets'). Needs Debian's
python3-numpy, python3-torch and python3-torchvision (with OpenBLAS
installed, as third_party/install-deps.sh does: without it NumPy and PyTorch
fall back to the reference BLAS and every ratio flatters attnscope)."""
import datetime
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def write_safetensors(state, path):
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        a = np.ascontiguousarray(t.numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def timm_names(tv_state, registers=0):
    """A torchvision VisionTransformer's weights in timm's names (the names
    DINOv2-with-registers checkpoints use), with `registers` register tokens
    (random: they change the token count, not the cost per token)."""
    sd = {k: v.numpy() for k, v in tv_state.items()}
    t = {"cls_token": sd["class_token"], "pos_embed": sd["encoder.pos_embedding"],
         "patch_embed.proj.weight": sd["conv_proj.weight"], "patch_embed.proj.bias": sd["conv_proj.bias"],
         "norm.weight": sd["encoder.ln.weight"], "norm.bias": sd["encoder.ln.bias"]}
    i = 0
    while f"encoder.layers.encoder_layer_{i}.ln_1.weight" in sd:
        s, b = f"encoder.layers.encoder_layer_{i}.", f"blocks.{i}."
        for p in ("weight", "bias"):
            t[f"{b}norm1.{p}"], t[f"{b}norm2.{p}"] = sd[f"{s}ln_1.{p}"], sd[f"{s}ln_2.{p}"]
            t[f"{b}attn.proj.{p}"] = sd[f"{s}self_attention.out_proj.{p}"]
            t[f"{b}mlp.fc1.{p}"], t[f"{b}mlp.fc2.{p}"] = sd[f"{s}mlp.0.{p}"], sd[f"{s}mlp.3.{p}"]
        t[b + "attn.qkv.weight"] = sd[s + "self_attention.in_proj_weight"]
        t[b + "attn.qkv.bias"] = sd[s + "self_attention.in_proj_bias"]
        i += 1
    if registers:
        width = sd["class_token"].shape[-1]
        t["reg_token"] = np.random.default_rng(0).standard_normal((1, registers, width)).astype(np.float32)
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in t.items()}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ours(cli, threads, repeats, **kw):
    cmd = [cli, "bench", "--json", "--threads", str(threads), "--repeats", str(repeats)]
    for k, v in kw.items():
        cmd += ["--" + k.replace("_", "-")] + ([] if v is True else [str(v)])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"compare.py: {' '.join(cmd)} failed: {r.stderr.strip()}")
    out = json.loads(r.stdout)
    return out, {c["name"]: c for c in out["cases"]}


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    cli = os.path.abspath(sys.argv[1])
    threads, repeats, quick = arg("--threads", 2), arg("--repeats", 5), "--quick" in sys.argv
    torch.set_num_threads(threads)
    n, big, huge, heads, d = (1024, 2048, 8192, 8, 64) if quick else (4096, 16384, 65536, 8, 64)
    flops = 4.0 * heads * n * n * d
    rows = []  # (what, value, target, met)

    # NumPy's sgemm: the machine's practical rate on these threads.
    g = 2048 if quick else 4096
    a = np.random.default_rng(0).standard_normal((g, g), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((g, g), dtype=np.float32)
    sgemm = 2.0 * g ** 3 / (timed(lambda: a @ b, repeats) * 1e6)

    # PyTorch: softmax(QKᵀ/√d)V with the weights, as users write it.
    torch.manual_seed(0)
    q, k, v = (torch.randn(heads, n, d) for _ in range(3))

    def torch_attention():
        w = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1)
        return w @ v, w

    torch_ms = timed(torch_attention, repeats)
    fused_ms = None
    if hasattr(torch.nn.functional, "_scaled_dot_product_attention"):  # 1.13's fused kernel
        try:
            f = torch.nn.functional._scaled_dot_product_attention
            fused_ms = timed(lambda: f(q[None], k[None], v[None], None, 0.0, True, False), repeats)
        except (RuntimeError, TypeError):
            fused_ms = None

    # torchvision's ViT-S/16 and the same weights through safetensors.
    model = torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=6,
                                                 hidden_dim=384, mlp_dim=1536).eval()
    tmp = tempfile.mkdtemp(prefix="attnscope-compare-")
    weights = os.path.join(tmp, "vit_s16.safetensors")
    write_safetensors(model.state_dict(), weights)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        tv_ms = timed(lambda: model(x), repeats)

    info, main_cases = ours(cli, threads, repeats, n=n, heads=heads, d_head=d,
                            cases="gemm,full,output,row,renorm,vit", vit=weights, vit_heads=6)
    _, big_cases = ours(cli, threads, max(2, repeats // 2), n=big, heads=heads, d_head=d, cases="output")
    _, huge_cases = ours(cli, threads, repeats, n=huge, heads=heads, d_head=d, cases="row")

    # Issue 12: ViT-B/16 at 224 (torchvision's vit_b_16 shape), and the
    # ViT-L/14 shape of DINOv2-L with 4 registers at 518 x 518 (1,374 tokens;
    # torchvision's has no registers: 1,370), every map kept, the blocks read
    # from the file as the forward pass reaches them (as attnscope-cli vit
    # does), in a process of its own for its peak memory.
    vit_b = torchvision.models.vit_b_16().eval()
    weights_b = os.path.join(tmp, "vit_b16.safetensors")
    write_safetensors(vit_b.state_dict(), weights_b)
    with torch.no_grad():
        tv_b_ms = timed(lambda: vit_b(x), repeats)
    del vit_b
    _, b_cases = ours(cli, threads, repeats, cases="vit", vit=weights_b, vit_heads=12)
    large = 224 if quick else 518
    vit_l = torchvision.models.VisionTransformer(image_size=large, patch_size=14, num_layers=24, num_heads=16,
                                                 hidden_dim=1024, mlp_dim=4096).eval()
    x_l = torch.randn(1, 3, large, large)
    with torch.no_grad():
        tv_l_ms = timed(lambda: vit_l(x_l), 1)
    weights_l = os.path.join(tmp, "vit_l14_reg4.safetensors")
    write_safetensors(timm_names(vit_l.state_dict(), registers=4), weights_l)
    del vit_l
    l_info, l_cases = ours(cli, threads, 1, cases="vit", vit=weights_l, vit_heads=16, vit_size=large, vit_stream=True)
    os.remove(weights_l)
    vit_b_case, vit_b_open = b_cases["ViT forward, 224 x 224"], b_cases["ViT open the weights"]
    vit_l_case = l_cases[f"ViT forward, {large} x {large}"]
    b_mb = os.path.getsize(weights_b) / 1e6

    full = main_cases["full attention, weights kept"]
    out = main_cases["output only (online softmax)"]
    out_big = big_cases["output only (online softmax)"]
    row = main_cases["one query row, all heads"]
    row_huge = huge_cases["one query row, all heads"]
    ren_row = main_cases["renormalise one row, all heads"]
    ren = main_cases["renormalise H x N x N"]
    vit = main_cases["ViT forward, 224 x 224"]

    def add(what, value, target, met):
        rows.append((what, value, target, "yes" if met else "NO"))

    add(f"1. full attention + weights, N={n}: rate vs sgemm", f"{full['gflops'] / sgemm:.0%} "
        f"({full['gflops']:.0f} of {sgemm:.0f} GFLOP/s)", ">= 70%", full["gflops"] >= 0.7 * sgemm)
    add(f"1. full attention + weights, N={n}: vs PyTorch", f"{torch_ms / full['ms']:.1f}x faster "
        f"({full['ms']:.0f} vs {torch_ms:.0f} ms)", ">= 3x", torch_ms >= 3 * full["ms"])
    add(f"2. output only, N={n}: rate vs sgemm", f"{out['gflops'] / sgemm:.0%} ({out['gflops']:.0f} GFLOP/s)",
        ">= 75%", out["gflops"] >= 0.75 * sgemm)
    add(f"2. output only, N={big}: rate vs sgemm", f"{out_big['gflops'] / sgemm:.0%} ({out_big['gflops']:.0f} GFLOP/s)",
        ">= 75%", out_big["gflops"] >= 0.75 * sgemm)
    add(f"3. one query row, all heads, N={n}", f"{row['ms']:.3f} ms", "<= 1 ms", row["ms"] <= 1)
    add(f"3. one query row, all heads, N={huge}", f"{row_huge['ms']:.2f} ms", "<= 10 ms", row_huge["ms"] <= 10)
    add(f"4. renormalise one row, all heads, N={n}", f"{ren_row['ms']:.3f} ms", "<= 1 ms", ren_row["ms"] <= 1)
    add(f"4. renormalise H x N x N, N={n}, H={heads}", f"{ren['ms']:.1f} ms", "<= 60 ms", ren["ms"] <= 60)
    add("5. ViT-S/16 224x224 vs torchvision", f"{tv_ms / vit['ms']:.1f}x faster ({vit['ms']:.1f} vs {tv_ms:.1f} ms)",
        ">= 4x", tv_ms >= 4 * vit["ms"])

    add("12. ViT-B/16 224x224 vs torchvision", f"{tv_b_ms / vit_b_case['ms']:.1f}x faster "
        f"({vit_b_case['ms']:.1f} vs {tv_b_ms:.1f} ms)", ">= 4x", tv_b_ms >= 4 * vit_b_case["ms"])
    add(f"12. ViT-L/14 + 4 registers {large}x{large}: rate vs sgemm", f"{vit_l_case['gflops'] / sgemm:.0%} "
        f"({vit_l_case['gflops']:.0f} GFLOP/s, {vit_l_case['ms'] / 1000:.1f} s)", ">= 60%",
        vit_l_case["gflops"] >= 0.6 * sgemm)
    add(f"12. ViT-L/14 + 4 registers {large}x{large} vs torchvision", f"{tv_l_ms / vit_l_case['ms']:.1f}x faster "
        f"({vit_l_case['ms'] / 1000:.1f} vs {tv_l_ms / 1000:.1f} s)", ">= 2x", tv_l_ms >= 2 * vit_l_case["ms"])
    add(f"12. ViT-L/14 + 4 registers {large}x{large}: peak memory", f"{l_info['peak_rss_mb']:.0f} MiB",
        "<= 2048 MiB", l_info["peak_rss_mb"] <= 2048)
    add(f"12. open a {b_mb:.0f} MB checkpoint (ViT-B/16 safetensors)", f"{vit_b_open['ms']:.0f} ms", "<= 1000 ms",
        vit_b_open["ms"] <= 1000)

    when = datetime.date.today().isoformat()
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs, {threads} threads; attnscope kernels {info['isa']}"
    refs = (f"NumPy sgemm {g}^3: {sgemm:.0f} GFLOP/s; PyTorch {torch.__version__} attention with weights: "
            f"{torch_ms:.0f} ms ({flops / (torch_ms * 1e6):.0f} GFLOP/s)"
            + (f"; its fused _scaled_dot_product_attention: {fused_ms:.0f} ms" if fused_ms else "")
            + f"; torchvision {torchvision.__version__} ViT-S/16: {tv_ms:.1f} ms, ViT-B/16: {tv_b_ms:.1f} ms, "
            f"ViT-L/14 at {large}: {tv_l_ms / 1000:.1f} s; attnscope's own sgemm 2048^3: "
            f"{main_cases['sgemm 2048^3']['gflops']:.0f} GFLOP/s")
    print(f"{when}: {machine}\n{refs}\n")
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]:<34} target {r[2]:<8} met: {r[3]}")
    print("\nMarkdown:\n")
    print(f"Run on {when}: {machine}.\n\n{refs}.\n")
    print("| target | measured | goal | met |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |")
    print("\n| attnscope case | median | rate | largest buffer |\n|---|---|---|---|")
    for cases in (main_cases, big_cases, huge_cases, b_cases, l_cases):
        for c in cases.values():
            rate = f"{c['gflops']:.0f} GFLOP/s" if c["gflops"] > 0 else ""
            print(f"| {c['name']} | {c['ms']:.3f} ms | {rate} | {c['bytes'] / 2**20:.1f} MiB |")
    if quick:
        print("\n(--quick: smaller shapes than the targets'; a smoke run only)")


if __name__ == "__main__":
    main()
