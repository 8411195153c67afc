#!/usr/bin/python3
"""A second, independent renderer of the captioner's scenes, written from the
written spec alone, and the checks the captioner's evaluation uses.

The spec: 128x128 RGB; a background of one colour (each channel in [170, 255])
plus per-pixel Gaussian noise with sigma <= 8 levels; 1 to 3 objects, each a
different (colour, shape) pair; shapes circle (filled disc), square
(axis-aligned), triangle (filled, isosceles, apex up, base horizontal);
colours red (220, 40, 40), green (40, 170, 60), blue (40, 70, 220), yellow
(230, 200, 40), each channel jittered by up to +-20; bounding-box side 24-40
px, fully inside the image, boxes at least 4 px apart; anti-aliased or not.

How this renderer reads the spec where it leaves room (see also caption_ok):
- Continuous coordinates: pixel (row i, column j) is the unit square
  [j, j+1] x [i, i+1], its centre at (j + 0.5, i + 0.5); y grows downwards.
- A box is (x0, y0, side), covering [x0, x0+side] x [y0, y0+side]. The
  circle's diameter, the square's side and the triangle's base and height are
  all `side`; the triangle's apex is (x0 + side/2, y0), its base the box's
  bottom edge. An object's centre is its box's centre (for the triangle too,
  not its centroid).
- Hard-edged scenes: integer sides and positions; a pixel belongs to a shape
  when its centre is inside (or on the edge). Anti-aliased scenes: real
  sides and positions; coverage is analytic: the square's exact area of
  overlap with the pixel, the disc's and the triangle's clamp(0.5 - d) with d
  the exact signed distance from the pixel centre to the shape's outline
  (no supersampling).
- The noise belongs to the background: the objects are flat colours
  composited over the noisy background with their coverage. Noise is drawn
  independently per pixel and per channel; sigma is 0 in 1 scene of 8,
  otherwise uniform in (0, 8].
- Positions come from rejection sampling: each object's box is drawn
  uniformly where it fits in the image, and redrawn until it is at least 4 px
  from every box already placed along x or along y (the gap between two boxes
  is the larger of their x gap and their y gap).
- Randomness: numpy Generators over Philox, one stream each for the layout,
  the colours and the noise, all spawned from the scene's seed.

usage: scenes_alt.py --out DIR [--count N] [--first-seed S]
writes DIR/scene_SEED.png for each scene and DIR/scenes.json (the metadata of
every scene, masks left out: render(seed) recomputes them)."""
import argparse
import itertools
import json
import os
import sys

import numpy as np

SIZE = 128
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 70, 220),
    "yellow": (230, 200, 40),
}
SHAPES = ("circle", "square", "triangle")
PAIRS = tuple(itertools.product(COLOURS, SHAPES))
JITTER = 20
SIDE_MIN, SIDE_MAX = 24, 40
MIN_GAP = 4
BACKGROUND_MIN, BACKGROUND_MAX = 170, 255
SIGMA_MAX = 8.0
RELATIONS = ("left of", "right of", "above", "below")
# Distinguishes this renderer's streams from anything else seeded with the
# same integers.
STREAM_TAG = 0x5CE4E5A17


def _streams(seed):
    children = np.random.SeedSequence([int(seed), STREAM_TAG]).spawn(3)
    return [np.random.Generator(np.random.Philox(c)) for c in children]


def box_gap(a, b):
    """The gap between two boxes (x0, y0, side): the larger of the gap along
    x and the gap along y (negative when they overlap along both)."""
    ax, ay, aside = a
    bx, by, bside = b
    gap_x = max(bx - (ax + aside), ax - (bx + bside))
    gap_y = max(by - (ay + aside), ay - (by + bside))
    return max(gap_x, gap_y)


def _layout(rng, count, antialiased):
    """Boxes for `count` objects, by rejection sampling."""
    while True:
        boxes = []
        for _ in range(count):
            for _attempt in range(200):
                if antialiased:
                    side = float(rng.uniform(SIDE_MIN, SIDE_MAX))
                    x0 = float(rng.uniform(0.0, SIZE - side))
                    y0 = float(rng.uniform(0.0, SIZE - side))
                else:
                    side = int(rng.integers(SIDE_MIN, SIDE_MAX, endpoint=True))
                    x0 = int(rng.integers(0, SIZE - side, endpoint=True))
                    y0 = int(rng.integers(0, SIZE - side, endpoint=True))
                box = (x0, y0, side)
                if all(box_gap(box, other) >= MIN_GAP for other in boxes):
                    boxes.append(box)
                    break
            else:
                break  # this object found no room: start the layout again
        if len(boxes) == count:
            return boxes


