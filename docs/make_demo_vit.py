#!/usr/bin/python3
"""Writes a DINOv2-with-registers model of ViT-S/14's shape (width 384, 12
layers, 6 heads, patch 14, 4 registers, 16 x 16 positions) with RANDOM
weights, in Hugging Face's Dinov2WithRegistersModel names with its
config.json: what the README's screenshots of that family show. No trained
weights can be downloaded where attnscope is built; a random network still
attends more to patches that look alike, which is all these pictures claim.

usage: docs/make_demo_vit.py OUT_DIR [--seed S]"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "torch"))
import families_io as fio  # noqa: E402
import families_names as names  # noqa: E402
from families_models import Arch, random_weights  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    arch = Arch(384, 12, 6, 14, 16, 1536, registers=4, layerscale=True, resample="size_aa")
    # Embeddings of ordinary size (the tests use tiny ones to tell LayerNorm
    # epsilons apart); gentler query/key gains than the tests' for smooth maps.
    w = random_weights(arch, np.random.default_rng(seed), qk_gain=1.2, embed_scale=1.0, mlp_gain=1.0)
    os.makedirs(out, exist_ok=True)
    fio.write_safetensors(os.path.join(out, "model.safetensors"), names.dinov2_hf(w, arch))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(names.dinov2_hf_config(arch), f, indent=2)
    print(f"wrote {out}/model.safetensors and config.json (random weights, seed {seed})")


if __name__ == "__main__":
    main()
