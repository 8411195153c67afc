#!/usr/bin/python3
"""A stand-in for `attnscope-cli caption`, to test evaluate.py's plumbing: it
finds the scene's coloured blobs by thresholds, names each by its nearest
palette colour and its fill of its bounding box, and prints a caption; the
maps of colour and shape words sit on their blob's patches, the others are
uniform.

usage: fake_captioner.py caption --image SCENE.png --maps-out M.npy
environment: FAKE_PATCH (default 16): the maps' patch size;
FAKE_MODE: good (default); uniform (every map uniform); wrong (about one
scene in six gets a wrong colour); crash (about one scene in six exits 1);
badmaps (about one scene in six writes one map too few); FAKE_UNLUCKY=K
makes that one scene in K (1: every scene)."""
import argparse
import os
import sys
import zlib

import numpy as np
from PIL import Image

PALETTE = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (230, 200, 40)}


def components(fg):
    """4-connected labels of a bool image by repeated min-propagation."""
    big = fg.size + 1
    labels = np.where(fg, np.arange(fg.size).reshape(fg.shape), big)
    while True:
        m = labels.copy()
        m[1:, :] = np.minimum(m[1:, :], labels[:-1, :])
        m[:-1, :] = np.minimum(m[:-1, :], labels[1:, :])
        m[:, 1:] = np.minimum(m[:, 1:], labels[:, :-1])
        m[:, :-1] = np.minimum(m[:, :-1], labels[:, 1:])
        m = np.where(fg, m, big)
        if (m == labels).all():
            break
        labels = m
    return [labels == v for v in np.unique(labels[fg])]


def blobs(rgb):
    img = rgb.astype(np.float64)
    bg = np.median(img.reshape(-1, 3), axis=0)
    dist = np.linalg.norm(img - bg, axis=2)
    out = []
    for comp in components(dist > 45):
        if comp.sum() < 100:
            continue
        d = np.where(comp, dist, 0)
        core = d >= 0.9 * d.max()
        colour_rgb = np.median(img[core], axis=0)
        mask = comp & (d >= 0.5 * np.linalg.norm(colour_rgb - bg))
        ys, xs = np.nonzero(mask)
        w, h = xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()
        fill = mask.sum() / (w * h)
        shape = "square" if fill > 0.9 else "circle" if fill > 0.64 else "triangle"
        colour = min(PALETTE, key=lambda c: np.linalg.norm(np.asarray(PALETTE[c]) - colour_rgb))
        cx = (xs.min() + xs.max() + 1) / 2
        cy = ys.max() + 1 - w / 2 if shape == "triangle" else (ys.min() + ys.max() + 1) / 2
        out.append({"colour": colour, "shape": shape, "centre": (cx, cy), "mask": mask})
    return out


def relation(a, b):
    dx, dy = a["centre"][0] - b["centre"][0], a["centre"][1] - b["centre"][1]
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["caption"])
    ap.add_argument("--image", required=True)
    ap.add_argument("--maps-out", required=True)
    args = ap.parse_args()
    mode = os.environ.get("FAKE_MODE", "good")
    patch = int(os.environ.get("FAKE_PATCH", "16"))
    rgb = np.asarray(Image.open(args.image).convert("RGB"))
    unlucky = zlib.crc32(rgb.tobytes()) % int(os.environ.get("FAKE_UNLUCKY", "6")) == 0
    if mode == "crash" and unlucky:
        print(f"fake_captioner: cannot caption {args.image}", file=sys.stderr)
        return 1
    objs = blobs(rgb)
    if not objs:
        print(f"fake_captioner: no object found in {args.image}", file=sys.stderr)
        return 1
    objs = objs[:3]
    # Either object may be named first: the order follows the image's bytes.
    start = zlib.crc32(rgb.tobytes()[::7]) % len(objs)
    objs = objs[start:] + objs[:start]
    if mode == "wrong" and unlucky:
        objs[0] = dict(objs[0], colour="green" if objs[0]["colour"] != "green" else "red")
    phrases = [["a", o["colour"], o["shape"]] for o in objs]
    if len(objs) == 1:
        tokens, owners = phrases[0], [None, 0, 0]
    elif len(objs) == 2:
        rel = relation(objs[0], objs[1]).split(" ")
        tokens = phrases[0] + rel + phrases[1]
        owners = [None, 0, 0] + [None] * len(rel) + [None, 1, 1]
    else:
        tokens = phrases[0] + [","] + phrases[1] + ["and"] + phrases[2]
        owners = [None, 0, 0, None, None, 1, 1, None, None, 2, 2]
    rows, cols = rgb.shape[0] // patch, rgb.shape[1] // patch
    maps = np.full((len(tokens), rows, cols), 1.0 / (rows * cols), dtype=np.float32)
    if mode != "uniform":
        for t, owner in enumerate(owners):
            if owner is not None:
                cov = objs[owner]["mask"].reshape(rows, patch, cols, patch).any(axis=(1, 3))
                maps[t] = 0.02 / (rows * cols) + 0.98 * cov / cov.sum()
    if mode == "badmaps" and unlucky:
        maps = maps[:-1]
    np.save(args.maps_out, maps)
    print(" ".join(tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
