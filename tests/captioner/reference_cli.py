#!/usr/bin/python3
"""The PyTorch reference captioner (tests/torch/captioner_reference.py) behind
the command line that tests/captioner/evaluate.py expects of attnscope-cli:

  reference_cli.py caption --image SCENE.png --maps-out M.npy [--model DIR] [--checkpoint STEP]

prints the greedy caption on one line (words separated by single spaces) and
writes M.npy, float32 [T, ROWS, COLS]: for printed word t, the last decoder
layer's cross-attention averaged over its heads at the decoder position that
predicts word t (ROWS = COLS = image_size / patch).

  tests/captioner/evaluate.py --cli tests/captioner/reference_cli.py"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "torch"))
import captioner_reference as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["caption"])
    ap.add_argument("--image", required=True)
    ap.add_argument("--maps-out", required=True)
    ap.add_argument("--model", default=ref.DEFAULT_MODEL)
    ap.add_argument("--checkpoint", type=int, default=None)
    args = ap.parse_args()
    import torch
    from PIL import Image
    torch.set_num_threads(1)
    model = ref.load(args.model, args.checkpoint)
    out = ref.caption(model, np.asarray(Image.open(args.image).convert("RGB")))
    g = model.cfg["image_size"] // model.cfg["patch"]
    maps = out["word_maps"].reshape(len(out["tokens"]), g, g).astype(np.float32)
    np.save(args.maps_out, maps)
    print(" ".join(out["tokens"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
