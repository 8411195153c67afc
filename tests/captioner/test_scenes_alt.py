#!/usr/bin/python3
"""Self-tests of scenes_alt: the spec's invariants on 2000 scenes (the 500
evaluation seeds among them), caption_ok on hand-written right and wrong
captions, covered_patches on a hand-made mask, grounding on hand-made maps,
and the PNG + JSON writer.

usage: test_scenes_alt.py"""
import itertools
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import Results, run_tests  # noqa: E402
import scenes_alt as sa  # noqa: E402

TMP = tempfile.mkdtemp(prefix="attnscope-scenes-test-")
results = Results("scenes_alt")
check = results.check

BASE = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (230, 200, 40)}
INVARIANT_SEEDS = range(1_000_000, 1_002_000)


def gap(a, b):
    """Written apart from sa.box_gap: boxes (x0, y0, side) are >= g apart when
    one lies wholly left of, right of, above or below the other by >= g."""
    (ax, ay, as_), (bx, by, bs) = a, b
    return max(bx - ax - as_, ax - bx - bs, by - ay - as_, ay - by - bs)


def interior(mask):
    """Pixels of full coverage whose 8 neighbours are all fully covered too."""
    full = mask >= 1.0
    out = full.copy()
    out[0, :] = out[-1, :] = out[:, 0] = out[:, -1] = False
    for dy, dx in itertools.product((-1, 0, 1), repeat=2):
        out[1:-1, 1:-1] &= full[1 + dy:127 + dy, 1 + dx:127 + dx]
    return out


