#!/usr/bin/env bash
# Redraws the README's pictures (assets/readme/) from the programs in BUILD
# (default build/), so they always show what the current code draws.
#   docs/readme_images.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=assets/readme
cli="$build/attnscope-cli"
app=("$build/attnscope" --no-persist)
x=(xvfb-run -a -s "-screen 0 1600x1000x24")

# One query patch each on the sample: sky, lake, wall.
"$cli" render --image assets/sample.png --query 3,1 --out "$out/sky.png" >/dev/null
"$cli" render --image assets/sample.png --query 8,18 --out "$out/lake.png" >/dev/null
"$cli" render --image assets/sample.png --query 21,17 --out "$out/house.png" >/dev/null
# A photo: the cat's right eye looks at its left eye (tests/data/photos/ATTRIBUTION.md).
"$cli" render --image tests/data/photos/chelsea.png --query 20,8 --out "$out/cat-eye.png" >/dev/null
"$cli" render --image tests/data/photos/chelsea.png --query 20,8 --scale-includes-query \
  --out "$out/cat-eye-self-scaled.png" >/dev/null

# The window: the lake's patch, the tooltip of a patch of sky.
"${x[@]}" "${app[@]}" --query 8,18 --hover 20,5 --screenshot "$out/window.png"
# Light theme, 3136 patches, the attention matrix.
"${x[@]}" "${app[@]}" --light --patch 8 --colormap viridis --query 31,2 --matrix --ui-scale 1.25 \
  --screenshot "$out/window-light.png"
# Presenting at UI scale 2: the picture first.
"${x[@]}" "${app[@]}" tests/data/photos/chelsea.png --query 20,8 --present --ui-scale 2 \
  --screenshot "$out/window-present.png"
# A DINOv2-with-registers model of ViT-S/14's shape with random weights
# (docs/make_demo_vit.py: no trained weights can be downloaded here): the
# class token's view, and the token norms after layer 6 with the statistics.
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
/usr/bin/python3 docs/make_demo_vit.py "$demo" >/dev/null
"${x[@]}" "${app[@]}" tests/data/photos/chelsea.png "$demo/model.safetensors" --screenshot "$out/dinov2-cls.png"
"${x[@]}" "${app[@]}" tests/data/photos/chelsea.png "$demo/model.safetensors" --vit-view norms --layer 6 \
  --screenshot "$out/dinov2-norms.png"
# The same model's class token in every head at the last layer: the CLI's sheet.
"$cli" vit --weights "$demo/model.safetensors" --image tests/data/photos/chelsea.png --sheet heads --layer 11 \
  --panel 110 --out "$out/vit-sheet.png" >/dev/null
# Figures: the cat's eye at two temperatures, A | B | A - B, as a labelled
# PNG (the same command writes .svg or .pdf); the app's compare view.
"$cli" render --image tests/data/photos/chelsea.png --query 20,8 --compare temperature=0.25 \
  --out "$out/compare-temperature.png" >/dev/null
"${x[@]}" "${app[@]}" tests/data/photos/chelsea.png --query 20,8 --compare head=1,temperature=0.5 --hover 10,9 \
  --screenshot "$out/window-compare.png"
# The bundled captioner: a scene's words grid, the untrained and final
# weights on the same scene, and the app's captioner view.
"$cli" caption --scene 12 --out "$out/captioner-words.png" >/dev/null
"$cli" caption --scene 12 --checkpoint 0 --out "$out/captioner-words-step0.png" --no-labels >/dev/null
"${x[@]}" "${app[@]}" --captioner --scene 12 --word 1 --hover 2,5 --screenshot "$out/window-captioner.png"
echo "redrew $(ls "$out" | wc -l) pictures in $out"
