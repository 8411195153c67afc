#!/usr/bin/env python3
"""The attnscope-cli contract: exit codes (0 ok, 2 usage, 3 bad input), one
clear stderr line naming the file or argument, no partial output files, and
every bad input of ../shared/reference/bad-inputs.md.

usage: test_cli.py PATH/TO/attnscope-cli"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import Results, run_tests  # noqa: E402

CLI = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD = os.path.join(ROOT, "tests", "data", "bad")
VALID = os.path.join(ROOT, "tests", "data", "valid")
SAMPLE = os.path.join(ROOT, "assets", "sample.png")
TMP = tempfile.mkdtemp(prefix="attnscope-cli-test-")
results = Results("cli_contract")
check = results.check


def run(*args, timeout=60, as_nobody=False):
    cmd = [CLI, *map(str, args)]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)



def leftovers(directory):
    return [f for f in os.listdir(directory) if ".tmp-" in f]


def expect_error(name, args, code=3, mentions=(), output=None, **kw):
    """The command fails with `code`, one stderr line mentioning each of `mentions`,
    and leaves no `output` file and no temporary file behind."""
    if output and os.path.exists(output):
        os.remove(output)
    r = run(*args, **kw)
    lines = r.stderr.strip().splitlines()
    ok = r.returncode == code and len(lines) == 1 and all(m.lower() in lines[0].lower() for m in mentions)
    if output:
        ok = ok and not os.path.exists(output) and not leftovers(os.path.dirname(output))
    check(name, ok, f"exit {r.returncode}, stderr {r.stderr!r}")
    return r


def tmp(name):
    return os.path.join(TMP, name)


def save(name, array):
    path = tmp(name)
    np.save(path, np.asarray(array, dtype=np.float32))
    return path


def test_help_version_usage():
    for args in (["--help"], ["attend", "--help"], ["render", "--help"], ["--version"]):
        r = run(*args)
        check(f"{args} exits 0", r.returncode == 0 and r.stdout, r.stderr)
    check("no command is usage (exit 2)", run().returncode == 2)
    expect_error("unknown command", ["frobnicate"], code=2, mentions=["frobnicate"])
    expect_error("unknown option", ["render", "--image", SAMPLE, "--out", tmp("x.png"), "--bogus", "1"], code=2, mentions=["--bogus"])
    expect_error("missing --q", ["attend", "--k", "k.npy"], code=2, mentions=["--q"])
    expect_error("missing value", ["render", "--image"], code=2, mentions=["--image"])
    expect_error("bad number", ["render", "--image", SAMPLE, "--out", tmp("x.png"), "--patch", "ten"], mentions=["--patch", "ten"])
    expect_error("bad choice", ["render", "--image", SAMPLE, "--out", tmp("x.png"), "--score", "magic"], mentions=["--score", "magic"])


def test_render_sample():
    out, w = tmp("overlay.png"), tmp("w.npy")
    r = run("render", "--image", SAMPLE, "--query", "3,4", "--out", out, "--weights-out", w)
    check("render succeeds", r.returncode == 0, r.stderr)
    check("render writes a PNG", os.path.exists(out) and open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
    weights = np.load(w)
    check("render weights shape [H, 1, N]", weights.shape == (4, 1, 28 * 28), weights.shape)
    check("render weights rows sum to 1", np.allclose(weights.sum(-1), 1, atol=1e-5))
    check("render reports the query", "query (3,4)" in r.stdout, r.stdout)
    for extra in (["--source", "random"], ["--source", "pixels", "--heads", "3"], ["--score", "cosine", "--norm", "sparsemax"],
                  ["--mask", "local", "--radius", "3"], ["--mask", "causal"], ["--score", "additive", "--patch", "32"],
                  ["--head", "2", "--colormap", "viridis", "--upsample", "nearest", "--scale", "minmax", "--no-grid"],
                  ["--pos-encoding", "--temperature", "0.2"], ["--query-index", "0", "--temperature", "1e-30"]):
        r = run("render", "--image", SAMPLE, "--out", tmp("o.png"), *extra)
        check(f"render {extra}", r.returncode == 0, r.stderr)
    expect_error("query outside grid", ["render", "--image", SAMPLE, "--out", out, "--query", "28,0"], mentions=["--query", "28x28"])
    expect_error("heads must divide d_model", ["render", "--image", SAMPLE, "--out", tmp("h.png"), "--heads", "5"],
                 mentions=["divisible"], output=tmp("h.png"))
    expect_error("patch larger than the image", ["render", "--image", SAMPLE, "--out", tmp("p.png"), "--patch", "500"],
                 mentions=["smaller than one patch"], output=tmp("p.png"))


def test_scale_leaves_the_query_out():
    # By default the colour scale's top is the largest weight outside the
    # query's own patch; --scale-includes-query brings back the old scale.
    # The two pictures differ exactly when the query's weight on itself is
    # the largest.
    from PIL import Image
    cat = os.path.join(ROOT, "tests", "data", "photos", "chelsea.png")  # 451 x 300: 28 x 18 patches
    seen_self_max = 0
    for query in ("9,6", "5,10", "20,8", "14,14"):
        a, b, w = tmp("scale_a.png"), tmp("scale_b.png"), tmp("scale_w.npy")
        r = run("render", "--image", cat, "--query", query, "--out", a, "--weights-out", w)
        r2 = run("render", "--image", cat, "--query", query, "--out", b, "--scale-includes-query")
        check(f"render {query} with either scale", r.returncode == 0 and r2.returncode == 0, r.stderr + r2.stderr)
        if r.returncode or r2.returncode:
            continue
        c, row = map(int, query.split(","))
        mean = np.load(w).mean(axis=0)[0]
        self_is_max = int(np.argmax(mean)) == row * 28 + c
        seen_self_max += self_is_max
        pa, pb = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (a, b))
        differ = np.abs(pa - pb).max() > 0
        check(f"query {query}: the scales differ iff the query is its own strongest key", differ == self_is_max,
              (differ, self_is_max))
        if self_is_max:  # and the default shows the rest brighter
            check(f"query {query}: outside the query the default scale is brighter",
                  pa.sum() > pb.sum(), (pa.sum(), pb.sum()))
    check("the scale test saw a query that is its own strongest key", seen_self_max > 0, seen_self_max)


def test_bad_images():
    for name in sorted(os.listdir(os.path.join(BAD, "images"))):
        path = os.path.join(BAD, "images", name)
        expect_error(f"image {name}", ["render", "--image", path, "--out", tmp("bad.png")], mentions=[name], output=tmp("bad.png"))
    for name in sorted(f for f in os.listdir(VALID) if f.endswith((".png", ".jpg", ".bmp"))):
        r = run("render", "--image", os.path.join(VALID, name), "--out", tmp("v.png"), "--patch", "8")
        check(f"valid image {name} loads", r.returncode == 0, r.stderr)
    # Over 2 GiB, made sparse so it costs no disk.
    big = tmp("huge.png")
    with open(big, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(2**31 + 10)
    expect_error("2 GiB image", ["render", "--image", big, "--out", tmp("bad.png")], mentions=["huge.png", "limit"])
    os.remove(big)


def test_paths():
    out = tmp("p.png")
    expect_error("missing file", ["render", "--image", tmp("nope.png"), "--out", out], mentions=["nope.png", "no such file"])
    expect_error("directory", ["render", "--image", TMP, "--out", out], mentions=["directory"])
    fifo = tmp("fifo.npy")
    os.mkfifo(fifo)
    expect_error("fifo does not hang", ["attend", "--q", fifo, "--k", fifo], mentions=["fifo.npy", "regular file"], timeout=10)
    expect_error("unwritable output dir", ["render", "--image", SAMPLE, "--out", tmp("no/such/dir/x.png")], mentions=["x.png"])
    # No read permission (root reads everything, so drop to nobody when root).
    secret = tmp("secret.npy")
    np.save(secret, np.ones((2, 2), np.float32))
    os.chmod(secret, 0)
    os.chmod(TMP, 0o755)
    if os.geteuid() == 0 and shutil.which("setpriv"):
        expect_error("no read permission", ["attend", "--q", secret, "--k", secret], mentions=["secret.npy", "permission denied"], as_nobody=True)
        # A read-only directory: the output is refused whole, nothing left behind.
        ro = tmp("readonly")
        os.mkdir(ro, 0o555)
        readable = tmp("sample.png")  # the checkout itself may not be readable by nobody
        shutil.copy(SAMPLE, readable)
        os.chmod(readable, 0o644)
        expect_error("read-only output dir", ["render", "--image", readable, "--out", os.path.join(ro, "x.png")],
                     mentions=["x.png", "permission denied"], output=os.path.join(ro, "x.png"), as_nobody=True)
    elif os.geteuid() != 0:
        expect_error("no read permission", ["attend", "--q", secret, "--k", secret], mentions=["secret.npy", "permission denied"])
    # Never replace a device: /dev/full stays a device (and /dev/null too).
    for dev in ("/dev/full", "/dev/null"):
        expect_error(f"output to {dev} refused", ["render", "--image", SAMPLE, "--out", dev], mentions=[dev, "not a regular file"])
        check(f"{dev} is still a device", not os.path.isfile(dev) and os.path.exists(dev))
    # A full disk: a 64 KiB tmpfs (when this machine lets us mount one, as root
    # in CI does). The write fails whole: no partial file, no temporary left.
    tiny = tmp("tinyfs")
    os.mkdir(tiny)
    if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", tiny]).returncode == 0:
        try:
            expect_error("disk full", ["render", "--image", SAMPLE, "--out", os.path.join(tiny, "big.png")],
                         mentions=["big.png", "no space"], output=os.path.join(tiny, "big.png"))
            check("disk full leaves the filesystem empty", os.listdir(tiny) == [], os.listdir(tiny))
        finally:
            subprocess.run(["umount", tiny])
    else:
        print("note: cannot mount a tmpfs here; the disk-full case was not run")
    # An existing output survives a failed run untouched.
    keep = tmp("keep.png")
    with open(keep, "wb") as f:
        f.write(b"precious")
    expect_error("failed run keeps existing output", ["render", "--image", os.path.join(BAD, "images", "truncated.png"), "--out", keep])
    check("existing output untouched", open(keep, "rb").read() == b"precious")


def test_bad_npy_and_csv():
    k = save("k.npy", np.random.randn(3, 4))
    for name in sorted(os.listdir(os.path.join(BAD, "npy"))):
        expect_error(f"npy {name}", ["attend", "--q", os.path.join(BAD, "npy", name), "--k", k, "--weights-out", tmp("w.npy")],
                     mentions=[name], output=tmp("w.npy"))
    for name in sorted(os.listdir(os.path.join(BAD, "csv"))):
        expect_error(f"csv {name}", ["attend", "--q", os.path.join(BAD, "csv", name), "--k", k, "--weights-out", tmp("w.npy")],
                     mentions=[name], output=tmp("w.npy"))
    # Every valid variant of the same matrix gives the same attention.
    ref = None
    for name in sorted(f for f in os.listdir(VALID) if f.endswith((".npy", ".csv"))):
        w = tmp("w_" + name + ".npy")
        r = run("attend", "--q", os.path.join(VALID, name), "--k", os.path.join(VALID, "c_f4.npy"), "--weights-out", w)
        check(f"valid {name} loads", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            got = np.load(w)
            ref = got if ref is None else ref
            check(f"valid {name} equals the C-order float32 file", np.allclose(got, ref, atol=1e-6))
    big = tmp("big.csv")
    with open(big, "wb") as f:
        f.truncate(2**30)
    expect_error("1 GB CSV refused before reading", ["attend", "--q", big, "--k", k], mentions=["big.csv", "limit"])
    os.remove(big)


def test_bad_safetensors():
    folder = os.path.join(BAD, "safetensors")
    for name in sorted(os.listdir(folder)):
        expect_error(f"safetensors {name}", ["vit", "--weights", os.path.join(folder, name), "--image", SAMPLE, "--heads", "2",
                                             "--attn-out", tmp("a.npy")], mentions=[name], output=tmp("a.npy"))
    expect_error("missing ViT tensor is named", ["vit", "--weights", os.path.join(folder, "vit_missing_tensor.safetensors"),
                 "--image", SAMPLE, "--heads", "2", "--attn-out", tmp("a.npy")], mentions=["blocks.0.attn.proj.weight"])
    expect_error("mis-shaped ViT tensor is named", ["vit", "--weights", os.path.join(folder, "vit_wrong_shape.safetensors"),
                 "--image", SAMPLE, "--heads", "2", "--attn-out", tmp("a.npy")], mentions=["blocks.0.mlp.fc2.bias", "[7]"])
    expect_error("vit needs an output", ["vit", "--weights", "w.safetensors", "--image", SAMPLE], code=2, mentions=["--attn-out"])


def test_bad_configs():
    # The config files beside a ViT's weights, and a sharded checkpoint's
    # index: each bad one is refused with what is wrong in it.
    folder = os.path.join(BAD, "configs")
    expected = {
        "config_not_json": "config.json is not valid JSON", "config_nested_bomb": "nested deeper",
        "config_heads_huge": "num_attention_heads", "config_heads_zero": "num_attention_heads",
        "config_eps_string": "layer_norm_eps", "config_eps_zero": "layer_norm_eps",
        "config_hidden_act_unknown": 'hidden_act "relu"', "config_width_disagrees": "hidden_size 999",
        "config_pretrained_mean_no_std": "no \"std\"", "open_clip_quick_gelu_not_bool": "quick_gelu",
        "open_clip_head_width_zero": "head_width", "open_clip_std_negative": "positive",
        "preprocessor_mean_two_numbers": "image_mean", "preprocessor_std_zero": "image_std",
        "preprocessor_mean_nan": "preprocessor_config.json is not valid JSON",
        "index_not_json": "not valid JSON", "index_no_weight_map": "weight_map",
        "index_shard_climbs": "not a file name beside the index", "index_shard_missing": "cannot open",
        "index_tensor_not_in_shard": "has no tensor \"zzz\"", "index_shard_not_a_name": "is not a file name",
    }
    check("every bad config folder has an expectation", sorted(expected) == sorted(os.listdir(folder)),
          sorted(set(os.listdir(folder)) ^ set(expected)))
    for case, words in expected.items():
        d = os.path.join(folder, case)
        weights = os.path.join(d, "model.safetensors.index.json" if case.startswith("index") else "model.safetensors")
        expect_error(f"config {case}", ["vit", "--weights", weights, "--image", SAMPLE, "--heads", "2",
                                        "--attn-out", tmp("c.npy")], mentions=[words], output=tmp("c.npy"))


def test_words():
    # Word-to-image attention from a file: 3 words over a class token and
    # 4 x 4 patches, 2 layers, 2 heads, on the 448 x 448 sample.
    folder = os.path.join(VALID, "words")
    a = np.load(os.path.join(folder, "attn.npy")).astype(np.float64)
    attn, words = os.path.join(folder, "attn.npy"), os.path.join(folder, "tokens.txt")
    m, grid, per = tmp("wm.npy"), tmp("words.png"), tmp("per_word")
    r = run("words", "--image", SAMPLE, "--attn", attn, "--tokens", words, "--out", grid, "--maps-out", m,
            "--out-dir", per)
    check("words: runs", r.returncode == 0, r.stderr)
    if r.returncode:
        return
    check("words: says where the image's keys are", "4 x 4 patches" in r.stdout and "keys 1 to 16 of 17" in r.stdout,
          r.stdout)
    want = a[-1].mean(0)[:, 1:].reshape(3, 4, 4)
    got = np.load(m)
    check("words: maps are the last layer's mean over heads, [T, ROWS, COLS]",
          got.dtype == np.float32 and got.shape == (3, 4, 4) and np.allclose(got, want, atol=1e-6), got.shape)
    from PIL import Image
    g = Image.open(grid)
    check("words: the grid is one row of the image and three words", g.size[0] > 2.5 * g.size[1], g.size)
    files = sorted(os.listdir(per))
    check("words: one overlay per word at the image's size", files == ["00-a.png", "01-red.png", "02-circle.png"] and
          all(Image.open(os.path.join(per, f)).size == (448, 448) for f in files), files)
    hot = np.unravel_index(np.argmax(want[1]), (4, 4))
    red = np.asarray(Image.open(os.path.join(per, "01-red.png")).convert("RGB")).astype(int)
    cy, cx = hot[0] * 112 + 56, hot[1] * 112 + 56
    cold = np.unravel_index(np.argmin(want[1]), (4, 4))
    check("words: the word's strongest patch is the brightest in its overlay",
          red[cy, cx].sum() > red[cold[0] * 112 + 56, cold[1] * 112 + 56].sum())
    for args, ref, what in (
            (["--layer", "0", "--head", "1"], a[0, 1], "layer 0 head 1"),
            (["--layer", "mean", "--head", "max"], a.max(1).mean(0), "mean of layers, max of heads"),
            (["--head", "min"], a[-1].min(0), "min of heads"),
            (["--grid", "4,4", "--key-offset", "1"], a[-1].mean(0), "explicit grid and offset")):
        r = run("words", "--image", SAMPLE, "--attn", attn, "--tokens", os.path.join(folder, "tokens.json"),
                "--maps-out", m, *args)
        check(f"words: {what}", r.returncode == 0 and np.allclose(np.load(m), ref[:, 1:].reshape(3, 4, 4), atol=1e-6),
              r.stderr)
    # The numbers behind the grid: the maps with each word as its label.
    r = run("words", "--image", SAMPLE, "--attn", attn, "--tokens", words, "--data-out", tmp("wd.json"),
            "--out", tmp("words.pdf"), "--width", "150mm")
    lines = open(tmp("wd.csv")).read().splitlines() if r.returncode == 0 else []
    check("words --data-out: the maps, the words and the settings", r.returncode == 0 and
          np.allclose(np.load(tmp("wd.npy")), want, atol=1e-6) and lines[0] == "word,word_label,row,col,value" and
          len(lines) == 1 + 3 * 16 and lines[17].startswith("1,red,0,0,") and
          json.load(open(tmp("wd.json")))["axes"][0]["labels"] == ["a", "red", "circle"], r.stderr)
    # Keys after a prompt: 5 text keys, then the 16 patches, then 2 more.
    padded = np.concatenate([np.full((2, 2, 3, 5), 0.01), a[..., 1:], np.full((2, 2, 3, 2), 0.02)], -1)
    r = run("words", "--image", SAMPLE, "--attn", save("padded.npy", padded), "--tokens", words, "--grid", "4,4",
            "--key-offset", "5", "--maps-out", m)
    check("words: --key-offset places the image's keys", r.returncode == 0 and
          np.allclose(np.load(m), a[-1].mean(0)[:, 1:].reshape(3, 4, 4), atol=1e-6), r.stderr)
    for ext in ("svg", "pdf"):
        out = tmp(f"words.{ext}")
        r = run("words", "--image", SAMPLE, "--attn", attn, "--tokens", words, "--out", out, "--smooth", "gaussian",
                "--scale", "shared")
        head = open(out, "rb").read(5) if r.returncode == 0 else b""
        check(f"words: a vector figure as .{ext}", head in (b"<?xml", b"%PDF-"), r.stderr)
    r = run("words", "--image", SAMPLE, "--attn", os.path.join(folder, "signed.npy"), "--tokens", words, "--out", grid)
    check("words: signed values are drawn, with a note on the diverging map", r.returncode == 0 and
          "diverging" in r.stdout, r.stdout + r.stderr)

    bad = os.path.join(BAD, "words")
    expected = {
        "attn_rank1.npy": "rank 1", "attn_rank5.npy": "rank", "attn_no_words.npy": "empty",
        "attn_no_keys.npy": "empty", "attn_int32.npy": "dtype", "attn_complex.npy": "dtype",
        "attn_nan.npy": "[1, 0, 2, 5] is NaN", "attn_inf.npy": "[0, 1, 0, 3] is +Inf", "attn_truncated.npy": "truncated",
        "attn_not_npy.npy": "magic", "attn_two_tensors.safetensors": "--tensor", "attn_int.safetensors": "I32",
        "attn_no_candidate.safetensors": "no tensor of rank 2 to 4",
        "tokens_too_few.txt": "has 2 tokens but", "tokens_too_many.txt": "has 4 tokens but",
        "tokens_empty_line.txt": "line 2 is empty", "tokens_invalid_utf8.txt": "line 2 is not valid UTF-8",
        "tokens_nul.txt": "NUL", "tokens_empty.txt": "no tokens", "tokens_ids.json": "convert_ids_to_tokens",
        "tokens_not_strings.json": "element 1", "tokens_nested.json": "nests deeper",
        "tokens_not_json.json": "not a valid JSON",
    }
    check("every bad words file has an expectation", sorted(expected) == sorted(os.listdir(bad)),
          sorted(set(os.listdir(bad)) ^ set(expected)))
    for name, words_in_message in expected.items():
        path = os.path.join(bad, name)
        pair = ["--tokens", path, "--attn", attn] if name.startswith("tokens") else ["--attn", path, "--tokens", words]
        expect_error(f"words: bad {name}", ["words", "--image", SAMPLE, *pair, "--out", grid],
                     mentions=[name, words_in_message], output=grid)
    base = ["words", "--image", SAMPLE, "--attn", attn, "--tokens", words, "--out", grid]
    expect_error("words: grid larger than the keys", base + ["--grid", "5,5"], mentions=["more than", "17 keys"],
                 output=grid)
    expect_error("words: offset past the end", base + ["--key-offset", "17"], mentions=["past the last"], output=grid)
    expect_error("words: grid and offset run past the end", base + ["--grid", "4,4", "--key-offset", "2"],
                 mentions=["run past"], output=grid)
    expect_error("words: a grid that leaves keys over", base + ["--grid", "3,3"], mentions=["--key-offset"], output=grid)
    expect_error("words: negative grid", base + ["--grid", "-1,2"], mentions=["--grid"], output=grid)
    expect_error("words: negative offset", base + ["--key-offset", "-1"], mentions=["--key-offset"], output=grid)
    expect_error("words: head out of range", base + ["--head", "2"], mentions=["--head"], output=grid)
    expect_error("words: layer out of range", base + ["--layer", "2"], mentions=["--layer"], output=grid)
    expect_error("words: an unknown smoothing", base + ["--smooth", "cubic"], mentions=["--smooth", "gaussian"],
                 output=grid)
    expect_error("words: no figure format", base[:-1] + [tmp("words.gif")], mentions=[".svg"])
    wide = tmp("wide.png")
    Image.new("RGB", (1000, 100)).save(wide)
    expect_error("words: no grid fits the image", ["words", "--image", wide, "--attn", attn, "--tokens", words,
                                                   "--out", grid], mentions=["--grid"], output=grid)
    expect_error("words: nothing to write", base[:-2], code=2, mentions=["--out"])
    expect_error("words: tokens required", ["words", "--image", SAMPLE, "--attn", attn, "--out", grid], code=2,
                 mentions=["--tokens"])


def test_caption():
    """attnscope-cli caption on the tiny valid captioner (tests/data/valid)
    and on every bad model folder; the bundled captioner's own numbers are
    checked by tests/torch/captioner_crosscheck.py and the evaluation."""
    from PIL import Image
    tiny = os.path.join(VALID, "captioner_tiny")
    grid, m, c, e, d, g = tmp("cap.png"), tmp("cap_m.npy"), tmp("cap_c.npy"), tmp("cap_e.npy"), tmp("cap_d.npy"), \
        tmp("cap_g.npy")
    scene = tmp("scene.png")
    r = run("caption", "--scene", "3", "--scene-out", scene, "--model", tiny, "--out", grid, "--maps-out", m,
            "--cross-out", c, "--encoder-out", e, "--decoder-out", d, "--logits-out", g)
    if check("caption on the tiny captioner", r.returncode == 0, r.stderr):
        lines = r.stdout.splitlines()
        words = lines[0].split(" ") if lines[0] else []
        T = len(words)
        check("caption: the caption is the first line, then the scene's truth",
              lines[1].startswith("the scene: a ") and ("true" in lines[1] or "wrong" in lines[1]), r.stdout)
        check("caption: the scene is 128 x 128", Image.open(scene).size == (128, 128))
        maps, cross, enc, dec, logits = (np.load(x) for x in (m, c, e, d, g))
        check("caption: shapes [T,2,2], [1,2,T,4], [1,2,4,4], [1,2,T,T], [S,6]",
              maps.shape == (T, 2, 2) and cross.shape == (1, 2, T, 4) and enc.shape == (1, 2, 4, 4)
              and dec.shape == (1, 2, T, T) and logits.shape[1] == 6 and logits.shape[0] in (T, T + 1),
              f"{maps.shape} {cross.shape} {enc.shape} {dec.shape} {logits.shape}")
        check("caption: every attention row sums to 1", all(np.allclose(a.sum(-1), 1, atol=1e-5) for a in (cross, enc, dec)))
        check("caption: the maps are the last layer's cross-attention, mean of heads",
              np.allclose(maps.reshape(T, 4), cross[-1].mean(0), atol=1e-6))
        check("caption: the decoder's self-attention is causal", np.allclose(np.triu(dec, 1), 0))
        check("caption: the grid is a PNG", open(grid, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
    r2 = run("caption", "--image", scene, "--model", tiny, "--checkpoint", "10")
    check("caption: --image and --checkpoint give the same caption for the same pixels",
          r2.returncode == 0 and r.returncode == 0 and r2.stdout.splitlines()[0] == r.stdout.splitlines()[0],
          r2.stderr + r2.stdout)
    for fmt in ("svg", "pdf"):
        out = tmp(f"cap.{fmt}")
        r = run("caption", "--scene", "5", "--model", tiny, "--out", out)
        check(f"caption --out .{fmt}", r.returncode == 0 and os.path.getsize(out) > 1000, r.stderr)
    r = run("caption", "--image", SAMPLE, "--model", tiny, "--out-dir", tmp("cap_words"), "--data-out", tmp("cap_data"))
    check("caption of any image (resized), --out-dir and --data-out", r.returncode == 0
          and os.path.exists(tmp("cap_data.json")) and os.path.isdir(tmp("cap_words")), r.stderr)
    expect_error("caption: neither --image nor --scene", ["caption", "--model", tiny], code=2, mentions=["--image", "--scene"])
    expect_error("caption: both --image and --scene", ["caption", "--model", tiny, "--scene", "1", "--image", SAMPLE],
                 code=2, mentions=["--scene"])
    expect_error("caption: unknown checkpoint", ["caption", "--model", tiny, "--scene", "1", "--checkpoint", "7",
                                                 "--out", grid], mentions=["step 7", "0, 10"], output=grid)
    expect_error("caption: no such folder", ["caption", "--model", tmp("nowhere"), "--scene", "1"],
                 mentions=["config.json"])
    expect_error("caption: bad figure format", ["caption", "--model", tiny, "--scene", "1", "--out", tmp("x.gif")],
                 mentions=["gif", ".svg"])
    mentions = {
        "config_not_json": ["not valid JSON"], "config_nested_bomb": ["deeper"], "config_not_object": ["object"],
        "config_wrong_format": ["format"], "config_missing_width": ["width", "missing"],
        "config_width_string": ["width", "integer"], "config_patch_not_dividing": ["patch", "divide"],
        "config_heads_not_dividing": ["heads"], "config_decoder_heads_count": ["decoder_heads"],
        "config_decoder_heads_differ": ["same number of heads"], "config_vocab_empty": ["vocab"],
        "config_vocab_not_strings": ["vocab"], "config_bos_out_of_range": ["bos"], "config_std_zero": ["std"],
        "config_activation_unknown": ["relu"], "config_checkpoint_escapes": ["inside the model's folder"],
        "config_checkpoints_unsorted": ["ascending"], "config_missing": ["config.json"],
        "weights_missing": ["model.safetensors"], "weights_not_safetensors": ["model.safetensors"],
        "weights_missing_tensor": ["decoder.0.norm3.weight"], "weights_wrong_shape": ["pos_embed", "[5, 8]"],
        "weights_nan": ["head.bias", "not finite"], "weights_overflow": ["overflow"],
    }
    bad = os.path.join(BAD, "captioner")
    check("caption: every bad captioner folder has a test", sorted(os.listdir(bad)) == sorted(mentions),
          f"{sorted(set(os.listdir(bad)) ^ set(mentions))}")
    for case, words in mentions.items():
        expect_error(f"caption: bad {case}", ["caption", "--model", os.path.join(bad, case), "--scene", "1",
                                              "--out", grid, "--maps-out", m], mentions=words, output=grid)


def test_vit_views_and_norms():
    # A tiny Hugging Face ViT (the bad-config cases' weights, a good config
    # beside them): the views the app offers, and the token norms.
    d = tmp("tiny_vit")
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(BAD, "configs", "config_eps_zero", "model.safetensors"), d)
    weights = os.path.join(d, "model.safetensors")
    norms, png = tmp("norms.npy"), tmp("norms.png")
    r = run("vit", "--weights", weights, "--image", SAMPLE, "--heads", "2", "--norms-out", norms,
            "--out", png, "--query", "norms", "--layer", "0")
    check("vit --query norms --norms-out succeed", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        n = np.load(norms)
        layers = int(re.search(r"(\d+) layers", r.stdout).group(1))
        check("--norms-out is [L + 1, N], positive", n.ndim == 2 and n.shape[0] == layers + 1 and (n > 0).all(),
              (n.shape, r.stdout))
        check("the norms view is a picture", os.path.getsize(png) > 0)
    for extra in (["--query", "cls", "--ignore-norms", "2"], ["--query", "0,0", "--head", "max"],
                  ["--head", "rollout"]):
        r = run("vit", "--weights", weights, "--image", SAMPLE, "--heads", "2", "--out", png, *extra)
        check(f"vit {' '.join(extra)} succeeds", r.returncode == 0, r.stderr)
    expect_error("no distillation token", ["vit", "--weights", weights, "--image", SAMPLE, "--heads", "2", "--out", png,
                                           "--query", "dist"], mentions=["distillation"], output=png)
    expect_error("a bad --query is named", ["vit", "--weights", weights, "--image", SAMPLE, "--heads", "2", "--out", png,
                                            "--query", "eye"], mentions=["--query", "cls", "norms", "COL,ROW"], output=png)
    # Sheets: every head and the heads fused at a layer, or that for every
    # layer, labelled; PNG, SVG or PDF by the extension. The one map as a
    # vector figure too.
    from PIL import Image
    base = ["vit", "--weights", weights, "--image", SAMPLE, "--heads", "2"]
    sheet = tmp("sheet.png")
    r = run(*base, "--sheet", "heads", "--out", sheet, "--panel", "100")
    check("vit --sheet heads: one row of 2 heads and their mean", r.returncode == 0 and
          Image.open(sheet).size[0] > 3 * 100 > Image.open(sheet).size[1], r.stderr)
    svg = tmp("sheet.svg")
    r = run(*base, "--sheet", "layers", "--out", svg, "--panel", "100")
    text = open(svg).read() if r.returncode == 0 else ""
    check("vit --sheet layers as SVG: a raster per layer and head, and the mean", text.startswith("<?xml") and
          text.count("<image") == layers * 3, (text.count("<image"), layers, r.stderr))
    pdf = tmp("one.pdf")
    r = run(*base, "--out", pdf)
    check("vit --out as PDF", r.returncode == 0 and open(pdf, "rb").read(5) == b"%PDF-", r.stderr)
    # The numbers behind a sheet and behind one map, with their labels.
    r = run(*base, "--sheet", "layers", "--out", sheet, "--data-out", tmp("sheet"), "--attn-out", tmp("sa.npy"),
            "--query", "1,1", "--no-labels", "--width", "300px")
    if r.returncode == 0:
        data, meta, a = np.load(tmp("sheet.npy")), json.load(open(tmp("sheet.json"))), np.load(tmp("sa.npy"))
        rows, cols = data.shape[2:]
        check("vit --sheet layers --data-out: [LAYERS, HEADS + 1, ROWS, COLS], labelled", data.shape[:2] == (layers, 3)
              and meta["axes"][0]["labels"][0] == "layer 0" and meta["axes"][1]["labels"] == ["head 0", "head 1", "mean"],
              (data.shape, meta["axes"]))
        # The query patch (1,1) is token 1 + cols + 1; each panel is its row
        # over the patches, renormalised without the class token.
        q = 1 + cols + 1
        row = a[0, 1, q, 1:]
        check("a sheet's numbers are the attention rows shown", np.allclose(data[0, 1].ravel(), row / row.sum(), atol=1e-5),
              np.abs(data[0, 1].ravel() - row / row.sum()).max())
        check("--width 300px sets the sheet's width", Image.open(sheet).size[0] == 300, Image.open(sheet).size)
    else:
        check("vit --sheet --data-out runs", False, r.stderr)
    # Rollout through each layer in turn: the last stage is the whole rollout.
    r = run(*base, "--sheet", "rollout", "--out", tmp("roll.svg"), "--data-out", tmp("roll"))
    r2 = run(*base, "--head", "rollout", "--out", tmp("rollone.png"), "--data-out", tmp("rollone"))
    if r.returncode == 0 and r2.returncode == 0:
        stages, whole = np.load(tmp("roll.npy")), np.load(tmp("rollone.npy"))
        root = svg_tree(tmp("roll.svg"))
        check("vit --sheet rollout: one map per layer, the last equal to --head rollout's",
              stages.shape[0] == layers and np.allclose(stages[-1], whole, atol=1e-6) and
              (layers == 1 or not np.allclose(stages[0], stages[-1], atol=1e-4)), (stages.shape, np.abs(stages[-1] - whole).max()))
        check("vit --sheet rollout as SVG: the image and a raster per layer",
              root is not None and svg_count(root, "image") == layers + 1, svg_count(root, "image") if root else None)
    else:
        check("vit --sheet rollout runs", False, r.stderr + r2.stderr)
    one_pdf = tmp("labelled.pdf")
    r = run(*base, "--out", one_pdf, "--labels", "--data-out", tmp("one"))
    check("vit --labels as PDF, with its numbers", r.returncode == 0 and np.load(tmp("one.npy")).ndim == 2 and
          json.load(open(tmp("one.json")))["settings"]["query"] == "cls", r.stderr)
    expect_error("a sheet of rollout", base + ["--sheet", "heads", "--head", "rollout", "--out", sheet],
                 mentions=["--sheet", "rollout"], output=sheet)
    expect_error("a sheet needs --out", base + ["--sheet", "heads", "--attn-out", tmp("a.npy")], code=2,
                 mentions=["--out"])
    expect_error("an unknown figure format", base + ["--out", tmp("x.gif")], mentions=[".svg", ".pdf"])
    expect_error("an unknown sheet", base + ["--sheet", "rows", "--out", sheet], mentions=["--sheet"], output=sheet)


def svg_tree(path):
    """The SVG's root element, or None when it does not parse."""
    import xml.etree.ElementTree as ET
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return None


