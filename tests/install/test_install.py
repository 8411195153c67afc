#!/usr/bin/env python3
"""attnscope installed like a desktop program, checked from outside.

- the .deb (CPack): its fields, its Depends (runtime packages that exist, no
  -dev), every file a desktop needs; its own stripped binaries run;
- `cmake --install --prefix TMP`: the installed programs run from another
  directory and find their data beside themselves (no source tree involved):
  attnscope-cli renders the installed sample, the app takes a screenshot
  under Xvfb and opens several files at once as a file manager passes them;
- the menu entry passes desktop-file-validate, and its %F hands over every
  file; the MIME types make a file manager see .npy, .safetensors and
  session files as ours; the icons have their sizes; the man pages render
  and hold every command's options; bash completes every option in --help.

Builds the package first. usage: test_install.py BUILD_DIR"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import Results, run_tests  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP = tempfile.mkdtemp(prefix="attnscope-install-test-")
PREFIX = os.path.join(TMP, "prefix")
ELSEWHERE = os.path.join(TMP, "elsewhere")  # the cwd of every installed run
os.makedirs(ELSEWHERE)
# A clean environment: no data-dir override, no user settings.
ENV = {k: v for k, v in os.environ.items() if k != "ATTNSCOPE_DATA_DIR"}
ENV.update(XDG_CONFIG_HOME=os.path.join(TMP, "config"), HOME=TMP, LC_ALL="C.UTF-8")
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]
PROGRAMS = ["attnscope", "attnscope-cli"]
# A file name on a .deb or under the prefix -> what it must be.
FILES = {
    "bin/attnscope": "program",
    "bin/attnscope-cli": "program",
    "share/attnscope/sample.png": "sample image",
    "share/applications/attnscope.desktop": "menu entry",
    "share/mime/packages/attnscope.xml": "MIME types",
    "share/icons/hicolor/scalable/apps/attnscope.svg": "icon",
    "share/icons/hicolor/48x48/apps/attnscope.png": "icon",
    "share/icons/hicolor/128x128/apps/attnscope.png": "icon",
    "share/icons/hicolor/256x256/apps/attnscope.png": "icon",
    "share/man/man1/attnscope.1.gz": "man page",
    "share/man/man1/attnscope-cli.1.gz": "man page",
    "share/bash-completion/completions/attnscope": "completion",
    "share/bash-completion/completions/attnscope-cli": "completion",
}
results = Results("install")
check = results.check


def run(cmd, **kw):
    kw.setdefault("env", ENV)
    kw.setdefault("cwd", ELSEWHERE)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def tmp(name):
    return os.path.join(TMP, name)


def installed(name):
    return os.path.join(PREFIX, name)


def help_options(*cmd, implicit=("--help",)):
    """Every --option a program's --help names, and --help itself."""
    text = run([*cmd, "--help"]).stdout
    return set(re.findall(r"--[a-z](?:[a-z0-9-]*[a-z0-9])?", text)) | set(implicit)


def the_deb():
    version = run([os.path.join(BUILD, "attnscope-cli"), "--version"]).stdout.split()[-1]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    return os.path.join(BUILD, f"attnscope_{version}_{arch}.deb"), version