def _pixel_centres():
    c = np.arange(SIZE, dtype=np.float64) + 0.5
    return np.meshgrid(c, c)  # x varies along columns, y along rows


def _segment_distance(px, py, a, b):
    (ax, ay), (bx, by) = a, b
    ex, ey = bx - ax, by - ay
    t = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    return np.hypot(px - (ax + t * ex), py - (ay + t * ey))


def coverage(shape, box, antialiased):
    """The shape's coverage of every pixel, float64 [128, 128] in [0, 1]."""
    x0, y0, side = box
    px, py = _pixel_centres()
    if shape == "square":
        if not antialiased:
            inside = (px >= x0) & (px <= x0 + side) & (py >= y0) & (py <= y0 + side)
            return inside.astype(np.float64)
        edges = np.arange(SIZE, dtype=np.float64)
        ox = np.clip(np.minimum(edges + 1, x0 + side) - np.maximum(edges, x0), 0.0, 1.0)
        oy = np.clip(np.minimum(edges + 1, y0 + side) - np.maximum(edges, y0), 0.0, 1.0)
        return np.outer(oy, ox)
    if shape == "circle":
        r = side / 2
        d = np.hypot(px - (x0 + r), py - (y0 + r)) - r
        if not antialiased:
            # Squared distances: exact for the integer and half-integer
            # coordinates of hard-edged scenes.
            inside = (px - (x0 + r)) ** 2 + (py - (y0 + r)) ** 2 <= r * r
            return inside.astype(np.float64)
        return np.clip(0.5 - d, 0.0, 1.0)
    if shape == "triangle":
        apex = (x0 + side / 2, y0)
        left, right = (x0, y0 + side), (x0 + side, y0 + side)
        # Outward half-planes, unnormalised: <= 0 inside. The side edges
        # rise 2 for every 1 across (base = height).
        h_base = py - (y0 + side)
        h_left = -2 * (px - apex[0]) - (py - apex[1])
        h_right = 2 * (px - apex[0]) - (py - apex[1])
        inside = (h_base <= 0) & (h_left <= 0) & (h_right <= 0)
        if not antialiased:
            return inside.astype(np.float64)
        dist = np.minimum.reduce([
            _segment_distance(px, py, apex, left),
            _segment_distance(px, py, left, right),
            _segment_distance(px, py, right, apex),
        ])
        d = np.where(inside, -dist, dist)
        return np.clip(0.5 - d, 0.0, 1.0)
    raise ValueError(f"unknown shape {shape!r}")


def scene(seed):
    """The scene's description without pixels: a dict with seed, antialiased,
    background (r, g, b), sigma and objects (colour, shape, rgb, box, centre)."""
    layout_rng, colour_rng, _ = _streams(seed)
    count = int(layout_rng.integers(1, 3, endpoint=True))
    antialiased = bool(layout_rng.integers(0, 2))
    picks = layout_rng.choice(len(PAIRS), size=count, replace=False)
    boxes = _layout(layout_rng, count, antialiased)
    background = tuple(int(v) for v in colour_rng.integers(BACKGROUND_MIN, BACKGROUND_MAX, size=3, endpoint=True))
    sigma = 0.0 if colour_rng.integers(0, 8) == 0 else float(SIGMA_MAX - colour_rng.uniform(0.0, SIGMA_MAX))
    objects = []
    for pick, box in zip(picks, boxes):
        colour, shape = PAIRS[pick]
        jitter = colour_rng.integers(-JITTER, JITTER, size=3, endpoint=True)
        rgb = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(COLOURS[colour], jitter))
        x0, y0, side = box
        objects.append({
            "colour": colour,
            "shape": shape,
            "rgb": rgb,
            "box": box,
            "centre": (x0 + side / 2, y0 + side / 2),
        })
    return {"seed": int(seed), "antialiased": antialiased, "background": background,
            "sigma": sigma, "objects": objects}


def render_scene(seed):
    """(rgb uint8 [128, 128, 3], scene dict); each object gains its coverage
    "mask", float64 [128, 128]."""
    desc = scene(seed)
    noise_rng = _streams(seed)[2]
    image = np.empty((SIZE, SIZE, 3), dtype=np.float64)
    image[:] = desc["background"]
    if desc["sigma"] > 0:
        image += noise_rng.normal(0.0, desc["sigma"], size=image.shape)
    for obj in desc["objects"]:
        mask = coverage(obj["shape"], obj["box"], desc["antialiased"])
        obj["mask"] = mask
        a = mask[:, :, None]
        image = image * (1.0 - a) + np.asarray(obj["rgb"], dtype=np.float64) * a
    rgb = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return rgb, desc


