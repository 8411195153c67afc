#!/usr/bin/python3
"""The captioner's held-out evaluation: 500 scenes from scenes_alt (the second
renderer, written from the spec alone; seeds 1_000_000 ... 1_000_499), each
captioned by the captioner command; reports the exact-caption rate and the
grounding (the share of each colour and shape word's map on the patches of
the object it names; see scenes_alt.grounding), averaged over each scene's
words and then over the scenes, and lists the failures (at most 20).

The captioner is called as `CLI caption --image SCENE.png --maps-out M.npy`;
it prints the caption on one line (tokens separated by single spaces) and
writes M.npy, float32 [T, ROWS, COLS], map t for printed token t, ROWS = COLS
= 128 / patch, patch from assets/captioner/config.json ("patch") unless
--patch is given. A scene whose call fails (non-zero exit, timeout, not one
line of output, maps missing or of the wrong shape, dtype or values) counts as
a wrong caption with grounding 0; a scene's words naming objects the scene
lacks score 0 (scenes_alt.grounding).

The checks: exact-caption rate >= --min-exact, grounding >= --min-grounding.
Exits 1 when one fails, 2 on a usage error; the last line is
`captioner: N passed, M failed`.

usage: evaluate.py --cli PATH [--scenes 500] [--min-exact 0.95]
                   [--min-grounding 0.6] [--json OUT.json] [--jobs 2]
                   [--patch P] [--timeout 60]"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import Results  # noqa: E402
import scenes_alt as sa  # noqa: E402

FIRST_SEED = 1_000_000
CONFIG = os.path.join(ROOT, "assets", "captioner", "config.json")
MAX_LISTED = 20


def usage_error(msg):
    print(f"evaluate.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_patch(path):
    try:
        with open(path) as f:
            patch = json.load(f)["patch"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        usage_error(f"cannot read \"patch\" from {path} ({e}); pass --patch")
    if not isinstance(patch, int) or patch <= 0 or sa.SIZE % patch:
        usage_error(f"{path}: patch {patch!r} does not divide {sa.SIZE}")
    return patch


def centroid_convention(objects):
    """The objects with each triangle's centre at its centroid instead of its
    box's centre: tells whether a wrong relation is a convention question."""
    out = []
    for o in objects:
        if o["shape"] == "triangle":
            x0, y0, side = o["box"]
            o = dict(o, centre=(x0 + side / 2, y0 + 2 * side / 3))
        out.append(o)
    return out


