#!/usr/bin/python3
"""Tests of evaluate.py's plumbing with fake_captioner.py in its modes: a good
captioner passes both checks, uniform maps fail grounding, wrong captions and
crashes fail the exact rate and are listed (at most 20), bad maps are caught,
usage errors exit 2, and no temporary file is left behind.

usage: test_evaluate.py"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import Results, run_tests  # noqa: E402
import scenes_alt as sa  # noqa: E402

EVALUATE = os.path.join(HERE, "evaluate.py")
FAKE = os.path.join(HERE, "fake_captioner.py")
TMP = tempfile.mkdtemp(prefix="attnscope-evaluate-test-")
results = Results("captioner_evaluate")
check = results.check


def evaluate(mode, scenes, *extra, fake_patch=16, unlucky=6):
    out = os.path.join(TMP, f"{mode}-{scenes}.json")
    if os.path.exists(out):
        os.remove(out)
    # A private temporary folder: other runs of evaluate.py (ctest runs the
    # real evaluation at the same time) make their own in the shared one.
    private = tempfile.mkdtemp(prefix=f"tmp-{mode}-", dir=TMP)
    env = dict(os.environ, FAKE_MODE=mode, FAKE_PATCH=str(fake_patch), FAKE_UNLUCKY=str(unlucky), TMPDIR=private)
    r = subprocess.run([sys.executable, EVALUATE, "--cli", FAKE, "--scenes", str(scenes), "--json", out, *extra],
                       capture_output=True, text=True, env=env, timeout=900)
    left = glob.glob(os.path.join(private, "attnscope-captioner-eval-*"))
    check(f"{mode}: no temporary folder left", not left, left)
    summary = None
    if os.path.exists(out):
        with open(out) as f:
            summary = json.load(f)
    return r, summary


def last_line(r):
    lines = r.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def records_consistent(summary):
    """The JSON's verdicts agree with scenes_alt recomputed here."""
    for rec in summary["records"]:
        objects = sa.render(rec["seed"])[1]
        if rec["caption"] is not None and "maps_error" not in rec:
            if sa.caption_ok(rec["caption"], objects)[0] != rec["exact"]:
                return False
        if sorted(sa.valid_captions(objects)) != rec["expected"]:
            return False
    exact = sum(r["exact"] for r in summary["records"])
    mean = sum(r["grounding"] for r in summary["records"]) / len(summary["records"])
    return exact == summary["exact"] and abs(mean - summary["grounding"]) < 1e-9


def test_good_captioner_passes():
    r, s = evaluate("good", 24, "--patch", "16")
    check("good: exit 0", r.returncode == 0, r.stdout + r.stderr)
    check("good: closing line", last_line(r) == "captioner: 2 passed, 0 failed", last_line(r))
    ok = s is not None and s["scenes"] == 24 and s["exact_rate"] == 1.0 and s["grounding"] > 0.9
    check("good: every caption exact, grounding high", ok, s and (s["exact_rate"], s["grounding"]))
    check("good: seeds start at 1000000", s is not None and [x["seed"] for x in s["records"]] == list(range(1_000_000, 1_000_024)))
    check("good: JSON agrees with scenes_alt", s is not None and records_consistent(s))


def test_uniform_maps_fail_grounding():
    r, s = evaluate("uniform", 12, "--patch", "16")
    check("uniform: exit 1", r.returncode == 1, r.stdout + r.stderr)
    check("uniform: closing line", last_line(r) == "captioner: 1 passed, 1 failed", last_line(r))
    check("uniform: grounding fails, captions pass", "FAIL grounding >= 0.6" in r.stdout
          and "FAIL exact" not in r.stdout and s is not None and s["grounding"] < 0.3, r.stdout)


def test_wrong_captions_fail_and_are_listed():
    r, s = evaluate("wrong", 18, "--patch", "16")
    check("wrong: exit 1", r.returncode == 1, r.stdout + r.stderr)
    check("wrong: closing line", last_line(r) == "captioner: 1 passed, 1 failed", last_line(r))
    listed = [line for line in r.stdout.splitlines() if line.startswith("  seed ")]
    wrong = [x for x in s["records"] if not x["exact"]] if s else []
    check("wrong: the failures are listed with a reason", 0 < len(listed) == len(wrong)
          and all(": " in line and "expected e.g. 'a " in line for line in listed)
          and any("no green" in line for line in listed), r.stdout)
    check("wrong: JSON agrees with scenes_alt", s is not None and records_consistent(s))
    r2, _ = evaluate("wrong", 18, "--patch", "16", "--min-exact", "0.5")
    check("wrong: a lower target passes", r2.returncode == 0 and last_line(r2) == "captioner: 2 passed, 0 failed",
          r2.stdout)


def test_crashes_listed_at_most_20():
    r, s = evaluate("crash", 24, "--patch", "16", unlucky=1)
    listed = [line for line in r.stdout.splitlines() if line.startswith("  seed ")]
    check("crash: exit 1, exact rate 0", r.returncode == 1 and s is not None and s["exact"] == 0, r.stdout)
    check("crash: 20 failures listed of 24", len(listed) == 20 and "failures (24, the first 20)" in r.stdout, r.stdout)
    check("crash: reason names the exit status and stderr",
          all("exited 1" in line and "cannot caption" in line for line in listed), listed[:2])


def test_bad_maps_caught():
    r, s = evaluate("badmaps", 18, "--patch", "16")
    bad = [x for x in s["records"] if "maps_error" in x] if s else []
    check("badmaps: the short maps are caught", len(bad) >= 1 and all(
        not x["exact"] and x["grounding"] == 0 and "maps:" in x["reason"] for x in bad), bad[:2])
    check("badmaps: the other scenes are fine", s is not None and all(
        x["exact"] for x in s["records"] if "maps_error" not in x))
    r, s = evaluate("good", 4, "--patch", "16", fake_patch=8)
    check("maps on another grid: every scene caught", r.returncode == 1 and s is not None and all(
        "expected" in x.get("maps_error", "") for x in s["records"]), s and s["records"][0].get("reason"))


def test_centroid_note():
    import evaluate as ev
    # The relation of a triangle to a square can depend on where the
    # triangle's centre is taken: evaluate.py notes when it does.
    tri = {"colour": "red", "shape": "triangle", "box": (10, 10, 30), "centre": (25, 25)}
    sq = {"colour": "blue", "shape": "square", "box": (45, 51, 30), "centre": (60, 66)}
    moved = ev.centroid_convention([tri, sq])
    check("centroid_convention moves only triangles", moved[0]["centre"] == (25, 30) and moved[1] is sq
          and tri["centre"] == (25, 25), moved)
    sq4 = dict(sq, box=(48, 52, 30), centre=(63, 67))   # dx -38, dy -42 (box: above) / -37 (centroid: left of)
    check("a relation that depends on the convention is told apart",
          sa.caption_ok("a red triangle above a blue square", [tri, sq4])[0]
          and sa.caption_ok("a red triangle left of a blue square", ev.centroid_convention([tri, sq4]))[0])


def test_usage_errors():
    for name, args in (("patch not dividing 128", ["--cli", FAKE, "--patch", "7"]),
                       ("missing CLI", ["--cli", os.path.join(TMP, "nope"), "--patch", "16"]),
                       ("no scenes", ["--cli", FAKE, "--patch", "16", "--scenes", "0"])):
        r = subprocess.run([sys.executable, EVALUATE, *args], capture_output=True, text=True, timeout=60)
        check(f"usage error exits 2: {name}", r.returncode == 2 and r.stderr.strip(), r.stderr)


if __name__ == "__main__":
    run_tests(globals(), results, TMP)
