#!/usr/bin/env python3
"""ViT-S/16 at 224x224 with random weights: attnscope's forward pass against
torchvision's VisionTransformer on the same weights, in one run.

usage: bench/vit_compare.py build/attnscope-cli [--threads 2] [--repeats 7]

Writes the torchvision weights as safetensors (by hand), runs torchvision's
forward (attention maps are not kept there; torchvision never computes them
for the caller) and `attnscope-cli vit` (which keeps all 12 x 6 maps), and
prints the median forward times and their ratio. Needs Debian's
python3-torch, python3-torchvision, python3-numpy and python3-pil."""
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision
from PIL import Image


def main():
    cli = os.path.abspath(sys.argv[1])
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 7
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=6,
                                                 hidden_dim=384, mlp_dim=1536).eval()
    tmp = tempfile.mkdtemp(prefix="attnscope-vit-bench-")
    weights, image = os.path.join(tmp, "vit_s16.safetensors"), os.path.join(tmp, "image.png")
    header, blobs, offset = {}, [], 0
    for name, t in model.state_dict().items():
        a = np.ascontiguousarray(t.numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header).encode()
    with open(weights, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(image)

    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        model(x)  # warm-up
        torch_ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            torch_ms.append((time.perf_counter() - t0) * 1000)
    ours_ms = []
    for _ in range(repeats + 1):
        r = subprocess.run([cli, "vit", "--weights", weights, "--image", image, "--heads", "6", "--keep-size",
                            "--attn-out", os.path.join(tmp, "a.npy")], capture_output=True, text=True, check=True)
        ours_ms.append(float(re.search(r"forward ([0-9.]+) ms", r.stdout).group(1)))
    ours_ms = ours_ms[1:]  # the first run warms the file cache
    t, o = statistics.median(torch_ms), statistics.median(ours_ms)
    # Debian's torch calls whatever libblas.so.3 the system selects: the
    # reference BLAS is ~25x slower than OpenBLAS, so say which one ran.
    blas = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"], capture_output=True,
                          text=True).stdout
    value = next((line.split(": ", 1)[1] for line in blas.splitlines() if line.startswith("Value: ")), "unknown")
    print(f"ViT-S/16, 224x224, 197 tokens, {threads} torch threads, median of {repeats}; BLAS: {value}")
    print(f"  torchvision VisionTransformer forward:        {t:8.1f} ms")
    print(f"  attnscope forward, all 72 attention maps kept: {o:8.1f} ms")
    print(f"  attnscope / torchvision time: {o / t:.2f} (below 1: attnscope is faster)")


if __name__ == "__main__":
    main()