def evaluate_scene(cli, seed, patch, tmp, timeout):
    rgb, desc = sa.render_scene(seed)
    objects = desc["objects"]
    rec = {"seed": seed, "objects": len(objects), "caption": None, "exact": False, "reason": "", "grounding": 0.0, "words": [],
           "expected": sorted(sa.valid_captions(objects))}
    png = os.path.join(tmp, f"scene_{seed}.png")
    npy = os.path.join(tmp, f"maps_{seed}.npy")
    sa.write_png(png, rgb)
    try:
        try:
            r = subprocess.run([cli, "caption", "--image", png, "--maps-out", npy],
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            rec["reason"] = f"the captioner ran past {timeout} s"
            return rec
        except OSError as e:
            rec["reason"] = f"cannot run the captioner: {e}"
            return rec
        if r.returncode != 0:
            err = r.stderr.strip().splitlines()
            rec["reason"] = f"the captioner exited {r.returncode}: {err[-1] if err else '(no stderr)'}"
            return rec
        out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        if "\n" in out:
            rec["reason"] = f"the captioner printed {out.count(chr(10)) + 1} lines, not one: {r.stdout!r}"
            return rec
        rec["caption"] = out
        rec["exact"], rec["reason"] = sa.caption_ok(out, objects)
        if not rec["exact"] and len(objects) == 2 and sa.caption_ok(out, centroid_convention(objects))[0]:
            rec["reason"] += " (right if a triangle's centre were its centroid, not its box's centre)"
        try:
            maps = np.load(npy, allow_pickle=False)
        except (OSError, ValueError) as e:
            rec["maps_error"] = f"cannot read the maps: {e}"
        else:
            if maps.dtype != np.float32:
                rec["maps_error"] = f"the maps are {maps.dtype}, not float32"
            else:
                try:
                    rec["grounding"], words = sa.grounding(maps, out.split(" "), objects, patch)
                    rec["words"] = [[t, w, round(s, 4)] for t, w, s in words]
                except ValueError as e:
                    rec["maps_error"] = str(e)
        if "maps_error" in rec:
            rec["grounding"] = 0.0
            if rec["exact"]:
                rec["exact"] = False
                rec["reason"] = f"maps: {rec['maps_error']}"
            else:
                rec["reason"] += f"; maps: {rec['maps_error']}"
        return rec
    finally:
        for path in (png, npy):
            if os.path.exists(path):
                os.remove(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the captioner command (attnscope-cli)")
    ap.add_argument("--scenes", type=int, default=500)
    ap.add_argument("--min-exact", type=float, default=0.95)
    ap.add_argument("--min-grounding", type=float, default=0.6)
    ap.add_argument("--json", help="write the summary and every scene's record here")
    ap.add_argument("--jobs", type=int, default=2, help="captioner calls run at once")
    ap.add_argument("--patch", type=int, help=f"the maps' patch size (default: from {CONFIG})")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per captioner call")
    args = ap.parse_args(argv)
    cli = os.path.abspath(args.cli)
    if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        usage_error(f"--cli {args.cli}: not an executable file")
    if args.scenes < 1:
        usage_error(f"--scenes {args.scenes}: must be at least 1")
    if args.jobs < 1:
        usage_error(f"--jobs {args.jobs}: must be at least 1")
    if args.patch is not None:
        if args.patch <= 0 or sa.SIZE % args.patch:
            usage_error(f"--patch {args.patch} does not divide {sa.SIZE}")
        patch = args.patch
    else:
        patch = read_patch(CONFIG)
    seeds = range(FIRST_SEED, FIRST_SEED + args.scenes)
    print(f"captioner evaluation: {len(seeds)} scenes (seeds {seeds[0]}..{seeds[-1]}), patch {patch}, {cli}")

    tmp = tempfile.mkdtemp(prefix="attnscope-captioner-eval-")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            records = list(pool.map(lambda s: evaluate_scene(cli, s, patch, tmp, args.timeout), seeds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(records)
    exact = sum(r["exact"] for r in records)
    exact_rate = exact / n
    grounding = float(np.mean([r["grounding"] for r in records]))
    exact_only = [r["grounding"] for r in records if r["exact"]]
    grounding_exact = float(np.mean(exact_only)) if exact_only else 0.0
    colour_words = [s for r in records for _, w, s in r["words"] if w in sa.COLOURS]
    shape_words = [s for r in records for _, w, s in r["words"] if w in sa.SHAPES]
    by_count = {}
    for r in records:
        by_count.setdefault(r["objects"], []).append(r["exact"])

    print(f"exact captions: {exact}/{n} = {exact_rate:.3f} (target {args.min_exact})")
    print("  by object count: " + ", ".join(f"{k}: {sum(v)}/{len(v)}" for k, v in sorted(by_count.items())))
    print(f"grounding: {grounding:.3f} (target {args.min_grounding}); on exact captions {grounding_exact:.3f}; "
          f"colour words {np.mean(colour_words) if colour_words else 0:.3f}, "
          f"shape words {np.mean(shape_words) if shape_words else 0:.3f}")
    failures = [r for r in records if not r["exact"]]
    if failures:
        print(f"failures ({len(failures)}{f', the first {MAX_LISTED}' if len(failures) > MAX_LISTED else ''}):")
        for r in failures[:MAX_LISTED]:
            got = repr(r["caption"]) if r["caption"] is not None else "no caption"
            print(f"  seed {r['seed']}: {got}: {r['reason']}; expected e.g. {r['expected'][0]!r}")

    results = Results("captioner")
    results.check(f"exact-caption rate >= {args.min_exact}", exact_rate >= args.min_exact, f"{exact_rate:.3f}")
    results.check(f"grounding >= {args.min_grounding}", grounding >= args.min_grounding, f"{grounding:.3f}")
    if args.json:
        summary = {"cli": cli, "patch": patch, "scenes": n, "first_seed": FIRST_SEED,
                   "exact": exact, "exact_rate": exact_rate, "grounding": grounding,
                   "grounding_exact_captions": grounding_exact,
                   "min_exact": args.min_exact, "min_grounding": args.min_grounding,
                   "passed": results.failed == 0, "records": records}
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"{results.name}: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