def test_invariants():
    bad = {k: [] for k in ("count", "pairs", "vocab", "size", "inside", "integer", "gap", "support",
                           "extent", "area", "apex", "rgb", "interior", "background", "sigma", "centre")}
    counts, aa, sigmas, sides, jitters, pairs, rels = [], [], [], [], [], set(), set()
    for seed in INVARIANT_SEEDS:
        rgb, desc = sa.render_scene(seed)
        objs = desc["objects"]
        counts.append(len(objs))
        aa.append(desc["antialiased"])
        sigmas.append(desc["sigma"])
        if rgb.shape != (128, 128, 3) or rgb.dtype != np.uint8:
            bad["size"].append((seed, "image", rgb.shape, rgb.dtype))
        if not 1 <= len(objs) <= 3:
            bad["count"].append(seed)
        keys = [(o["colour"], o["shape"]) for o in objs]
        if len(set(keys)) != len(keys):
            bad["pairs"].append(seed)
        pairs.update(keys)
        if len(objs) == 2:
            rels.add(sa.relation(objs[0], objs[1]))
        total = np.zeros((128, 128))
        for o in objs:
            x0, y0, s = o["box"]
            sides.append(s)
            if o["colour"] not in BASE or o["shape"] not in ("circle", "square", "triangle"):
                bad["vocab"].append((seed, o["colour"], o["shape"]))
                continue
            if not 24 <= s <= 40:
                bad["size"].append((seed, s))
            if x0 < 0 or y0 < 0 or x0 + s > 128 or y0 + s > 128:
                bad["inside"].append((seed, o["box"]))
            if not desc["antialiased"] and not all(float(v).is_integer() for v in o["box"]):
                bad["integer"].append((seed, o["box"]))
            if o["centre"] != (x0 + s / 2, y0 + s / 2):
                bad["centre"].append((seed, o["centre"], o["box"]))
            m = o["mask"]
            total += m
            if m.shape != (128, 128) or m.min() < 0 or m.max() > 1:
                bad["support"].append((seed, "range"))
                continue
            # Coverage only on pixels that meet the box.
            ys, xs = np.nonzero(m > 0)
            if (xs.min() < np.floor(x0) or xs.max() > np.ceil(x0 + s) - 1
                    or ys.min() < np.floor(y0) or ys.max() > np.ceil(y0 + s) - 1):
                bad["support"].append((seed, o["shape"], o["box"]))
            # The pixels at least half covered span the box (the apex of a
            # triangle is thin: its first half-covered row is lower).
            ys, xs = np.nonzero(m >= 0.5)
            top_tol = 3.0 if o["shape"] == "triangle" else 1.0
            if (abs(xs.min() - x0) > 1.0 or abs(xs.max() + 1 - (x0 + s)) > 1.0
                    or abs(ys.min() - y0) > top_tol or abs(ys.max() + 1 - (y0 + s)) > 1.0):
                bad["extent"].append((seed, o["shape"], o["box"], (xs.min(), xs.max(), ys.min(), ys.max())))
            area = {"circle": np.pi * s * s / 4, "square": s * s, "triangle": s * s / 2}[o["shape"]]
            tol = 0.01 * area + 1.0 if desc["antialiased"] else 0.04 * area
            if abs(m.sum() - area) > tol:
                bad["area"].append((seed, o["shape"], s, float(m.sum()), area))
            if o["shape"] == "triangle":
                rows = m.sum(axis=1)[int(np.floor(y0)):int(np.ceil(y0 + s))]
                if not rows[len(rows) // 4] < rows[len(rows) // 2] < rows[3 * len(rows) // 4]:
                    bad["apex"].append(seed)
            base = BASE[o["colour"]]
            jit = [c - b for c, b in zip(o["rgb"], base)]
            jitters.extend(jit)
            if max(abs(j) for j in jit) > 20:
                bad["rgb"].append((seed, o["colour"], o["rgb"]))
            inner = interior(m)
            pix = rgb[inner].astype(int)
            if len(pix) == 0 or (np.abs(pix - np.asarray(base)) > 20).any() or (pix != np.asarray(o["rgb"])).any():
                bad["interior"].append((seed, o["colour"], o["rgb"], pix[:2].tolist()))
        for a, b in itertools.combinations(objs, 2):
            if gap(a["box"], b["box"]) < 4:
                bad["gap"].append((seed, a["box"], b["box"]))
        bg = np.asarray(desc["background"])
        if not ((bg >= 170) & (bg <= 255)).all() or not all(float(v).is_integer() for v in bg):
            bad["background"].append((seed, desc["background"]))
        sigma = desc["sigma"]
        if not 0 <= sigma <= 8:
            bad["sigma"].append((seed, sigma))
        pure = rgb[total == 0].astype(np.float64)
        if sigma == 0:
            if (pure != bg).any():
                bad["background"].append((seed, "noise at sigma 0"))
        else:
            for c in range(3):
                if bg[c] + 4 * sigma >= 255:
                    continue  # clipped at 255: mean and spread are biased
                mean, std = pure[:, c].mean(), pure[:, c].std()
                if abs(mean - bg[c]) > 1.0 or abs(std - sigma) > 0.1 * sigma + 0.3:
                    bad["background"].append((seed, c, int(bg[c]), sigma, round(mean, 2), round(std, 2)))
        if ((pure < 170 - 6 * 8) | (pure > 255)).any():
            bad["background"].append((seed, "background pixel out of range"))
    for k, v in bad.items():
        check(f"invariant {k} on {len(INVARIANT_SEEDS)} scenes", not v, f"{len(v)} cases, first {v[:3]}")
    n = len(counts)
    shares = [counts.count(k) / n for k in (1, 2, 3)]
    check("1, 2 and 3 objects about equally likely", all(0.30 <= s <= 0.37 for s in shares), shares)
    check("anti-aliased and hard-edged about equally likely", 0.45 <= np.mean(aa) <= 0.55, np.mean(aa))
    check("sigma spans 0 to 8", min(sigmas) == 0 and max(sigmas) > 7.8, (min(sigmas), max(sigmas)))
    check("sides span 24 to 40", min(sides) < 24.5 and max(sides) > 39.5 and 24 in sides and 40 in sides,
          (min(sides), max(sides)))
    check("jitter spans -20 to 20", min(jitters) == -20 and max(jitters) == 20, (min(jitters), max(jitters)))
    check("all 12 colour-shape pairs drawn", len(pairs) == 12, sorted(pairs))
    check("all four relations drawn", rels == set(sa.RELATIONS), rels)


def test_deterministic():
    a, oa = sa.render(1_000_123)
    b, ob = sa.render(1_000_123)
    c, _ = sa.render(1_000_124)
    same = (a == b).all() and all((x["mask"] == y["mask"]).all() and x["box"] == y["box"] for x, y in zip(oa, ob))
    check("render(seed) is deterministic", same)
    check("different seeds differ", not (a == c).all())


# ---------------------------------------------------------------- captions

def obj(colour, shape, cx, cy, side=30):
    return {"colour": colour, "shape": shape, "centre": (cx, cy),
            "box": (cx - side / 2, cy - side / 2, side)}


def expect(name, caption, objects, ok, reason_has=""):
    got, reason = sa.caption_ok(caption, objects)
    good = got == ok and (ok or reason_has.lower() in reason.lower()) and (not ok or reason == "")
    check(f"caption_ok {name}: {caption!r} -> {ok}", good, f"got {got}, {reason!r}")


def test_caption_one_object():
    one = [obj("red", "circle", 60, 60)]
    expect("one object", "a red circle", one, True)
    expect("wrong shape", "a red square", one, False, "no red square")
    expect("wrong colour", "a blue circle", one, False, "no blue circle")
    expect("trailing space", "a red circle ", one, False, "single spaces")
    expect("leading space", " a red circle", one, False, "single spaces")
    expect("double space", "a  red circle", one, False, "single spaces")
    expect("newline", "a red circle\n", one, False, "whitespace")
    expect("tab", "a\tred circle", one, False, "whitespace")
    expect("upper case", "A red circle", one, False, "lower case")
    expect("no article", "red circle", one, False, "expected 'a'")
    expect("'the'", "the red circle", one, False, "expected 'a'")
    expect("'an'", "an red circle", one, False, "expected 'a'")
    expect("plural", "a red circles", one, False, "expected a shape")
    expect("full stop", "a red circle .", one, False, "relation")
    expect("attached full stop", "a red circle.", one, False, "shape")
    expect("extra word", "a red circle please", one, False, "relation")
    expect("empty", "", one, False, "empty")
    expect("not a string", None, one, False, "not a string")
    expect("extra object", "a red circle left of a blue square", one, False, "names 2")
    expect("colour only", "a red", one, False, "shape")


def test_caption_two_objects():
    horiz = [obj("red", "circle", 30, 60), obj("blue", "square", 90, 64)]
    expect("left of", "a red circle left of a blue square", horiz, True)
    expect("right of, other order", "a blue square right of a red circle", horiz, True)
    expect("wrong relation", "a red circle right of a blue square", horiz, False, "not right of")
    expect("vertical for horizontal", "a red circle above a blue square", horiz, False, "is left of")
    expect("other order, wrong relation", "a blue square left of a red circle", horiz, False, "is right of")
    expect("wrong colour", "a red circle left of a green square", horiz, False, "no green square")
    expect("wrong shape", "a red triangle left of a blue square", horiz, False, "no red triangle")
    expect("missing object", "a red circle", horiz, False, "names 1")
    expect("named twice", "a red circle left of a red circle", horiz, False, "twice")
    expect("'left' without 'of'", "a red circle left a blue square", horiz, False, "'of'")
    expect("'to the left of'", "a red circle to the left of a blue square", horiz, False, "relation")
    expect("missing article", "a red circle left of blue square", horiz, False, "expected 'a'")
    expect("three-object grammar", "a red circle , a blue square", horiz, False, "'and'")
    expect("'and'", "a red circle and a blue square", horiz, False, "relation")
    expect("trailing word", "a red circle left of a blue square and", horiz, False, "extra tokens")
    expect("trailing comma", "a red circle left of a blue square ,", horiz, False, "extra tokens")
    expect("'leftof'", "a red circle leftof a blue square", horiz, False, "relation")
    vert = [obj("green", "triangle", 50, 20), obj("yellow", "circle", 55, 90)]
    expect("above", "a green triangle above a yellow circle", vert, True)
    expect("below", "a yellow circle below a green triangle", vert, True)
    expect("below for above", "a green triangle below a yellow circle", vert, False, "is above")
    expect("horizontal for vertical", "a green triangle left of a yellow circle", vert, False, "is above")


def test_caption_ties():
    # |dx| == |dy| is horizontal.
    tie = [obj("red", "circle", 30, 30), obj("blue", "square", 70, 70)]
    expect("tie: left of", "a red circle left of a blue square", tie, True)
    expect("tie: right of", "a blue square right of a red circle", tie, True)
    expect("tie: not above", "a red circle above a blue square", tie, False, "is left of")
    expect("tie: not below", "a blue square below a red circle", tie, False, "is right of")
    anti = [obj("red", "circle", 70, 30), obj("blue", "square", 30, 70)]
    expect("tie, dy opposite: right of", "a red circle right of a blue square", anti, True)
    expect("tie, dy opposite: not above", "a red circle above a blue square", anti, False, "is right of")
    # Half-pixel centres, as hard-edged scenes with odd sides have them.
    half = [obj("red", "circle", 30.5, 40.5, 27), obj("blue", "square", 70, 80, 28)]
    expect("half-pixel tie: left of", "a red circle left of a blue square", half, True)
    near = [obj("red", "circle", 30, 30), obj("blue", "square", 70, 70.5)]
    expect("near tie, |dy| larger: above", "a red circle above a blue square", near, True)
    expect("near tie, |dy| larger: not left of", "a red circle left of a blue square", near, False, "is above")
    # The relation of the first-named object to the second, from centres
    # (not from the boxes' corners).
    big = [obj("red", "square", 40, 60, 40), obj("blue", "circle", 75, 30, 24)]
    expect("centres: dx 35 dy 30", "a red square left of a blue circle", big, True)


def test_caption_three_objects():
    three = [obj("red", "circle", 20, 20), obj("blue", "square", 100, 30), obj("green", "triangle", 60, 100)]
    phrases = ["a red circle", "a blue square", "a green triangle"]
    for p in itertools.permutations(phrases):
        expect("three, any order", f"{p[0]} , {p[1]} and {p[2]}", three, True)
    expect("two commas", "a red circle , a blue square , a green triangle", three, False, "'and'")
    expect("two 'and'", "a red circle and a blue square and a green triangle", three, False, "relation")
    expect("comma attached", "a red circle, a blue square and a green triangle", three, False, "shape")
    expect("no comma", "a red circle a blue square and a green triangle", three, False, "relation")
    expect("oxford comma", "a red circle , a blue square , and a green triangle", three, False, "'and'")
    expect("full stop", "a red circle , a blue square and a green triangle .", three, False, "extra tokens")
    expect("missing object", "a red circle left of a blue square", three, False, "names 2")
    expect("missing object, list", "a red circle , a blue square and", three, False, "ends")
    expect("wrong colour", "a red circle , a blue square and a yellow triangle", three, False, "no yellow triangle")
    expect("duplicate", "a red circle , a blue square and a red circle", three, False, "twice")
    expect("four objects", "a red circle , a blue square and a green triangle and a red square",
           three, False, "extra tokens")


def mutations(caption, rng):
    """Near misses of a caption: swapped, dropped, doubled and replaced tokens."""
    tokens = caption.split(" ")
    vocab = ["a", "red", "green", "blue", "yellow", "circle", "square", "triangle",
             "left", "right", "of", "above", "below", ",", "and"]
    out = {caption.replace("left of", "right of"), caption.replace("right of", "left of"),
           caption.replace("above", "below"), caption.replace("below", "above"),
           caption.replace("above", "left of"), caption.replace("left of", "below")}
    for _ in range(12):
        t = list(tokens)
        k = int(rng.integers(len(t)))
        op = int(rng.integers(4))
        if op == 0:
            del t[k]
        elif op == 1:
            t.insert(k, t[k])
        elif op == 2:
            t[k] = vocab[int(rng.integers(len(vocab)))]
        else:
            j = int(rng.integers(len(t)))
            t[k], t[j] = t[j], t[k]
        out.add(" ".join(t))
    return out


def test_caption_ok_agrees_with_enumeration():
    rng = np.random.default_rng(7)
    disagree, tried = [], 0
    for seed in range(500):
        desc = sa.scene(seed)
        valid = sa.valid_captions(desc["objects"])
        expected_count = {1: 1, 2: 2, 3: 6}[len(desc["objects"])]
        if len(valid) != expected_count:
            disagree.append((seed, "count", sorted(valid)))
        for c in valid:
            tried += 1
            if not sa.caption_ok(c, desc["objects"])[0]:
                disagree.append((seed, c, sa.caption_ok(c, desc["objects"])))
            for m in mutations(c, rng):
                tried += 1
                if sa.caption_ok(m, desc["objects"])[0] != (m in valid):
                    disagree.append((seed, m, sa.caption_ok(m, desc["objects"])))
    check(f"caption_ok agrees with the enumerated captions on {tried} captions", not disagree, disagree[:5])


# ---------------------------------------------------------------- patches

def test_covered_patches():
    mask = np.zeros((16, 16))
    mask[0:4, 0:4] = 0.49          # patch (0, 0): nothing reaches 0.5
    mask[5, 10] = 0.5              # patch (1, 2): a single pixel at exactly 0.5
    mask[8:16, 8:12] = 1.0         # patches (2, 2), (3, 2)
    mask[11, 7] = 0.7              # patch (2, 1)
    mask[15, 0] = 0.2              # patch (3, 0): below 0.5
    want = np.zeros((4, 4), dtype=bool)
    want[1, 2] = want[2, 2] = want[3, 2] = want[2, 1] = True
    got = sa.covered_patches(mask, 4)
    check("covered_patches on a hand-made mask", got.dtype == bool and (got == want).all(), f"\n{got.astype(int)}")
    got8 = sa.covered_patches(mask, 8)
    want8 = np.array([[False, True], [True, True]])
    check("covered_patches, patch 8", (got8 == want8).all(), f"\n{got8.astype(int)}")
    check("covered_patches, patch 1 is mask >= 0.5", (sa.covered_patches(mask, 1) == (mask >= 0.5)).all())
    try:
        sa.covered_patches(mask, 5)
        check("covered_patches rejects a patch that does not divide", False)
    except ValueError:
        check("covered_patches rejects a patch that does not divide", True)
    # A rendered disc: covered patches are exactly those its >= 0.5 pixels meet.
    m = sa.coverage("circle", (37.3, 20.8, 30.0), True)
    cov = sa.covered_patches(m, 16)
    ys, xs = np.nonzero(m >= 0.5)
    want = np.zeros((8, 8), dtype=bool)
    want[ys // 16, xs // 16] = True
    check("covered_patches on a rendered disc", (cov == want).all() and cov.sum() >= 4)


# ---------------------------------------------------------------- grounding

def test_grounding():
    patch = 16
    red = {"colour": "red", "shape": "circle", "centre": (16, 16), "box": (0, 0, 32)}
    red["mask"] = np.zeros((128, 128))
    red["mask"][0:32, 0:32] = 1.0                  # patches rows 0-1, cols 0-1
    blue = {"colour": "blue", "shape": "square", "centre": (80, 80), "box": (64, 64, 32)}
    blue["mask"] = np.zeros((128, 128))
    blue["mask"][64:96, 64:96] = 1.0               # patches rows 4-5, cols 4-5
    blue["mask"][96, 64] = 0.4                     # not enough to cover patch (6, 4)
    objects = [red, blue]
    caption = "a red circle left of a blue square"
    tokens = caption.split(" ")
    rng = np.random.default_rng(3)
    maps = rng.uniform(0, 1, size=(8, 8, 8))       # non-word tokens: anything
    maps[1] = 0
    maps[1, 0:2, 0:2] = 0.25                       # 'red': all on the red circle -> 1
    maps[2] = 0
    maps[2, 0, 0] = 3.0
    maps[2, 7, 7] = 3.0                            # 'circle': half on it -> 0.5
    maps[6] = 1.0                                  # 'blue': uniform -> 4 / 64
    maps[7] = 0
    maps[7, 1, 1] = 2.0                            # 'square': on the wrong object -> 0
    maps[7, 6, 4] = 2.0                            # and on the patch blue barely touches
    mean, per_word = sa.grounding(maps, tokens, objects, patch)
    want = [(1, "red", 1.0), (2, "circle", 0.5), (6, "blue", 4 / 64), (7, "square", 0.0)]
    ok = [(t, w) for t, w, _ in per_word] == [(t, w) for t, w, _ in want] and all(
        abs(a[2] - b[2]) < 1e-12 for a, b in zip(per_word, want))
    check("grounding per word on hand-made maps", ok, per_word)
    check("grounding mean on hand-made maps", abs(mean - (1 + 0.5 + 4 / 64 + 0) / 4) < 1e-12, mean)
    mean2, _ = sa.grounding(maps * 7.5, caption, objects, patch)
    check("grounding ignores the maps' scale; takes a caption string", abs(mean2 - mean) < 1e-12, (mean, mean2))
    # The other order: each word follows the object its phrase names.
    other = "a blue square right of a red circle".split(" ")
    m = np.zeros((8, 8, 8))
    m[1, 4, 4] = m[2, 5, 5] = 1.0                  # blue, square: on blue
    m[6, 0, 1] = m[7, 1, 0] = 1.0                  # red, circle: on red
    m[0] = m[3] = m[4] = m[5] = 1.0
    mean3, _ = sa.grounding(m, other, objects, patch)
    check("grounding follows each phrase's object", abs(mean3 - 1.0) < 1e-12, mean3)
    # A phrase naming an object the scene lacks, and an all-zero map, score 0.
    wrong = "a red circle left of a green square".split(" ")
    m2 = np.zeros((8, 8, 8))
    m2[1, 0, 0] = m2[2, 0, 0] = 1.0
    m2[6, 4, 4] = 1.0                              # 'green' on the blue square: no green square -> 0
    mean4, pw4 = sa.grounding(m2, wrong, objects, patch)   # m2[7] all zero -> 0
    check("grounding: absent object and zero map score 0", abs(mean4 - 0.5) < 1e-12 and pw4[2][2] == 0 and pw4[3][2] == 0, pw4)
    mean5, pw5 = sa.grounding(np.ones((3, 8, 8)), "a red blob", objects, patch)
    check("grounding: a colour without a shape scores 0", pw5 == [(1, "red", 0.0)] and mean5 == 0.0, pw5)
    mean6, pw6 = sa.grounding(np.ones((2, 8, 8)), "hello world", objects, patch)
    check("grounding: no colour or shape word is 0", pw6 == [] and mean6 == 0.0, (mean6, pw6))
    for name, bad_maps in (("wrong T", np.ones((7, 8, 8))), ("wrong grid", np.ones((8, 16, 16))),
                           ("NaN", np.where(np.eye(8)[None] > 0, np.nan, 1.0).repeat(8, 0)),
                           ("negative", -np.ones((8, 8, 8)))):
        try:
            sa.grounding(bad_maps, tokens, objects, patch)
            check(f"grounding rejects maps: {name}", False)
        except ValueError:
            check(f"grounding rejects maps: {name}", True)


# ---------------------------------------------------------------- main

def test_main_writes_pngs_and_json():
    from PIL import Image
    out = os.path.join(TMP, "scenes")
    rc = sa.main(["--out", out, "--count", "5", "--first-seed", "1000000"])
    with open(os.path.join(out, "scenes.json")) as f:
        meta = json.load(f)
    ok = rc == 0 and len(meta["scenes"]) == 5
    for entry in meta["scenes"]:
        rgb, desc = sa.render_scene(entry["seed"])
        png = np.asarray(Image.open(os.path.join(out, entry["file"])).convert("RGB"))
        ok = ok and (png == rgb).all()
        ok = ok and "mask" not in json.dumps(entry)
        ok = ok and [(o["colour"], o["shape"], tuple(o["box"]), tuple(o["centre"])) for o in entry["objects"]] == \
            [(o["colour"], o["shape"], tuple(o["box"]), tuple(o["centre"])) for o in desc["objects"]]
        ok = ok and all(sa.caption_ok(c, entry["objects"])[0] for c in entry["captions"])
    check("main writes PNGs equal to render() and JSON metadata without masks", ok)


if __name__ == "__main__":
    run_tests(globals(), results, TMP)