def render(seed):
    """(rgb uint8 [128, 128, 3], objects): each object a dict with colour,
    shape, rgb (its jittered colour), box (x0, y0, side), centre (cx, cy) and
    mask (coverage, float64 [128, 128])."""
    rgb, desc = render_scene(seed)
    return rgb, desc["objects"]


# ---------------------------------------------------------------- captions

def relation(first, second):
    """The first object's relation to the second, from their centres:
    horizontal when |dx| >= |dy| (a tie is horizontal)."""
    dx = first["centre"][0] - second["centre"][0]
    dy = first["centre"][1] - second["centre"][1]
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def valid_captions(objects):
    """Every caption the spec allows for the scene (a set of strings). Written
    apart from caption_ok, which parses; the self-tests hold the two to each
    other."""
    phrase = {id(o): f"a {o['colour']} {o['shape']}" for o in objects}
    out = set()
    for order in itertools.permutations(objects):
        if len(order) == 1:
            out.add(phrase[id(order[0])])
        elif len(order) == 2:
            out.add(f"{phrase[id(order[0])]} {relation(order[0], order[1])} {phrase[id(order[1])]}")
        elif len(order) == 3:
            out.add(f"{phrase[id(order[0])]} , {phrase[id(order[1])]} and {phrase[id(order[2])]}")
    return out


def _parse_phrase(tokens, i):
    """(colour, shape), or raises ValueError naming the token at fault."""
    if i >= len(tokens):
        raise ValueError(f"caption ends where an object phrase 'a COLOUR SHAPE' should start (token {i})")
    if tokens[i] != "a":
        raise ValueError(f"token {i} is {tokens[i]!r}, expected 'a'")
    if i + 1 >= len(tokens) or tokens[i + 1] not in COLOURS:
        got = tokens[i + 1] if i + 1 < len(tokens) else "the end"
        raise ValueError(f"token {i + 1} is {got!r}, expected a colour ({', '.join(COLOURS)})")
    if i + 2 >= len(tokens) or tokens[i + 2] not in SHAPES:
        got = tokens[i + 2] if i + 2 < len(tokens) else "the end"
        raise ValueError(f"token {i + 2} is {got!r}, expected a shape ({', '.join(SHAPES)})")
    return tokens[i + 1], tokens[i + 2]


def parse_caption(caption):
    """The caption's structure: (phrases [(colour, shape), ...], relation or
    None). Raises ValueError with the reason when it is not a caption of the
    spec's grammar, whatever the scene."""
    if not isinstance(caption, str):
        raise ValueError(f"caption is a {type(caption).__name__}, not a string")
    if caption == "":
        raise ValueError("empty caption")
    if caption != caption.strip(" ") or "  " in caption:
        raise ValueError("tokens must be separated by single spaces, none leading or trailing")
    if any(ch.isspace() and ch != " " for ch in caption):
        raise ValueError("whitespace other than single spaces")
    if caption != caption.lower():
        raise ValueError("not lower case")
    tokens = caption.split(" ")
    phrases = [_parse_phrase(tokens, 0)]
    i = 3
    if i == len(tokens):
        return phrases, None
    if tokens[i] == ",":
        phrases.append(_parse_phrase(tokens, i + 1))
        if i + 4 >= len(tokens) or tokens[i + 4] != "and":
            got = tokens[i + 4] if i + 4 < len(tokens) else "the end"
            raise ValueError(f"token {i + 4} is {got!r}, expected 'and' after 'a COLOUR SHAPE , a COLOUR SHAPE'")
        phrases.append(_parse_phrase(tokens, i + 5))
        end, rel = i + 8, None
    else:
        if tokens[i] in ("left", "right"):
            if i + 1 >= len(tokens) or tokens[i + 1] != "of":
                raise ValueError(f"{tokens[i]!r} must be followed by 'of'")
            rel, nxt = f"{tokens[i]} of", i + 2
        elif tokens[i] in ("above", "below"):
            rel, nxt = tokens[i], i + 1
        else:
            raise ValueError(f"token {i} is {tokens[i]!r}, expected a relation "
                             f"({', '.join(RELATIONS)}) or ','")
        phrases.append(_parse_phrase(tokens, nxt))
        end = nxt + 3
    if end != len(tokens):
        raise ValueError(f"extra tokens after the last object: {' '.join(tokens[end:])!r}")
    return phrases, rel


def _find(objects, colour, shape):
    for obj in objects:
        if obj["colour"] == colour and obj["shape"] == shape:
            return obj
    return None


