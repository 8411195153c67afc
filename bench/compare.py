#!/usr/bin/env python3
"""attnscope's engine against the references users would otherwise use, in
one run on one machine: NumPy's sgemm (the machine's practical matrix-
multiply rate), PyTorch's attention, torchvision's VisionTransformer, and
`attnscope-cli bench` on the same shapes and the same ViT weights.

usage: bench/compare.py build/attnscope-cli [--threads 2] [--repeats 5] [--quick]

Prints a table of times, rates and ratios against the targets of issue 5,
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
        cmd += ["--" + k.replace("_", "-"), str(v)]
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

    when = datetime.date.today().isoformat()
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs, {threads} threads; attnscope kernels {info['isa']}"
    refs = (f"NumPy sgemm {g}^3: {sgemm:.0f} GFLOP/s; PyTorch {torch.__version__} attention with weights: "
            f"{torch_ms:.0f} ms ({flops / (torch_ms * 1e6):.0f} GFLOP/s)"
            + (f"; its fused _scaled_dot_product_attention: {fused_ms:.0f} ms" if fused_ms else "")
            + f"; torchvision {torchvision.__version__} ViT-S/16: {tv_ms:.1f} ms; attnscope's own sgemm 2048^3: "
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
    for cases in (main_cases, big_cases, huge_cases):
        for c in cases.values():
            rate = f"{c['gflops']:.0f} GFLOP/s" if c["gflops"] > 0 else ""
            print(f"| {c['name']} | {c['ms']:.3f} ms | {rate} | {c['bytes'] / 2**20:.1f} MiB |")
    if quick:
        print("\n(--quick: smaller shapes than the targets'; a smoke run only)")


if __name__ == "__main__":
    main()