def svg_count(root, tag):
    return sum(1 for e in root.iter() if e.tag.endswith("}" + tag) or e.tag == tag)


def pdf_page(path, dpi):
    """The PDF's first page rendered by poppler's pdftoppm, as an RGB array."""
    from PIL import Image
    base = path[:-4] + "-page"
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", path, base], check=True, timeout=60)
    return np.asarray(Image.open(base + ".png").convert("RGB")).astype(np.int16)


def test_figures():
    # One overlay as a labelled figure in every format; the vector ones keep
    # the heatmap as one embedded raster and the text, ticks, grid lines and
    # ring as shapes. The PDF, rendered, matches the PNG of the same figure.
    from PIL import Image
    base = ["render", "--image", SAMPLE, "--query", "3,4", "--labels"]
    png, svg, pdf = tmp("fig.png"), tmp("fig.svg"), tmp("fig.pdf")
    for path in (png, svg, pdf):
        r = run(*base, "--out", path)
        check(f"render --labels --out {path[-3:]}", r.returncode == 0, r.stderr)
    picture = np.asarray(Image.open(png).convert("RGB")).astype(np.int16)
    check("the labelled figure is wider than the image (its colour bar) and taller (its title)",
          picture.shape[1] > 448 + 40 and picture.shape[0] > 448 + 30, picture.shape)
    root = svg_tree(svg)
    check("the SVG parses", root is not None)
    if root is not None:
        width = float(root.get("width", "0").replace("pt", ""))
        check("the SVG is the PNG's size in points", abs(width - picture.shape[1]) <= 1, (width, picture.shape))
        check("the SVG holds one raster (the heatmap)", svg_count(root, "image") == 1, svg_count(root, "image"))
        # cairo writes each glyph once as a <symbol> and places it with <use>:
        # the title, subtitle, tick labels and caption are 100+ glyphs.
        check("the SVG's text is there, as glyphs", svg_count(root, "use") > 100, svg_count(root, "use"))
        check("the grid lines, ticks and ring are vector paths", svg_count(root, "path") > 27 * 2, svg_count(root, "path"))
    page = pdf_page(pdf, 72)
    check("the PDF's page is the figure's shape", abs(page.shape[0] - picture.shape[0]) <= 1 and
          abs(page.shape[1] - picture.shape[1]) <= 1, (page.shape, picture.shape))
    if page.shape == picture.shape:
        # Text antialiasing and poppler's image sampling differ from cairo's
        # by a few levels (measured: mean 3.4, 96% within 16); a missing or
        # misplaced panel, bar or title differs by far more.
        diff = np.abs(page - picture)
        close = (diff.max(-1) <= 16).mean()
        check("the PDF, rendered, matches the PNG (mean difference < 6 of 255, 90% of pixels within 16)",
              diff.mean() < 6 and close > 0.9, (diff.mean(), close))
    # Sizes: a physical width with a DPI for the PNG; points for the PDF.
    r = run(*base, "--out", png, "--width", "120mm", "--dpi", "200")
    want = round(120 / 25.4 * 200)
    check("--width 120mm --dpi 200: a PNG of 945 pixels across",
          r.returncode == 0 and abs(Image.open(png).size[0] - want) <= 1, Image.open(png).size)
    r = run(*base, "--out", pdf, "--width", "120mm")
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    check("--width 120mm: a PDF page 340 points wide", size and abs(float(size.group(1)) - 120 / 25.4 * 72) < 0.5, info)
    # The bare overlay (no figure option) stays the image's own size.
    r = run("render", "--image", SAMPLE, "--out", png)
    check("render without figure options writes the overlay at the image's size",
          r.returncode == 0 and Image.open(png).size == (448, 448))

    # The comparison: A | B | A - B, and the difference equals two renders'
    # weights subtracted.
    wa, wb, d, ab = tmp("wa.npy"), tmp("wb.npy"), tmp("d.npy"), tmp("ab.png")
    one = ["render", "--image", SAMPLE, "--query", "10,12", "--source", "random", "--seed", "3"]
    r = run(*one, "--out", tmp("a.png"), "--weights-out", wa, "--temperature", "2")
    r2 = run(*one, "--out", tmp("b.png"), "--weights-out", wb, "--temperature", "0.5", "--head", "1")
    r3 = run(*one, "--temperature", "2", "--out", ab, "--compare", "temperature=0.5,head=1", "--diff-out", d,
             "--data-out", tmp("abdata"))
    check("render --compare runs", r.returncode == 0 and r2.returncode == 0 and r3.returncode == 0,
          r.stderr + r2.stderr + r3.stderr)
    if r3.returncode == 0:
        diff = np.load(d)
        check("--diff-out is A's weights minus B's, [H, 1, N]", diff.shape == (4, 1, 784) and
              np.allclose(diff, np.load(wa) - np.load(wb), atol=1e-7), diff.shape)
        data = np.load(tmp("abdata.npy"))
        mean_a = np.load(wa).mean(0).reshape(28, 28)
        head_b = np.load(wb)[1].reshape(28, 28)
        check("--data-out: [3, ROWS, COLS] = A (the mean of heads), B (head 1), A - B",
              data.shape == (3, 28, 28) and np.allclose(data[0], mean_a, atol=1e-6) and
              np.allclose(data[1], head_b, atol=1e-6) and np.allclose(data[2], data[0] - data[1], atol=1e-7),
              data.shape)
        meta = json.load(open(tmp("abdata.json")))
        check("the JSON sidecar has both sides' settings", meta["settings"]["A"]["temperature"] == 2 and
              meta["settings"]["B"]["temperature"] == 0.5 and meta["settings"]["B"]["head"] == "1" and
              meta["shape"] == [3, 28, 28] and meta["axes"][0]["labels"] == ["A", "B", "A - B"], meta)
        lines = open(tmp("abdata.csv")).read().splitlines()
        check("the CSV has a header and a line per value", len(lines) == 1 + 3 * 784 and
              lines[0] == "panel,panel_label,row,col,value" and lines[1].startswith("0,A,0,0,"), lines[:2])
        size = Image.open(ab).size
        check("the comparison is three panels side by side", size[0] > 3 * size[1] / 1.6, size)
        check("the comparison says where A and B differ most", "largest |A - B|" in r3.stdout, r3.stdout)
    svg = tmp("ab.svg")
    r = run(*one, "--out", svg, "--compare", "query=3,4", "--data-out", tmp("q.json"))
    root = svg_tree(svg) if r.returncode == 0 else None
    check("a comparison as SVG: three rasters", root is not None and svg_count(root, "image") == 3, r.stderr)
    meta = json.load(open(tmp("q.json"))) if r.returncode == 0 else {}
    check("--compare query=3,4: a pair with its comma is one value", r.returncode == 0 and
          meta["settings"]["B"]["query"] == [3, 4] and meta["settings"]["A"]["query"] == [10, 12], meta)
    expect_error("--compare with an unknown key", [*one, "--out", ab, "--compare", "colour=red"],
                 mentions=["--compare", "colour"], output=ab)
    expect_error("--compare with the output's name", [*one, "--out", ab, "--compare", "out=x.png"],
                 mentions=["--compare", "out"], output=ab)
    expect_error("--compare without a value", [*one, "--out", ab, "--compare", "temperature"],
                 mentions=["--compare", "KEY=VALUE"], output=ab)
    expect_error("--compare with a bad value", [*one, "--out", ab, "--compare", "temperature=-1"],
                 mentions=["temperature"], output=ab)
    expect_error("--compare of different grids", [*one, "--out", ab, "--compare", "patch=32"],
                 mentions=["--compare", "grid"], output=ab)
    expect_error("--diff-out needs --compare", [*one, "--out", ab, "--diff-out", d], code=2, mentions=["--compare"])
    expect_error("a width in centimetres", [*one, "--out", ab, "--width", "10cm"], mentions=["--width", "mm"], output=ab)
    expect_error("a dpi too small", [*one, "--out", ab, "--dpi", "3"], mentions=["--dpi"], output=ab)
    expect_error("a figure too large", [*one, "--out", ab, "--width", "2000mm", "--dpi", "2400"],
                 mentions=["too large"], output=ab)


