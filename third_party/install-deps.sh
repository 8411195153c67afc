#!/usr/bin/env bash
# Installs every Debian 12 package attnscope needs to build, run and test, and
# only those that are missing. Prints what it installs. Run as root (or with
# sudo available). Safe to run again: a machine that has everything is left alone.
set -euo pipefail

packages=(
  # build
  cmake make g++ pkg-config
  # sanitizer and fuzzing builds (.ci/sanitizers, tests/fuzz)
  clang libclang-rt-14-dev clang-format clang-tidy
  # engine
  libeigen3-dev libstb-dev libjpeg-dev
  # desktop app: window, GL loader, UI, sessions, a TTF font for projectors,
  # and Mesa's software OpenGL for machines without a GPU driver
  libglfw3-dev libepoxy-dev libimgui-dev nlohmann-json3-dev fonts-dejavu-core
  libgl1-mesa-dri libglx-mesa0
  # figures with labels (the words grid), as PNG, SVG or PDF
  libcairo2-dev
  # tests and benchmarks (poppler-utils: pdftoppm renders the PDF figures
  # to compare them with the PNG of the same figure)
  libgtest-dev libgmock-dev libbenchmark-dev poppler-utils
  # the reference users trust, for the cross-checks in tests/ and the
  # comparisons in bench/; OpenBLAS so Debian's torch (built against the
  # generic libblas.so.3) runs at its real speed, not the reference BLAS's
  python3 python3-numpy python3-torch python3-torchvision libopenblas0-pthread
  # tests: run the CLI as an unprivileged user (util-linux's setpriv); run
  # the app in a virtual X server and drive it with real input; read images
  util-linux xvfb xauth xdotool python3-pil
  # installing (packaging/): man pages written from --help, the icon's PNGs
  # rendered from its SVG, the .deb's Depends found by dpkg-shlibdeps
  help2man librsvg2-bin dpkg-dev
  # the install test (tests/install/): validate the menu entry, build the
  # MIME cache and ask GLib (gio) what a file manager would see and launch,
  # render the man pages, run the bash completions, check stripping
  desktop-file-utils shared-mime-info libglib2.0-bin man-db bash-completion file
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