def test_package():
    r = run(["cmake", "--build", BUILD, "--target", "package"])
    if not check("cpack builds the .deb", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]):
        return
    deb, version = the_deb()
    if not check("the .deb is named attnscope_VERSION_ARCH.deb", os.path.isfile(deb), deb):
        return
    print(f"{os.path.basename(deb)}: {os.path.getsize(deb) / 1024:.0f} KiB")

    def field(name):
        return run(["dpkg-deb", "-f", deb, name]).stdout.strip()

    check("Package: attnscope", field("Package") == "attnscope", field("Package"))
    check("Version from project()", field("Version") == version, field("Version"))
    check("Section: science", field("Section") == "science", field("Section"))
    check("a Maintainer", "@" in field("Maintainer"), field("Maintainer"))
    check("a description", len(field("Description").splitlines()) > 3, field("Description"))
    depends = field("Depends")
    print(f"Depends: {depends}")
    names = [re.split(r"[ (]", alt.strip())[0] for dep in depends.split(",") for alt in dep.split("|")]
    check("Depends names no -dev package", not [n for n in names if n.endswith("-dev")], depends)
    for need in ("libc6", "libstdc++6", "libglfw3", "libepoxy0", "libjpeg62-turbo", "libcairo2", "libgl1", "fonts-dejavu-core"):
        check(f"Depends has {need}", need in names, depends)
    shown = run(["apt-cache", "show", "--no-all-versions", *names])
    check("every package in Depends exists", shown.returncode == 0, shown.stderr)

    listing = run(["dpkg-deb", "-c", deb]).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    for name, what in FILES.items():
        check(f"the .deb has the {what} /usr/{name}", f"/usr/{name}" in paths, "")

    # The package's own (stripped) programs, unpacked anywhere, find their data.
    root = tmp("deb-root")
    run(["dpkg-deb", "-x", deb, root])
    cli = os.path.join(root, "usr/bin/attnscope-cli")
    data = run([cli, "--data-dir"]).stdout.strip()
    check("the packaged CLI finds usr/share/attnscope", data == os.path.join(root, "usr/share/attnscope"), data)
    check("the packaged programs are stripped", "not stripped" not in run(["file", cli]).stdout, "")


def test_cmake_install():
    r = run(["cmake", "--install", BUILD, "--prefix", PREFIX])
    if not check("cmake --install --prefix works", r.returncode == 0, r.stderr[-2000:]):
        return
    for name, what in FILES.items():
        check(f"installed the {what} {name}", os.path.isfile(installed(name)), "")
    for name in ("config.json", "model.safetensors", "checkpoints/step_000000.safetensors"):
        path = installed("share/attnscope/captioner/" + name)
        check(f"installed the bundled captioner's {name}", os.path.isfile(path), path)
    data = run([installed("bin/attnscope-cli"), "--data-dir"]).stdout.strip()
    check("the installed CLI finds share/attnscope beside itself", data == installed("share/attnscope"), data)
    env = dict(ENV, ATTNSCOPE_DATA_DIR="/somewhere/else")
    data = run([installed("bin/attnscope-cli"), "--data-dir"], env=env).stdout.strip()
    check("ATTNSCOPE_DATA_DIR overrides it", data == "/somewhere/else", data)


def test_installed_cli_renders_the_installed_sample():
    out = tmp("attention.png")
    r = run([installed("bin/attnscope-cli"), "render", "--image", installed("share/attnscope/sample.png"),
             "--query", "3,4", "--out", out])
    if check("attnscope-cli render on the installed sample", r.returncode == 0, r.stderr):
        size = Image.open(out).size
        check("the render has the sample's size", size == Image.open(installed("share/attnscope/sample.png")).size,
              size)


def test_installed_cli_captions_with_the_installed_captioner():
    # The installed CLI finds the installed captioner (not the source tree's).
    env = dict(ENV)
    r = run([installed("bin/attnscope-cli"), "caption", "--scene", "1", "--checkpoint", "0"], env=env)
    check("the installed attnscope-cli captions with the installed captioner and its checkpoints",
          r.returncode == 0 and "the scene: " in r.stdout, r.stderr)


