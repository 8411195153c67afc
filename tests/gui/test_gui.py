#!/usr/bin/env python3
"""The desktop app, run for real under Xvfb with Mesa's software OpenGL.

- the shader overlay equals the core's CPU overlay (attnscope-cli render),
  and the image view looks the same drawn either way (ATTNSCOPE_OVERLAY);
- screenshots at two queries differ where they should, and the panels exist;
- xdotool clicks, shift-clicks and arrow keys change the query in the window;
- a dropped bad file leaves the program running, the state untouched, and
  shows the error; bad sessions and command lines are refused clearly;
- settings persist between runs; no display gives one line and exit 1.

usage: test_gui.py BUILD_DIR    (itself run under xvfb-run by ctest)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import Results, run_tests  # noqa: E402
from PIL import Image

BUILD = os.path.abspath(sys.argv[1])
APP, CLI = os.path.join(BUILD, "attnscope"), os.path.join(BUILD, "attnscope-cli")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "assets", "sample.png")
BAD = os.path.join(ROOT, "tests", "data", "bad")
TMP = tempfile.mkdtemp(prefix="attnscope-gui-test-")
ENV = dict(os.environ, XDG_CONFIG_HOME=os.path.join(TMP, "config"))
results = Results("gui")
check = results.check



def tmp(name):
    return os.path.join(TMP, name)


def app(*args, timeout=120, env=ENV):
    return subprocess.run([APP, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def load(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int32)


def compare(name, a, b, max_tol=8, mean_tol=0.1):
    if a.shape != b.shape:
        return check(name, False, f"shapes {a.shape} vs {b.shape}")
    d = np.abs(a - b)
    check(name, d.max() <= max_tol and d.mean() <= mean_tol, f"max {d.max()}, mean {d.mean():.4f}")


def test_command_line():
    for args in (["--help"], ["--version"]):
        r = app(*args)
        check(f"{args} exits 0", r.returncode == 0 and r.stdout, r.stderr)
    r = app("--bogus")
    check("unknown flag exits 2", r.returncode == 2 and "--bogus" in r.stderr, r.stderr)
    r = app("--temperature", "0")
    check("bad value exits 3", r.returncode == 3 and "--temperature" in r.stderr, r.stderr)
    env = {k: v for k, v in ENV.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = app("--screenshot", tmp("none.png"), env=env)
    lines = r.stderr.strip().splitlines()
    check("no display: one line, exit 1, points to attnscope-cli",
          r.returncode == 1 and len(lines) == 1 and "attnscope-cli" in lines[0] and not os.path.exists(tmp("none.png")), r.stderr)
    # Mesa told to offer only OpenGL 3.0: no 3.3 core context can be made.
    r = app("--screenshot", tmp("none.png"), env=dict(ENV, MESA_GL_VERSION_OVERRIDE="3.0", MESA_GLSL_VERSION_OVERRIDE="130"))
    lines = r.stderr.strip().splitlines()
    check("no usable OpenGL: one line, exit 1, points to attnscope-cli",
          r.returncode == 1 and len(lines) == 1 and "OpenGL" in lines[0] and "attnscope-cli" in lines[0], r.stderr)
    r = app("--no-persist", "--patch", "16", "--bench-frames", "20")
    check("--bench-frames prints frame times", r.returncode == 0 and "query sweep" in r.stdout and "p99" in r.stdout,
          r.stdout + r.stderr)
    # Every query move and temperature step reaches the heatmap in the next picture.
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("change -> heatmap")]
    check("--bench-frames: each change shown within 2 frames", len(line) == 1 and "20 changes" in line[0] and
          int(line[0].split("at most ")[1].split(" ")[0]) <= 2, r.stdout)


def test_shader_matches_cpu_overlay():
    cases = [
        ["--query", "8,18"],
        ["--query", "3,4", "--temperature", "0.3", "--colormap", "viridis", "--upsample", "nearest", "--no-grid"],
        ["--patch", "8", "--query", "40,10", "--heads", "8", "--scale", "minmax", "--opacity", "0.5", "--colormap", "turbo"],
        ["--source", "random", "--query", "2,2", "--score", "cosine", "--norm", "sparsemax", "--head", "1", "--colormap", "cividis"],
        ["--source", "pixels", "--patch", "32", "--query", "5,5", "--heads", "3", "--scale", "fixed", "--mask", "local", "--radius", "2"],
    ]
    # On llvmpipe the app draws overlays on the CPU unless told otherwise:
    # both of its paths are checked against the CLI.
    for path in ("gpu", "cpu"):
        env = dict(ENV, ATTNSCOPE_OVERLAY=path)
        for i, extra in enumerate(cases):
            gl, cpu = tmp(f"{path}{i}.png"), tmp(f"cpu{i}.png")
            r = app("--no-persist", *extra, "--export-overlay", gl, env=env)
            check(f"export overlay ({path}) {extra}", r.returncode == 0, r.stderr)
            r2 = subprocess.run([CLI, "render", "--image", SAMPLE, "--out", cpu, *extra], capture_output=True, text=True)
            check(f"cli render {extra}", r2.returncode == 0, r2.stderr)
            if r.returncode == 0 and r2.returncode == 0:
                compare(f"{path} overlay equals the CLI's {extra}", load(gl), load(cpu))


def test_view_same_on_gpu_and_cpu():
    # A 1400 px image in an 840 px view: the overlay is drawn for the visible
    # part at 1.67 image pixels a screen pixel (grid lines hidden at patch 8,
    # shown at patch 32), by the shader or by the CPU: the same window.
    big = tmp("big1400.png")
    Image.open(SAMPLE).resize((1400, 1400), Image.BICUBIC).save(big)
    for extra in (["--patch", "8"], ["--patch", "32", "--upsample", "nearest", "--colormap", "turbo"]):
        shots = {}
        for path in ("gpu", "cpu"):
            shots[path] = tmp(f"view_{path}.png")
            r = app("--no-persist", big, *extra, "--query", "5,7", "--screenshot", shots[path],
                    env=dict(ENV, ATTNSCOPE_OVERLAY=path))
            check(f"view drawn by the {path} {extra}", r.returncode == 0, r.stderr)
        if all(os.path.exists(p) for p in shots.values()):
            # Equal but for one level of rounding in a few pixels: llvmpipe
            # may fuse the blend's multiply-add, which the CPU rounds twice.
            a, b = load(shots["gpu"]), load(shots["cpu"])
            d = np.abs(a - b).max(axis=2)
            differ = int((d > 0).sum())
            check(f"the view is the same drawn by the shader or the CPU {extra}",
                  d.max() <= 1 and differ <= d.size // 10000 and a.std() > 20, f"{differ} pixels differ, max {d.max()}")


def test_image_past_the_texture_limit():
    # The GPU limit lowered to 256 px (llvmpipe's own equals our 16384 px load
    # limit): the 448 px sample is shown from a half-size copy, and the
    # overlay export, drawn on the CPU, still equals the CLI's exactly.
    env = dict(ENV, ATTNSCOPE_MAX_TEXTURE_SIZE="256")
    shot, gl, cpu = tmp("limit.png"), tmp("limit_export.png"), tmp("limit_cpu.png")
    r = app("--no-persist", "--query", "8,18", "--screenshot", shot, env=env)
    check("image past the texture limit: shown, no error", r.returncode == 0 and os.path.exists(shot), r.stderr)
    if r.returncode == 0:
        pic = load(shot)
        check("image past the texture limit: the view is not blank", pic.std() > 20, pic.std())
    r = app("--no-persist", "--query", "8,18", "--export-overlay", gl, env=env)
    r2 = subprocess.run([CLI, "render", "--image", SAMPLE, "--out", cpu, "--query", "8,18"], capture_output=True, text=True)
    check("image past the texture limit: export at full size", r.returncode == 0 and r2.returncode == 0, r.stderr + r2.stderr)
    if r.returncode == 0 and r2.returncode == 0:
        a, b = load(gl), load(cpu)
        check("image past the texture limit: export equals the CLI's", a.shape == b.shape and np.abs(a - b).max() == 0,
              a.shape)


def test_exports():
    w, c, sheet, sess = tmp("w.npy"), tmp("w.csv"), tmp("sheet.png"), tmp("saved.json")
    r = app("--no-persist", "--query", "8,18", "--heads", "4", "--export-weights", w, "--export-sheet", sheet,
            "--save-session", sess)
    check("exports succeed", r.returncode == 0, r.stderr)
    cli_w = tmp("cli_w.npy")
    subprocess.run([CLI, "render", "--image", SAMPLE, "--query", "8,18", "--out", tmp("c.png"), "--weights-out", cli_w],
                   check=True, capture_output=True)
    if r.returncode == 0:
        ours = np.load(w)
        check("exported weights [H, 1, N] equal the CLI's", ours.shape == (4, 1, 784) and np.allclose(ours, np.load(cli_w), atol=1e-6),
              ours.shape)
        sheet_img = load(sheet)
        check("heads sheet: 4 heads and the mean in a labelled row", sheet_img.shape[1] > 5 * 320 > 320 > sheet_img.shape[0] - 80
              and sheet_img.shape[0] > 320, sheet_img.shape)
        svg = tmp("sheet.svg")
        r3 = app("--no-persist", "--query", "8,18", "--heads", "4", "--export-sheet", svg)
        text = open(svg).read() if r3.returncode == 0 else ""
        check("heads sheet as SVG: one raster per head and the mean", text.startswith("<?xml") and
              text.count("<image") == 5, (r3.stderr, text.count("<image")))
        r2 = app(sess, "--export-weights", c)
        rows = [line.split(",") for line in open(c).read().strip().splitlines()] if r2.returncode == 0 else []
        check("a saved session reloads to the same weights (CSV export)", r2.returncode == 0 and len(rows) == 5 and
              np.allclose(np.array([[float(v) for v in row[1:]] for row in rows[1:]]), ours[:, 0, :], atol=1e-6), r2.stderr)
    r = app("--no-persist", "--export-overlay", tmp("no/such/dir/x.png"))
    check("failed export: exit 3, says why, no file", r.returncode == 3 and "x.png" in r.stderr and
          not os.path.exists(tmp("no/such/dir/x.png")), r.stderr)


def screenshot(name, *args):
    path, dump = tmp(name + ".png"), tmp(name + ".json")
    r = app("--no-persist", "--screenshot", path, "--dump-state", dump, *args)
    check(f"screenshot {name}", r.returncode == 0 and os.path.exists(path), r.stderr)
    return load(path), json.load(open(dump))


def test_screenshots_and_panels():
    a, sa = screenshot("q1", "--query", "3,1")
    b, sb = screenshot("q2", "--query", "8,18")
    for name in ("Controls", "Image", "Heads", "Details", "Status"):
        rect = sa.get("windows", {}).get(name)
        check(f"panel {name} drawn", rect is not None and rect[2] > 50 and rect[3] > 20, rect)
    x0, y0, x1, y1 = (int(v) for v in sa["image_rect"])
    inside = np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean()
    controls = sa["windows"]["Controls"]
    cx, cy, cw, ch = (int(v) for v in controls)
    outside = np.abs(a[cy + 30:cy + ch // 2, cx:cx + cw] - b[cy + 30:cy + ch // 2, cx:cx + cw]).mean()
    check("two queries: the image view differs", inside > 3.0, inside)
    check("two queries: the controls do not", outside < 0.5, outside)
    check("the query is the one asked for", sa["primary_query"] == 1 * 28 + 3 and sb["primary_query"] == 18 * 28 + 8,
          (sa["primary_query"], sb["primary_query"]))
    # The overlay in the screenshot is not black: the image is visible.
    check("the image view shows the picture", a[y0:y1, x0:x1].mean() > 60, a[y0:y1, x0:x1].mean())


class Running:
    """The app in the background, for xdotool to drive."""

    def __init__(self, *args, dump="running.json"):
        self.dump = tmp(dump)
        if os.path.exists(self.dump):
            os.remove(self.dump)
        self.proc = subprocess.Popen([APP, "--dump-state", self.dump, *args], env=ENV,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while not os.path.exists(self.dump) and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.1)
        self.state = json.load(open(self.dump))
        # The newest window named attnscope: this process's (another may be open).
        self.window = subprocess.run(["xdotool", "search", "--sync", "--name", "^attnscope$"], capture_output=True,
                                     text=True, timeout=30).stdout.split()[-1]
        # Real input events (XTEST) go to the focused window; events sent to
        # a window directly are synthetic, and GLFW rightly ignores them.
        self.xdotool("windowfocus", "--sync", self.window)

    def xdotool(self, *args):
        subprocess.run(["xdotool", *args], check=True, timeout=30)
        time.sleep(0.4)

    def click_patch(self, col, row, *modifiers):
        x0, y0, x1, y1 = self.state["image_rect"]
        g = self.state["grid"]
        x = x0 + (col + 0.5) * g["patch"] * (x1 - x0) / self.state["image_size"][0]
        y = y0 + (row + 0.5) * g["patch"] * (y1 - y0) / self.state["image_size"][1]
        self.xdotool("mousemove", "--window", self.window, str(int(x)), str(int(y)))
        for m in modifiers:
            self.xdotool("keydown", m)
        self.xdotool("click", "1")
        for m in modifiers:
            self.xdotool("keyup", m)

    def patch_xy(self, col, row):
        x0, y0, x1, y1 = self.state["image_rect"]
        g = self.state["grid"]
        return (int(x0 + (col + 0.5) * g["patch"] * (x1 - x0) / self.state["image_size"][0]),
                int(y0 + (row + 0.5) * g["patch"] * (y1 - y0) / self.state["image_size"][1]))

    def right_drag(self, start, end):
        """Right-drag along a row of patches, one patch at a time."""
        (c0, r), (c1, _) = start, end
        self.xdotool("mousemove", "--window", self.window, *map(str, self.patch_xy(c0, r)))
        self.xdotool("mousedown", "3")
        for c in range(c0, c1 + 1):
            self.xdotool("mousemove", "--window", self.window, *map(str, self.patch_xy(c, r)))
        self.xdotool("mouseup", "3")

    def quit(self):
        self.xdotool("mousemove", "--window", self.window, "5", "5")
        self.xdotool("key", "ctrl+q")
        self.proc.wait(timeout=30)
        return json.load(open(self.dump))


def test_real_input():
    r = Running("--no-persist")
    r.click_patch(20, 5)
    r.click_patch(7, 18, "shift")
    r.xdotool("key", "Right")
    state = r.quit()
    check("app exits 0 after ctrl+q", r.proc.returncode == 0, r.proc.stderr.read() if r.proc.stderr else "")
    # Click picked (20,5); shift-click added (7,18); Right moved the first query to (21,5).
    check("click, shift-click and arrow key change the queries", state["queries"] == [5 * 28 + 21, 18 * 28 + 7],
          state["queries"])


def tiny_vit(seed=7):
    """A small random ViT in timm names (width 32, depth 2, 2 heads, patch 16, 14x14 positions)."""
    import struct
    rng = np.random.default_rng(seed)
    D, p = 32, 16
    shapes = {"cls_token": [1, 1, D], "pos_embed": [1, 197, D], "patch_embed.proj.weight": [D, 3, p, p],
              "patch_embed.proj.bias": [D], "norm.weight": [D], "norm.bias": [D]}
    for i in range(2):
        for n, sh in (("norm1.weight", [D]), ("norm1.bias", [D]), ("norm2.weight", [D]), ("norm2.bias", [D]),
                      ("attn.qkv.weight", [3 * D, D]), ("attn.qkv.bias", [3 * D]), ("attn.proj.weight", [D, D]),
                      ("attn.proj.bias", [D]), ("mlp.fc1.weight", [4 * D, D]), ("mlp.fc1.bias", [4 * D]),
                      ("mlp.fc2.weight", [D, 4 * D]), ("mlp.fc2.bias", [D])):
            shapes[f"blocks.{i}.{n}"] = sh
    header, blob, off = {}, b"", 0
    for n, sh in shapes.items():
        a = (rng.standard_normal(sh) * 0.2 + (1.0 if n.endswith("norm1.weight") or n.endswith("norm2.weight") else 0)).astype("<f4")
        header[n] = {"dtype": "F32", "shape": sh, "data_offsets": [off, off + a.nbytes]}
        blob += a.tobytes()
        off += a.nbytes
    text = json.dumps(header).encode()
    path = tmp("tiny_vit.safetensors" if seed == 7 else f"tiny_vit_{seed}.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)
    return path


def test_vit():
    weights = tiny_vit()
    for view, cli_args in ((["--vit-view", "cls"], ["--query", "cls"]),
                           (["--vit-view", "patch", "--query", "5,9", "--layer", "0", "--fusion", "max"], ["--query", "5,9", "--layer", "0", "--head", "max"]),
                           (["--vit-view", "rollout", "--discard", "0.5"], ["--head", "rollout", "--discard", "0.5"]),
                           (["--vit-view", "cls", "--keep-mass", "0.6"], ["--threshold", "0.6"])):
        gl, cpu = tmp("vit_gl.png"), tmp("vit_cpu.png")
        r = app("--no-persist", weights, "--vit-heads", "2", "--no-grid", *view, "--export-overlay", gl)
        check(f"app ViT {view}", r.returncode == 0, r.stderr)
        r2 = subprocess.run([CLI, "vit", "--weights", weights, "--image", SAMPLE, "--heads", "2", "--out", cpu, *cli_args],
                            capture_output=True, text=True)
        check(f"cli vit {cli_args}", r2.returncode == 0, r2.stderr)
        if r.returncode == 0 and r2.returncode == 0:
            compare(f"app ViT overlay equals the CLI's {view}", load(gl), load(cpu))
    img, st = screenshot("vit", weights, "--vit-heads", "2")
    check("ViT screenshot: 196 patches, 2 heads", st["tokens"] == 196 and st["heads"] == 2, (st["tokens"], st.get("heads")))
    # Dropped once the ViT is on screen, and at the first frame, before any
    # scene has arrived (the request it replaces must come back).
    for frame in ("3", "1"):
        st = screenshot("vit_bad_drop" + frame, weights, "--vit-heads", "2", "--drop-frame", frame,
                        "--drop", os.path.join(BAD, "safetensors", "offsets_gap.safetensors"))[1]
        check(f"a bad weights file dropped at frame {frame} keeps the ViT", st["settings"]["vit_weights"] == weights and
              st["tokens"] == 196 and any("offsets_gap" in m["text"] for m in st["messages"] if m["error"]), st["messages"])


def test_words():
    # Imported word attention: 3 words over a class token and 4 x 4 patches.
    folder = os.path.join(ROOT, "tests", "data", "valid", "words")
    attn, words = os.path.join(folder, "attn.npy"), os.path.join(folder, "tokens.txt")
    grid = tmp("words_grid.svg")
    img, st = screenshot("words", SAMPLE, "--words", attn, "--tokens", words, "--word", "1", "--export-words", grid)
    check("words: the scene is the words over 4 x 4 patches", st["tokens"] == 16 and st["words"] == [1] and
          len(st["word_rects"]) == 3, (st["tokens"], st.get("words"), st.get("word_rects")))
    check("words: the grid exported as SVG", os.path.exists(grid) and open(grid, "rb").read(5) == b"<?xml")
    # The strip sits above the image, inside the image panel.
    x0, y0, x1, y1 = st["word_rects"][0]
    check("words: the strip is above the image", y1 <= st["image_rect"][1], (st["word_rects"][0], st["image_rect"]))
    # The reverse view: hovering a patch tints the words by their weight there.
    hovered, sh = screenshot("words_hover", SAMPLE, "--words", attn, "--tokens", words, "--hover", "2,2")
    a = np.load(attn)[-1].mean(0)[:, 1 + 2 * 4 + 2]
    def brightness(image, rect):
        x0, y0, x1, y1 = (int(v) for v in rect)
        return image[y0 + 2:y1 - 2, x0 + 2:x1 - 2].mean()
    tints = [brightness(hovered, r) for r in sh["word_rects"]]
    check("words: hovering a patch tints the word that looks there most the brightest",
          int(np.argmax(tints)) == int(np.argmax(a)), (tints, a.tolist()))
    # Clicks, shift-clicks and arrow keys choose the words.
    r = Running("--no-persist", SAMPLE, "--words", attn, "--tokens", words)
    def click_word(i, *modifiers):
        x0, y0, x1, y1 = r.state["word_rects"][i]
        r.xdotool("mousemove", "--window", r.window, str(int((x0 + x1) / 2)), str(int((y0 + y1) / 2)))
        for m in modifiers:
            r.xdotool("keydown", m)
        r.xdotool("click", "1")
        for m in modifiers:
            r.xdotool("keyup", m)
    click_word(2)
    click_word(0, "shift")
    r.xdotool("mousemove", "--window", r.window, *map(str, r.patch_xy(1, 1)))
    r.xdotool("key", "Left")
    state = r.quit()
    check("words: a click, a shift-click, then Left", state["settings"]["words"] == [1], state["settings"]["words"])


def test_captioner():
    # The bundled captioner on a drawn scene: the same caption as
    # attnscope-cli caption, for the final weights and a training step; the
    # words grid exported; the scene's patch grid.
    grid = tmp("captioner_grid.png")
    img, st = screenshot("captioner", "--captioner", "--scene", "4", "--word", "1", "--export-words", grid,
                         "--hover", "3,3")
    cli = subprocess.run([CLI, "caption", "--scene", "4"], capture_output=True, text=True, timeout=60)
    check("captioner: the CLI captions scene 4", cli.returncode == 0, cli.stderr)
    words = cli.stdout.splitlines()[0].split(" ") if cli.returncode == 0 else None
    check("captioner: the app's caption is the CLI's", st.get("word_list") == words, (st.get("word_list"), words))
    check("captioner: 8 x 8 patches, the chosen word", st["tokens"] == 64 and st["words"] == [1],
          (st["tokens"], st["words"]))
    check("captioner: the source is the captioner", st["settings"]["source"] == "captioner", st["settings"]["source"])
    check("captioner: the words grid exported", os.path.exists(grid) and open(grid, "rb").read(4) == b"\x89PNG")
    _, s0 = screenshot("captioner_step0", "--captioner", "--scene", "4", "--captioner-step", "0")
    cli0 = subprocess.run([CLI, "caption", "--scene", "4", "--checkpoint", "0"], capture_output=True, text=True,
                          timeout=60)
    words0 = cli0.stdout.splitlines()[0].split(" ") if cli0.returncode == 0 and cli0.stdout.splitlines()[0] else []
    check("captioner: the untrained step's caption is the CLI's", s0.get("word_list") == words0,
          (s0.get("word_list"), words0))


def test_compare():
    # Compare mode: the image view as A | B | A - B, exported as a figure
    # with its numbers; the difference equals two separate renders
    # subtracted; the mode is saved in the session.
    fig, sess = tmp("compare_figure.png"), tmp("compare_session.json")
    img, st = screenshot("compare", "--query", "14,12", "--compare", "temperature=0.3,head=2", "--export-compare",
                         fig, "--export-data", "--save-session", sess, "--hover", "16,11")
    a_w, b_w = tmp("cmp_a.npy"), tmp("cmp_b.npy")
    for extra, path in (([], a_w), (["--temperature", "0.3"], b_w)):
        subprocess.run([CLI, "render", "--image", SAMPLE, "--query", "14,12", "--out", tmp("cmp.png"), "--weights-out",
                        path, *extra], check=True, capture_output=True)
    a = np.load(a_w).mean(0).reshape(28, 28)
    b = np.load(b_w)[2].reshape(28, 28)
    data = np.load(tmp("compare_figure.npy")) if os.path.exists(tmp("compare_figure.npy")) else np.zeros(0)
    check("compare: the numbers are A (T = 1, mean of heads), B (T = 0.3, head 2) and A - B, as the CLI computes them",
          data.shape == (3, 28, 28) and np.allclose(data[0], a, atol=1e-6) and np.allclose(data[1], b, atol=1e-6) and
          np.allclose(data[2], a - b, atol=1e-6), data.shape)
    meta = json.load(open(tmp("compare_figure.json"))) if os.path.exists(tmp("compare_figure.json")) else {}
    check("compare: the JSON sidecar labels the panels and holds the session's settings",
          meta.get("axes", [{}])[0].get("labels", [""])[0].startswith("A: T = 1") and
          meta.get("settings", {}).get("compare_b_temperature") == 0.3, meta.get("axes"))
    figure = load(fig) if os.path.exists(fig) else np.zeros((1, 1, 3))
    check("compare: the exported figure is three panels in a row", figure.shape[1] > 1.8 * figure.shape[0],
          figure.shape)
    saved = json.load(open(sess)) if os.path.exists(sess) else {}
    check("compare: saved in the session", saved.get("compare") is True and saved.get("compare_head") is True and
          saved.get("compare_b_head") == 2 and saved.get("compare_b_temperature") == 0.3, saved)
    # On screen: the difference's colour bar runs from blue to red, and the
    # hover shows A, B and A - B (the hover's tooltip is a dark box).
    x, y, w, h = (int(v) for v in st["windows"]["Image"])
    view = img[y:y + h, x:x + w]
    blue = (np.abs(view - np.array([59, 76, 192])).sum(-1) < 40).sum()
    red = (np.abs(view - np.array([180, 4, 38])).sum(-1) < 40).sum()
    check("compare: the difference's diverging colour bar is on screen", blue > 20 and red > 20, (blue, red))
    again, st2 = screenshot("compare_reloaded", sess)
    check("compare: a saved session opens in compare mode, the same picture", np.abs(again - img).mean() < 3,
          np.abs(again - img).mean())
    r = app("--no-persist", "--compare", "colour=red", "--screenshot", tmp("x.png"))
    check("compare: an unknown setting is refused, naming it", r.returncode == 3 and "colour" in r.stderr and
          "--compare" in r.stderr and not os.path.exists(tmp("x.png")), r.stderr)
    r = app("--no-persist", "--export-compare", tmp("y.png"))
    check("compare: --export-compare needs --compare", r.returncode == 2 and "--compare" in r.stderr, r.stderr)
    # B on its own image: another file with the same pixels gives B = A;
    # a photo of another size gives B its own grid, resampled onto A's.
    same = tmp("sample_copy.png")
    shutil.copy(SAMPLE, same)
    r = app("--no-persist", "--query", "14,12", "--compare", "image=" + same, "--export-compare", tmp("same.png"),
            "--export-data")
    data = np.load(tmp("same.npy")) if r.returncode == 0 else np.ones((3, 1, 1))
    check("compare image=: the same pixels in another file give A - B = 0", r.returncode == 0 and
          np.array_equal(data[0], data[1]) and not data[2].any(), r.stderr)
    cat = os.path.join(ROOT, "tests", "data", "photos", "chelsea.png")
    r = app("--no-persist", "--query", "14,12", "--compare", "image=" + cat, "--export-compare", tmp("cat.png"),
            "--export-data")
    data = np.load(tmp("cat.npy")) if r.returncode == 0 else np.zeros((3, 1, 1))
    b_ref = tmp("cat_b.npy")
    subprocess.run([CLI, "render", "--image", cat, "--query", "14,8", "--out", tmp("catb.png"), "--data-out", b_ref],
                   check=True, capture_output=True)
    b = np.load(b_ref)  # [18, 28]: B's own grid; A's query (14,12) lands on B's (14,8)
    # Resampled onto A's 28 x 28 grid: columns match B's, rows interpolate.
    rows = np.clip((np.arange(28) + 0.5) / 28 * 18 - 0.5, 0, 17)
    r0 = np.floor(rows).astype(int)
    r1 = np.minimum(r0 + 1, 17)
    want = b[r0] + (b[r1] - b[r0]) * (rows - r0)[:, None]
    check("compare image= a photo of another size: B computed on its own grid, resampled onto A's for A - B",
          r.returncode == 0 and data.shape == (3, 28, 28) and np.allclose(data[1], want, atol=1e-6) and
          np.allclose(data[2], data[0] - data[1], atol=1e-7), r.stderr)
    # B's own model: DINO against CLIP, here two random ViTs of one shape.
    va, vb = tiny_vit(), tiny_vit(seed=8)
    r = app("--no-persist", va, "--vit-heads", "2", "--compare", "model=" + vb, "--export-compare",
            tmp("models.svg"), "--export-data")
    refs = []
    for w, name in ((va, "va"), (vb, "vb")):
        subprocess.run([CLI, "vit", "--weights", w, "--image", SAMPLE, "--heads", "2", "--out", tmp(name + ".png"),
                        "--data-out", tmp(name)], check=True, capture_output=True)
        refs.append(np.load(tmp(name + ".npy")))
    data = np.load(tmp("models.npy")) if r.returncode == 0 else np.zeros((3, 1, 1))
    check("compare model=: A and B are each model's class-token map, as the CLI draws them", r.returncode == 0 and
          data.shape == (3, 14, 14) and np.allclose(data[0], refs[0], atol=1e-5) and
          np.allclose(data[1], refs[1], atol=1e-5) and not np.allclose(data[0], data[1], atol=1e-4), r.stderr)
    r = app("--no-persist", va, "--vit-heads", "2", "--compare", "model=" + os.path.join(BAD, "safetensors",
            "offsets_gap.safetensors"), "--screenshot", tmp("badb.png"))
    check("compare model= a bad file: the error names it, A stays on screen", r.returncode == 3 and
          "offsets_gap" in r.stderr and os.path.exists(tmp("badb.png")), r.stderr)


def test_painting_and_keys():
    r = Running("--no-persist", "--query", "8,18")
    r.right_drag((2, 3), (6, 3))
    r.xdotool("key", "h")           # head 0
    r.xdotool("key", "h")           # head 1
    r.xdotool("key", "bracketright")  # temperature x 1.25
    r.xdotool("key", "g")           # grid off
    r.xdotool("key", "F3")          # the frame-time readout
    time.sleep(0.5)
    r.xdotool("key", "ctrl+o")      # the file dialog opens
    state = r.quit()
    hidden = sorted(state["settings"]["hidden_keys"])
    check("right-drag paints the mask over the dragged patches", hidden == [3 * 28 + c for c in range(2, 7)], hidden)
    check("H cycles the shown head", state["settings"]["head"] == 1, state["settings"]["head"])
    check("] raises the temperature", abs(state["settings"]["temperature"] - 1.25) < 1e-9, state["settings"]["temperature"])
    check("G toggles the grid", state["settings"]["grid"] is False, state["settings"]["grid"])
    check("Ctrl+O opens the file dialog", "File dialog" in state.get("windows", {}), list(state.get("windows", {})))
    check("F3 shows the frame times", "Frame times" in state.get("windows", {}), list(state.get("windows", {})))
    times = state.get("frame_times_ms", [])
    check("frame times: up to 120 recent frames, all positive", 0 < len(times) <= 120 and min(times) > 0, len(times))
    lat = state.get("change_to_heatmap", {})
    check("a key's change reached the heatmap within 2 frames", 1 <= lat.get("frames", 0) <= 2, lat)


def test_bad_drop_and_sessions():
    before = screenshot("before", "--query", "8,18")[1]
    for name in ("truncated.png", "gif_renamed.png", "claims_100000x100000.png"):
        img, st = screenshot("drop_" + name, "--query", "8,18", "--drop", os.path.join(BAD, "images", name))
        errors = [m["text"] for m in st["messages"] if m["error"]]
        check(f"dropped {name}: error shown", any(name in e for e in errors), st["messages"])
        check(f"dropped {name}: state untouched",
              st["settings"]["image"] == "" and st["tokens"] == before["tokens"] and st["queries"] == before["queries"],
              (st["settings"]["image"], st["tokens"], st["queries"]))
    st = screenshot("drop_bad_npy", "--drop", os.path.join(BAD, "npy", "dtype_object.npy"))[1]
    check("dropped bad .npy: error, image kept", st["settings"]["source"] == "similarity" and st["tokens"] == 784 and
          any("dtype_object.npy" in m["text"] for m in st["messages"] if m["error"]), st["messages"])

    # A session reproduces its picture: the same overlay as the CLI for its settings.
    session = json.loads(json.dumps(before["settings"]))
    session.update({"temperature": 0.5, "colormap": "viridis", "queries": [18 * 28 + 8], "upsample": "nearest"})
    path = tmp("session.json")
    json.dump(session, open(path, "w"))
    r = app(path, "--export-overlay", tmp("session.png"))
    check("session loads", r.returncode == 0, r.stderr)
    subprocess.run([CLI, "render", "--image", SAMPLE, "--query", "8,18", "--temperature", "0.5", "--colormap", "viridis",
                    "--upsample", "nearest", "--out", tmp("session_cli.png")], check=True, capture_output=True)
    if r.returncode == 0:
        compare("session reproduces the picture", load(tmp("session.png")), load(tmp("session_cli.png")))
    for name, text in (("dup.json", '{"format": "attnscope-session-1", "patch": 8, "patch": 16}'),
                       ("deep.json", '{"format": "attnscope-session-1", "x": ' + "[" * 50 + "]" * 50 + "}"),
                       ("notjson.json", "{not json"), ("wrongtype.json", '{"format": "attnscope-session-1", "patch": "big"}'),
                       ("formatnumber.json", '{"format": 0.5}'),  # found by fuzzing: used to terminate the app
                       ("hugeint.json", '{"format": "attnscope-session-1", "patch": 8e127}'),  # fuzzing: undefined cast
                       ("hugefloat.json", '{"format": "attnscope-session-1", "opacity": 1e300}')):
        with open(tmp(name), "w") as f:
            f.write(text)
        r = app(tmp(name), "--screenshot", tmp("x.png"))
        check(f"bad session {name} refused", r.returncode == 3 and name in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)


def test_autosave_after_a_kill():
    r = Running("--temperature", "0.42", "--colormap", "plasma")
    time.sleep(2.5)  # autosaved every second
    r.proc.kill()
    r.proc.wait(timeout=30)
    folder = os.path.join(ENV["XDG_CONFIG_HOME"], "attnscope")
    autosave = os.path.join(folder, f"autosave-{r.proc.pid}.json")  # each window writes its own
    check("a killed run leaves its autosave", os.path.exists(autosave))
    r = Running()
    check("the next run offers to restore it", r.state.get("restore_offered") is True, r.state.get("restore_offered"))
    r.xdotool("key", "Return")
    state = r.quit()
    check("Enter restores the killed run's settings", abs(state["settings"]["temperature"] - 0.42) < 1e-9 and
          state["settings"]["colormap"] == "plasma", (state["settings"]["temperature"], state["settings"]["colormap"]))
    left = [f for f in os.listdir(folder) if f.startswith("autosave")]
    check("a clean exit removes the autosave (and the offered one is gone)", not left, left)
    r = Running()
    check("no offer after a clean exit", r.state.get("restore_offered") is False, r.state.get("restore_offered"))
    # A second window while the first is open: the first one's autosave is
    # not a crash's, so it is not offered.
    time.sleep(2.5)
    r2 = Running("--temperature", "0.3", dump="running2.json")
    check("a second window does not offer the first one's session", r2.state.get("restore_offered") is False,
          r2.state.get("restore_offered"))
    r2.quit()
    r.quit()


def test_a_bad_file_on_the_command_line():
    # The bundled sample stays open with the error on screen; a scripted run
    # finishes at once (not after a 120 s wait) and exits 3.
    shot, dump = tmp("badcmd.png"), tmp("badcmd.json")
    start = time.time()
    r = app("--no-persist", tmp("no_such_photo.png"), "--screenshot", shot, "--dump-state", dump)
    took = time.time() - start
    check("bad file on the command line: exit 3, says why", r.returncode == 3 and "no_such_photo.png" in r.stderr,
          (r.returncode, r.stderr))
    check("bad file on the command line: finishes at once", took < 30, took)
    if os.path.exists(dump):
        st = json.load(open(dump))
        check("bad file on the command line: the sample is shown with the error",
              st["tokens"] == 784 and st["settings"]["image"] == "" and st["failed_at_start"] and
              any("no_such_photo.png" in m["text"] for m in st["messages"] if m["error"]), st["messages"])
    check("bad file on the command line: the screen is captured", os.path.exists(shot))


def test_idle_uses_no_cpu():
    # Nothing changing, the app sleeps until an event: no redraws ten times a second.
    r = Running("--no-persist")
    time.sleep(2.0)  # thumbnails and the like settle

    def cpu_seconds():
        fields = open(f"/proc/{r.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = cpu_seconds()
    time.sleep(5.0)
    used = cpu_seconds() - before
    r.click_patch(3, 4)  # and it still answers
    state = r.quit()
    check("idle: under 0.25 s of CPU in 5 s", used < 0.25, used)
    check("idle: a click after sleeping is handled", state["queries"] == [4 * 28 + 3], state["queries"])


def test_scripted_runs_show_no_hover_unless_asked():
    _, plain = screenshot("nohover", "--query", "3,4")
    check("scripted screenshot: no hover state", plain.get("hovered") == -1, plain.get("hovered"))
    _, hovered = screenshot("hover", "--query", "3,4", "--hover", "20,5")
    check("--hover COL,ROW hovers that patch", hovered.get("hovered") == 5 * 28 + 20, hovered.get("hovered"))


def test_presentation_gives_the_picture_the_room():
    for scale in ("1", "2", "3"):
        _, st = screenshot("present" + scale, "--ui-scale", scale, "--present")
        image = st["windows"]["Image"]
        check(f"presentation at UI scale {scale}: the image view has most of the width, no controls",
              image[2] >= 0.65 * 1600 and "Controls" not in st["windows"], (image, list(st["windows"])))


def test_keys_reach_every_choice_and_the_help():
    r = Running("--no-persist")
    for _ in range(5):
        r.xdotool("key", "c")  # inferno, plasma, cividis, turbo, greyscale, diverging
    r.xdotool("key", "F1")
    r.xdotool("key", "p")
    state = r.quit()
    check("C reaches the diverging colormap", state["settings"]["colormap"] == "diverging", state["settings"]["colormap"])
    check("F1 opens the help window", "About attention" in state.get("windows", {}), list(state.get("windows", {})))
    check("P turns presentation on", state["settings"]["presentation"] is True, state["settings"].get("presentation"))
    weights = tiny_vit()
    r = Running("--no-persist", weights, "--vit-heads", "2")
    r.xdotool("key", "Right")
    state = r.quit()
    check("ViT: an arrow key switches to the patch view", state["settings"]["vit_view"] == "patch",
          state["settings"]["vit_view"])


def test_settings_persist():
    r = Running("--temperature", "0.37", "--colormap", "magma")
    r.quit()
    saved = os.path.join(ENV["XDG_CONFIG_HOME"], "attnscope", "settings.json")
    check("settings file written", os.path.exists(saved))
    r = Running()
    state = r.quit()
    check("settings persist between runs", abs(state["settings"]["temperature"] - 0.37) < 1e-9 and
          state["settings"]["colormap"] == "magma", state["settings"])


if __name__ == "__main__":
    run_tests(globals(), results, TMP)
