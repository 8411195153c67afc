#!/usr/bin/env python3
"""Soak test: the real app under Xvfb, driven at random for a while.

Random clicks, shift-clicks, right-drags and wheel turns anywhere in the
window, keyboard shortcuts, files opened through the file dialog (good and
bad images, .npy files, ViT weights, sessions) and exports. The app must stay
alive the whole time, answer Ctrl+Q with exit 0, leave no background job
running, and its memory must stop growing: the last quarter's median resident
size within 64 MiB of the first quarter's peak (the median, as one large
transient late in the run, say a big export, freed into ASan's quarantine, is
a peak and not growth; a leak raises the whole quarter). CI runs it for a
minute on the ASan build.

usage: soak.py BUILD_DIR SECONDS     (run under xvfb-run)"""
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD, SECONDS = os.path.abspath(sys.argv[1]), float(sys.argv[2])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
TMP = tempfile.mkdtemp(prefix="attnscope-soak-")
seed = int(os.environ.get("ATTNSCOPE_TEST_SEED", random.SystemRandom().randrange(2**32)))
rng = random.Random(seed)

files = [os.path.join(ROOT, "assets", "sample.png")]
for folder in ("bad/images", "bad/npy", "bad/csv", "bad/safetensors", "valid"):
    d = os.path.join(DATA, folder)
    files += [os.path.join(d, f) for f in sorted(os.listdir(d))]
files += [os.path.join(ROOT, "tests", "fuzz", "seeds", "safetensors", "vit_timm.safetensors"),
          os.path.join(ROOT, "tests", "fuzz", "seeds", "session", "full.json"), "/no/such/file.png", "/dev/null", TMP]


def xdotool(*args):
    subprocess.run(["xdotool", *map(str, args)], timeout=30, capture_output=True)


def rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None


def main():
    print(f"soak: {SECONDS:.0f} s, seed {seed} (ATTNSCOPE_TEST_SEED={seed} replays)")
    dump = os.path.join(TMP, "state.json")
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(TMP, "config"))
    app = subprocess.Popen([os.path.join(BUILD, "attnscope"), "--no-persist", "--dump-state", dump], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(dump) and time.time() < deadline and app.poll() is None:
        time.sleep(0.2)
    window = subprocess.run(["xdotool", "search", "--sync", "--name", "^attnscope$"], capture_output=True, text=True,
                            timeout=60).stdout.split()[0]
    xdotool("windowfocus", "--sync", window)
    start, samples, actions = time.time(), [], 0
    while time.time() - start < SECONDS and app.poll() is None:
        x, y = rng.randrange(0, 1600), rng.randrange(0, 1000)
        kind = rng.random()
        if kind < 0.35:
            xdotool("mousemove", "--window", window, x, y, "click", rng.choice([1, 1, 1, 3]))
        elif kind < 0.45:
            xdotool("mousemove", "--window", window, x, y, "keydown", "shift", "click", "1", "keyup", "shift")
        elif kind < 0.55:
            xdotool("mousemove", "--window", window, x, y, "mousedown", "3", "mousemove_relative", "--", rng.randrange(-90, 90),
                    rng.randrange(-90, 90), "mouseup", "3")
        elif kind < 0.62:
            xdotool("mousemove", "--window", window, x, y, "click", rng.choice([4, 5]))  # wheel
        elif kind < 0.62 + 0.25:
            xdotool("key", rng.choice(["h", "c", "g", "m", "bracketleft", "bracketright", "Left", "Right", "Up", "Down",
                                       "Tab", "f", "F1", "Escape", "Escape"]))
        elif kind < 0.97:
            # Open a file through the dialog, or export to the temporary folder.
            if rng.random() < 0.8:
                xdotool("key", "ctrl+o")
                path = rng.choice(files)
            else:
                xdotool("key", "ctrl+s")
                path = os.path.join(TMP, f"export{actions}.png")
            time.sleep(0.2)
            xdotool("type", "--delay", "2", path)
            xdotool("key", "Return")
            xdotool("key", "Escape")
        else:
            xdotool("mousemove", "--window", window, x, y, "mousedown", "1", "mousemove_relative", "--",
                    rng.randrange(-200, 200), rng.randrange(-50, 50), "mouseup", "1")  # drags a slider, maybe
        actions += 1
        samples.append(rss_mb(app.pid))
    alive = app.poll() is None
    time.sleep(5)  # let background work settle
    xdotool("key", "Escape")
    xdotool("key", "Escape")
    xdotool("key", "ctrl+q")
    try:
        code = app.wait(timeout=60)
    except subprocess.TimeoutExpired:
        app.kill()
        code = "did not quit"
    state = json.load(open(dump)) if os.path.exists(dump) else {}
    samples = [s for s in samples if s is not None]
    q = max(1, len(samples) // 4)
    growth = (statistics.median(samples[-q:]) - max(samples[:q])) if samples else 0
    failures = []
    if not alive:
        failures.append(f"the app died during the soak (exit {app.returncode}): {app.stderr.read()[-2000:]}")
    if code != 0:
        failures.append(f"Ctrl+Q gave exit {code}: {app.stderr.read()[-2000:] if app.stderr else ''}")
    if state.get("busy"):
        failures.append(f"a background job was still running at exit: {state.get('busy')}")
    if growth > 64:
        failures.append(f"resident memory grew by {growth:.0f} MiB from the first quarter's peak to the last quarter's median")
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"soak: {actions} actions, RSS first-quarter peak {max(samples[:q]) if samples else 0:.0f} MiB, "
          f"last-quarter median {statistics.median(samples[-q:]) if samples else 0:.0f} MiB, "
          f"peak {max(samples[-q:]) if samples else 0:.0f} MiB")
    for f in failures:
        print("FAIL", f)
    print(f"soak: {0 if failures else 1} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