def test_installed_app():
    shot = tmp("window.png")
    r = run([*XVFB, installed("bin/attnscope"), "--screenshot", shot, "--frames", "2"])
    if check("the installed app takes a screenshot under Xvfb", r.returncode == 0, r.stderr):
        img = np.asarray(Image.open(shot).convert("RGB"))
        check("the screenshot shows something", img.std() > 10, f"std {img.std():.1f}")

    # Several files at once, as a file manager passes them: Q then K.
    rng = np.random.default_rng(7)
    np.save(tmp("Q.npy"), rng.standard_normal((36, 16)).astype(np.float32))
    np.save(tmp("K.npy"), rng.standard_normal((36, 16)).astype(np.float32))
    state = tmp("state.json")
    r = run([*XVFB, installed("bin/attnscope"), tmp("Q.npy"), tmp("K.npy"), "--dump-state", state,
             "--screenshot", tmp("qk.png"), "--frames", "2"])
    if check("the app opens two files given at once", r.returncode == 0, r.stderr):
        s = json.load(open(state))["settings"]
        check("...as Q then K", (s["source"], s["q"], s["k"]) == ("files", tmp("Q.npy"), tmp("K.npy")),
              {k: s[k] for k in ("source", "q", "k")})


def test_desktop_entry():
    desktop = installed("share/applications/attnscope.desktop")
    r = run(["desktop-file-validate", desktop])
    errors = [line for line in r.stdout.splitlines() if "error" in line.lower()]
    check("desktop-file-validate passes", r.returncode == 0 and not errors, r.stdout + r.stderr)
    entry = dict(line.split("=", 1) for line in open(desktop) if "=" in line)
    check("Exec passes every file (%F)", entry["Exec"].strip() == "attnscope %F", entry["Exec"])
    check("Categories Education and Science", {"Education", "Science"} <= set(entry["Categories"].split(";")),
          entry["Categories"])
    types = set(entry["MimeType"].strip().split(";"))
    for t in ("application/x-npy", "application/x-safetensors", "application/x-attnscope-session"):
        check(f"the entry opens {t}", t in types, entry["MimeType"])
    # What a launcher runs for two files, through GLib's own launching code:
    # a stand-in `attnscope` first on PATH records its arguments.
    fake = tmp("fakebin")
    os.makedirs(fake)
    with open(os.path.join(fake, "attnscope"), "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp("launched")}\n')
    os.chmod(os.path.join(fake, "attnscope"), 0o755)
    env = dict(ENV, PATH=fake + ":" + ENV["PATH"])
    r = run(["gio", "launch", desktop, tmp("Q.npy"), tmp("K.npy")], env=env)
    for _ in range(50):  # gio launch does not wait for the program
        if os.path.exists(tmp("launched")) and open(tmp("launched")).read().count("\n") == 2:
            break
        subprocess.run(["sleep", "0.1"])
    got = open(tmp("launched")).read().split() if os.path.exists(tmp("launched")) else r.stderr
    check("launching the entry with two files passes both", got == [tmp("Q.npy"), tmp("K.npy")], got)


def test_mime_types():
    mime = installed("share/mime")
    env = dict(ENV, XDG_DATA_DIRS=installed("share") + ":/usr/share")
    r = run(["update-mime-database", mime], env=env)
    check("update-mime-database accepts the XML", r.returncode == 0 and not r.stderr.strip(), r.stderr)
    files = tmp("types")
    os.makedirs(files)
    session = run([*XVFB, installed("bin/attnscope"), "--save-session", os.path.join(files, "lesson.json")])
    check("a session to type", session.returncode == 0, session.stderr)
    shutil.copy(os.path.join(files, "lesson.json"), os.path.join(files, "lesson.attnscope.json"))
    shutil.copy(tmp("Q.npy"), os.path.join(files, "q.npy"))
    shutil.copy(tmp("Q.npy"), os.path.join(files, "q-renamed.bin"))
    with open(os.path.join(files, "model.safetensors"), "wb") as f:
        header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
        f.write(len(header).to_bytes(8, "little") + header + b"\0\0\0\0")
    with open(os.path.join(files, "other.json"), "w") as f:
        json.dump({"format": "something-else"}, f, indent=2)
    expected = {
        "lesson.attnscope.json": "application/x-attnscope-session",  # by name
        "lesson.json": "application/x-attnscope-session",  # by content
        "other.json": "application/json",
        "q.npy": "application/x-npy",
        "q-renamed.bin": "application/x-npy",  # by its magic
        "model.safetensors": "application/x-safetensors",
    }
    for name, want in expected.items():
        got = run(["gio", "info", "-a", "standard::content-type", os.path.join(files, name)], env=env).stdout
        got = got.split("standard::content-type:")[-1].strip()
        check(f"a file manager sees {name} as {want}", got == want, got)


def test_icons():
    for size in (48, 128, 256):
        png = installed(f"share/icons/hicolor/{size}x{size}/apps/attnscope.png")
        check(f"the {size} px icon is {size} px", Image.open(png).size == (size, size), Image.open(png).size)


def test_man_pages():
    pages = {}
    for program in PROGRAMS:
        page = installed(f"share/man/man1/{program}.1.gz")
        # Wide enough that no option is hyphenated across lines.
        r = run(["man", "--warnings", "-l", page], env=dict(ENV, MANWIDTH="400"))
        check(f"man -l {program}.1 renders without warnings", r.returncode == 0 and not r.stderr.strip(), r.stderr)
        pages[program] = text = r.stdout.replace("\u2010", "-").replace("\u2212", "-")
        check(f"{program}(1) says what it is", text.startswith(program.upper() + "(1)") and "NAME" in text, text[:300])
        check(f"{program}(1) has a SYNOPSIS from --help", f"SYNOPSIS\n       {program} " in text, text[:600])
        missing = [o for o in help_options(installed(f"bin/{program}"), implicit=()) if o not in text]
        check(f"{program}(1) documents every option of --help", not missing, missing)
    cli = installed("bin/attnscope-cli")
    commands = re.findall(r"^  ([a-z]+)  ", run([cli, "--help"]).stdout, re.M)
    check("the CLI's --help lists its commands", len(commands) >= 4, commands)
    for command in commands:
        after = pages["attnscope-cli"].partition(f"\n   attnscope-cli {command}\n")[2]
        section = after.split("\n   attnscope-cli ")[0]  # up to the next command's
        check(f"attnscope-cli(1) has a section for {command}", section, "")
        missing = [o for o in help_options(cli, command, implicit=()) if o not in section]
        check(f"attnscope-cli(1) documents every option of {command} --help", not missing, missing)


def complete(program, *words):
    """What bash-completion offers after `program words...` (the last word is
    the one being completed), with the installed completion file."""
    line = " ".join([program, *words])
    quoted = " ".join(f"'{w}'" for w in [program, *words])
    script = f"""
source /usr/share/bash-completion/bash_completion
source {installed('share/bash-completion/completions/' + program)}
COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
{"_" + program.replace("-", "_")} {program} "${{COMP_WORDS[-1]}}" "${{COMP_WORDS[-2]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = run(["bash", "-c", script])
    return set(r.stdout.split()) if r.returncode == 0 else {"error: " + r.stderr}


def test_bash_completion():
    app, cli = installed("bin/attnscope"), installed("bin/attnscope-cli")
    want = help_options(app)
    got = complete("attnscope", "--")
    check("attnscope -- completes every option in --help", want <= got, sorted(want - got))
    got = complete("attnscope", "--score", "")
    check("attnscope --score completes the scores", got == {"scaled-dot", "dot", "cosine", "additive", "raw"}, got)
    commands = set(re.findall(r"^  ([a-z]+)  ", run([cli, "--help"]).stdout, re.M))
    got = complete("attnscope-cli", "")
    check("attnscope-cli completes its commands", commands <= got, sorted(commands - got))
    for command in sorted(commands):
        want = help_options(cli, command)
        got = complete("attnscope-cli", command, "--")
        check(f"attnscope-cli {command} -- completes every option in its --help", want <= got, sorted(want - got))
    got = complete("attnscope-cli", "attend", "--norm", "s")
    check("attnscope-cli attend --norm s completes the norms", got == {"softmax", "sparsemax"}, got)


run_tests(globals(), results, TMP)