def test_numbers_and_shapes():
    q, k, v = (save(n, np.random.randn(5, 8)) for n in ("q.npy", "kk.npy", "v.npy"))
    w = tmp("w.npy")
    nan = np.random.randn(5, 8)
    nan[3, 2] = np.nan
    expect_error("NaN in Q", ["attend", "--q", save("qnan.npy", nan), "--k", k, "--weights-out", w], mentions=["Q", "NaN", "row 3"], output=w)
    inf = np.random.randn(2, 5, 4)
    inf[1, 4, 0] = np.inf
    expect_error("Inf in 3-D K", ["attend", "--q", save("q3.npy", np.random.randn(2, 5, 4)), "--k", save("kinf.npy", inf)], mentions=["K", "Inf", "head 1", "row 4"])
    expect_error("scores overflow", ["attend", "--q", save("qbig.npy", np.full((2, 4), 1e30)), "--k", save("kbig.npy", np.full((2, 4), 1e30))], mentions=["overflow"])
    huge = save("qhuge.npy", np.array([[3e38, 1.0], [-3e38, 2.0]]))
    r = run("attend", "--q", huge, "--k", save("kone.npy", np.eye(2)), "--weights-out", w)
    check("huge finite values: stable softmax", r.returncode == 0 and np.isfinite(np.load(w)).all(), r.stderr)
    for t in ("0", "-1", "nan", "inf", "-inf"):
        expect_error(f"temperature {t}", ["attend", "--q", q, "--k", k, "--temperature", t], mentions=["--temperature"])
    r = run("attend", "--q", q, "--k", k, "--temperature", "1e-30", "--weights-out", w)
    ww = np.load(w)
    check("temperature 1e-30 is argmax", r.returncode == 0 and np.allclose(ww.max(-1), 1) and np.isfinite(ww).all(), r.stderr)
    expect_error("d_q != d_k", ["attend", "--q", q, "--k", save("k6.npy", np.random.randn(5, 6))], mentions=["width"])
    expect_error("Nk != Nv", ["attend", "--q", q, "--k", k, "--v", save("v7.npy", np.random.randn(7, 8))], mentions=["rows"])
    expect_error("d_model not divisible by heads", ["attend", "--q", q, "--k", k, "--heads", "3"], mentions=["divisible", "3 heads"])
    expect_error("Q and K head counts differ", ["attend", "--q", save("q2h.npy", np.random.randn(2, 5, 4)), "--k", save("k3h.npy", np.random.randn(3, 5, 4))], mentions=["heads"])
    expect_error("--heads disagrees with 3-D", ["attend", "--q", save("q2h.npy", np.random.randn(2, 5, 4)), "--k", save("k2h.npy", np.random.randn(2, 5, 4)), "--heads", "4"], mentions=["--heads"])
    expect_error("causal needs Nq = Nk", ["attend", "--q", save("q4.npy", np.random.randn(4, 8)), "--k", k, "--mask", "causal"], mentions=["causal"])
    expect_error("rank-1 input", ["attend", "--q", save("r1.npy", np.arange(5)), "--k", k], mentions=["r1.npy", "rank 1"])
    for n, d in ((1, 1), (1, 8), (2, 1)):
        qq = save(f"q_{n}_{d}.npy", np.random.randn(n, d))
        r = run("attend", "--q", qq, "--k", qq, "--v", qq, "--weights-out", w, "--output-out", tmp("o.npy"))
        check(f"N={n} d={d} works", r.returncode == 0 and np.allclose(np.load(w).sum(-1), 1), r.stderr)
    # N = 16384: H x N x N logits and weights would be 2 GiB; refused before allocating.
    n16 = save("n16k.npy", np.random.randn(16384, 2))
    expect_error("N=16384 over the matrix budget", ["attend", "--q", n16, "--k", n16], mentions=["GiB", "--max-matrix-mb"])
    # Only the output asked for: no matrix is kept, so the same N works, and
    # equals softmax(Q Kᵀ / sqrt(d)) V computed here in float64, block by block.
    v16 = save("v16k.npy", np.random.randn(16384, 3))
    out16 = tmp("o16k.npy")
    r = run("attend", "--q", n16, "--k", n16, "--v", v16, "--output-out", out16, "--mask", "causal", timeout=300)
    check("N=16384 output only: no matrix, no budget", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        qd, vd, got = np.load(n16).astype(np.float64), np.load(v16).astype(np.float64), np.load(out16)
        worst = 0.0
        for i0 in range(0, 16384, 2048):
            s = qd[i0:i0 + 2048] @ qd.T / np.sqrt(2)
            s[np.arange(16384)[None, :] > (i0 + np.arange(2048))[:, None]] = -np.inf  # causal
            s = np.exp(s - s.max(1, keepdims=True))
            want = (s / s.sum(1, keepdims=True)) @ vd
            worst = max(worst, np.abs(got[i0:i0 + 2048] - want).max() / np.abs(want).max())
        check("N=16384 output only equals the float64 reference (causal)", worst < 1e-5, worst)


def test_outputs_and_stats():
    q = save("sq.npy", np.random.randn(2, 6, 4))
    v = save("sv.npy", np.random.randn(2, 6, 3))
    w, o = tmp("sw.npy"), tmp("so.npy")
    r = run("attend", "--q", q, "--k", q, "--v", v, "--weights-out", w, "--output-out", o, "--stats")
    check("3-D attend succeeds", r.returncode == 0, r.stderr)
    check("3-D weights shape", np.load(w).shape == (2, 6, 6))
    check("3-D output shape [H, Nq, d_v]", np.load(o).shape == (2, 6, 3))
    lines = r.stdout.strip().splitlines()
    check("--stats prints a row per head and query", len(lines) == 1 + 12 and lines[0].startswith("head\trow\tentropy_nats"), r.stdout)
    q2 = save("sq2.npy", np.random.randn(6, 8))
    v2 = save("sv2.npy", np.random.randn(6, 10))
    r = run("attend", "--q", q2, "--k", q2, "--v", v2, "--heads", "2", "--output-out", o)
    check("2-D output shape [Nq, H*d_v]", r.returncode == 0 and np.load(o).shape == (6, 10), r.stderr)
    r = run("attend", "--q", q2, "--k", q2, "--score", "raw", "--stats")
    check("raw score stats say n/a", r.returncode == 0 and "n/a" in r.stdout, r.stdout)
    expect_error("--output-out needs --v", ["attend", "--q", q2, "--k", q2, "--output-out", o], code=2, mentions=["--v"])


def test_bench():
    # A small gemm: under AddressSanitizer a 2048^3 product alone takes a minute.
    r = run("bench", "--n", "300", "--heads", "2", "--d-head", "16", "--gemm-size", "256", "--repeats", "2", "--json")
    check("bench --json runs", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        out = json.loads(r.stdout)
        names = [c["name"] for c in out["cases"]]
        check("bench: every default case, with times and rates", len(names) == 6 and
              all(c["ms"] > 0 for c in out["cases"]) and out["cases"][1]["gflops"] > 0, names)
        check("bench: names its kernels and threads", out["isa"] in ("generic", "avx2", "avx512") and out["threads"] >= 1,
              out)
    for isa in ("generic", "avx2", "avx512"):
        r = run("bench", "--n", "64", "--cases", "full,output", "--repeats", "1", "--isa", isa)
        check(f"bench --isa {isa}: runs, or says the CPU lacks it", (r.returncode == 0 and isa in r.stdout) or
              (r.returncode == 3 and "does not have" in r.stderr), r.stdout + r.stderr)
    expect_error("bench: unknown case", ["bench", "--cases", "full,fast"], code=2, mentions=["fast"])
    expect_error("bench: vit needs weights", ["bench", "--cases", "vit"], code=2, mentions=["--vit"])
    expect_error("bench: over the matrix budget", ["bench", "--n", "65536", "--cases", "full"], mentions=["--max-matrix-mb"])


if __name__ == "__main__":
    run_tests(globals(), results, TMP)