def caption_ok(caption, objects):
    """(True, "") when `caption` is exactly one of the spec's captions for the
    scene, else (False, the first reason found)."""
    try:
        phrases, rel = parse_caption(caption)
    except ValueError as e:
        return False, str(e)
    if len(phrases) != len(objects):
        return False, f"names {len(phrases)} object(s), the scene has {len(objects)}"
    named = []
    for colour, shape in phrases:
        obj = _find(objects, colour, shape)
        if obj is None:
            present = ", ".join(f"{o['colour']} {o['shape']}" for o in objects)
            return False, f"no {colour} {shape} in the scene (it has: {present})"
        if any(o is obj for o in named):
            return False, f"names the {colour} {shape} twice"
        named.append(obj)
    if rel is not None:
        truth = relation(named[0], named[1])
        if rel != truth:
            dx = named[0]["centre"][0] - named[1]["centre"][0]
            dy = named[0]["centre"][1] - named[1]["centre"][1]
            return False, (f"the {phrases[0][0]} {phrases[0][1]} is {truth} the {phrases[1][0]} "
                           f"{phrases[1][1]}, not {rel} (dx {dx:g}, dy {dy:g})")
    return True, ""


# ---------------------------------------------------------------- grounding

def covered_patches(mask, patch):
    """bool [rows, cols]: a patch is covered when at least one of its pixels
    has coverage >= 0.5."""
    mask = np.asarray(mask)
    h, w = mask.shape
    if patch <= 0 or h % patch or w % patch:
        raise ValueError(f"patch {patch} does not divide the {h}x{w} mask")
    return (mask >= 0.5).reshape(h // patch, patch, w // patch, patch).any(axis=(1, 3))


def grounding(maps, tokens, objects, patch):
    """(mean, per_word) for the caption's colour and shape words: each word's
    share of its map (map / map.sum()) on the patches covered by the object
    its phrase names, the phrase being the word's adjacent colour-shape pair
    matched to the scene by colour and shape. A word with no such pair or
    whose pair names no object of the scene scores 0, as does a map summing
    to 0. per_word: [(token index, word, share)]; mean is their mean, 0.0
    when the caption has no colour or shape word.

    maps: [T, rows, cols] with map t belonging to token t; tokens: the
    caption's tokens (a string is split on single spaces)."""
    if isinstance(tokens, str):
        tokens = tokens.split(" ")
    maps = np.asarray(maps, dtype=np.float64)
    size = objects[0]["mask"].shape if objects else (SIZE, SIZE)
    rows, cols = size[0] // patch, size[1] // patch
    if maps.ndim != 3 or maps.shape != (len(tokens), rows, cols):
        raise ValueError(f"maps have shape {maps.shape}, expected ({len(tokens)}, {rows}, {cols})")
    if not np.isfinite(maps).all():
        raise ValueError("maps hold a non-finite value")
    if (maps < 0).any():
        raise ValueError("maps hold a negative value")
    covered = {id(o): covered_patches(o["mask"], patch) for o in objects}
    per_word = []
    for t, word in enumerate(tokens):
        if word in COLOURS:
            pair = (word, tokens[t + 1]) if t + 1 < len(tokens) and tokens[t + 1] in SHAPES else None
        elif word in SHAPES:
            pair = (tokens[t - 1], word) if t > 0 and tokens[t - 1] in COLOURS else None
        else:
            continue
        obj = _find(objects, *pair) if pair else None
        total = maps[t].sum()
        share = float(maps[t][covered[id(obj)]].sum() / total) if obj is not None and total > 0 else 0.0
        per_word.append((t, word, share))
    mean = float(np.mean([s for _, _, s in per_word])) if per_word else 0.0
    return mean, per_word


# ---------------------------------------------------------------- main

def describe(desc):
    """The scene's metadata for JSON: no masks."""
    objects = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items() if k != "mask"}
               for o in desc["objects"]]
    return {"seed": desc["seed"], "antialiased": desc["antialiased"],
            "background": list(desc["background"]), "sigma": desc["sigma"],
            "objects": objects, "captions": sorted(valid_captions(desc["objects"]))}


def write_png(path, rgb):
    from PIL import Image
    Image.fromarray(rgb, "RGB").save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the PNGs and scenes.json")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    meta = []
    for seed in range(args.first_seed, args.first_seed + args.count):
        rgb, desc = render_scene(seed)
        name = f"scene_{seed}.png"
        write_png(os.path.join(args.out, name), rgb)
        meta.append({"file": name, **describe(desc)})
    with open(os.path.join(args.out, "scenes.json"), "w") as f:
        json.dump({"size": SIZE, "scenes": meta}, f, indent=1)
    print(f"wrote {len(meta)} scenes to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
