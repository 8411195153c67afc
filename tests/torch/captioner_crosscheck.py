#!/usr/bin/env python3
"""attnscope-cli caption against the PyTorch reference (captioner_reference.py,
built from PyTorch's own TransformerEncoderLayer / TransformerDecoderLayer).

1. Models with random weights (fresh seeds each run; ATTNSCOPE_TEST_SEED
   repeats one): several shapes (width, heads, layers, patch, image size,
   vocabulary), weights F32 and F16, random images. The same caption, and
   the logits of every step, the encoder's self-attention, the decoder's
   self-attention and the cross-attention of every layer and head, and the
   words' maps, within 1e-4 of the largest value (relative).
2. The bundled captioner (assets/captioner) on scenes of the second renderer
   (tests/captioner/scenes_alt.py), final weights and every checkpoint: the
   same checks.
3. The step-by-step contract: row t of the cross-attention is the query
   that predicted word t (the logits row t's argmax is word t).

usage: captioner_crosscheck.py PATH/TO/attnscope-cli"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "captioner"))
sys.path.insert(0, HERE)
import captioner_reference as ref  # noqa: E402
from families_io import write_safetensors  # noqa: E402
from harness import Results, run_tests  # noqa: E402

CLI = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="attnscope-captioner-")
TOL = 1e-4
BUNDLED = ref.DEFAULT_MODEL
results = Results("captioner_crosscheck")
seed = int(os.environ.get("ATTNSCOPE_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
print(f"seed {seed} (ATTNSCOPE_TEST_SEED={seed} repeats this run)")
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
torch.set_num_threads(1)


def save_png(path, rgb):
    from PIL import Image
    Image.fromarray(rgb).save(path)


def run_cli(model_dir, image, checkpoint=None):
    """The CLI's caption and every array it writes."""
    out = {k: os.path.join(TMP, k + ".npy") for k in ("cross", "encoder", "decoder", "logits", "maps")}
    args = [CLI, "caption", "--image", image, "--model", model_dir, "--cross-out", out["cross"],
            "--encoder-out", out["encoder"], "--decoder-out", out["decoder"], "--logits-out", out["logits"],
            "--maps-out", out["maps"]]
    if checkpoint is not None:
        args += ["--checkpoint", str(checkpoint)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None, p.stderr
    arrays = {k: np.load(v) for k, v in out.items()}
    arrays["caption"] = p.stdout.split("\n")[0]
    return arrays, ""


def close(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    scale = max(np.abs(b).max(initial=0.0), 1e-30)
    err = np.abs(a - b).max(initial=0.0) / scale
    return err <= TOL, f"relative error {err:.2e}"


def compare(what, model, model_dir, rgb, checkpoint=None):
    path = os.path.join(TMP, "image.png")
    save_png(path, rgb)
    got, err = run_cli(model_dir, path, checkpoint)
    if not results.check(f"{what}: attnscope-cli caption runs", got is not None, err):
        return
    want = ref.caption(model, rgb)
    caption = " ".join(want["tokens"])
    results.check(f"{what}: the same caption", got["caption"] == caption, f"{got['caption']!r} vs {caption!r}")
    if got["caption"] != caption:
        return
    T = len(want["tokens"])
    cross = np.stack(want["cross_attention"])  # [L, H, T, N]
    decoder = np.stack(want["decoder_attention"])
    g = model.cfg["image_size"] // model.cfg["patch"]
    for name, a, b in (("logits", got["logits"], want["logits"]),
                       ("encoder self-attention", got["encoder"], want["encoder_attention"]),
                       ("decoder self-attention", got["decoder"], decoder),
                       ("cross-attention", got["cross"], cross),
                       ("word maps", got["maps"], want["word_maps"].reshape(T, g, g))):
        ok, detail = close(a, b)
        results.check(f"{what}: {name}", ok, detail)
    # Row t predicted word t: the argmax of step t's logits is word t.
    vocab = model.cfg["vocab"]
    words = [vocab[int(i)] for i in np.argmax(got["logits"][:T], axis=1)]
    results.check(f"{what}: step t's logits give word t", words == want["tokens"], f"{words}")


def random_model(folder, width, enc_layers, enc_heads, dec_layers, dec_heads, patch, size, dtype):
    vocab = ["<pad>", "<bos>", "<eos>"] + [f"w{i}" for i in range(int(rng.integers(3, 30)))]
    cfg = {"format": "attnscope-captioner-1", "image_size": size, "patch": patch, "width": width,
           "mlp": 2 * width, "encoder_layers": enc_layers, "encoder_heads": enc_heads,
           "decoder_layers": dec_layers, "decoder_heads": [dec_heads] * dec_layers,
           "max_tokens": int(rng.integers(4, 17)), "layer_norm_eps": 1e-5,
           "mean": rng.uniform(0.3, 0.7, 3).round(3).tolist(), "std": rng.uniform(0.2, 0.6, 3).round(3).tolist(),
           "activation": "gelu", "vocab": vocab, "bos": 1, "eos": 2, "pad": 0,
           "checkpoints": [{"step": 0, "file": "checkpoints/step_000000.safetensors"}]}
    model = ref.CaptionerModel(cfg)
    with torch.no_grad():  # every parameter random and far from PyTorch's init (zero biases)
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * (0.5 if p.dim() > 1 else 0.3))
            if dtype == "F16":
                p.copy_(p.half().float())
    os.makedirs(os.path.join(folder, "checkpoints"), exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    dtypes = {k: dtype for k in tensors}
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, dtypes)
    write_safetensors(os.path.join(folder, "checkpoints", "step_000000.safetensors"), tensors, dtypes)
    model.eval()
    return model


def test_random_models():
    shapes = [(32, 2, 2, 2, 2, 16, 64, "F32"), (48, 1, 4, 3, 3, 8, 32, "F32"), (24, 3, 3, 1, 1, 16, 128, "F16")]
    for i, (w, el, eh, dl, dh, p, s, dtype) in enumerate(shapes):
        folder = os.path.join(TMP, f"random{i}")
        model = random_model(folder, w, el, eh, dl, dh, p, s, dtype)
        for j in range(2):
            rgb = rng.integers(0, 256, (s, s, 3), dtype=np.uint8)
            compare(f"random model {i} (width {w}, {el}x{eh} encoder, {dl}x{dh} decoder, patch {p}, {dtype}) "
                    f"image {j}", model, folder, rgb)
        compare(f"random model {i}, checkpoint 0", model, folder, rng.integers(0, 256, (s, s, 3), dtype=np.uint8),
                checkpoint=0)
    # A model whose first step says <eos>: an empty caption, empty arrays.
    folder = os.path.join(TMP, "silent")
    model = random_model(folder, 32, 1, 2, 1, 2, 16, 64, "F32")
    with torch.no_grad():
        model.head.bias[model.cfg["eos"]] = 1000.0
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, {k: "F32" for k in tensors})
    compare("a model that ends at once (empty caption)", model, folder, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))


def test_bundled_captioner():
    if not results.check("the bundled captioner is there", os.path.exists(os.path.join(BUNDLED, "config.json")),
                         BUNDLED):
        return
    import scenes_alt as sa
    model = ref.load(BUNDLED)
    for k in range(4):
        rgb, _ = sa.render_scene(int(rng.integers(0, 2**31)))
        compare(f"bundled captioner, scene {k}", model, BUNDLED, rgb)
    with open(os.path.join(BUNDLED, "config.json")) as f:
        steps = [c["step"] for c in json.load(f)["checkpoints"]]
    rgb, _ = sa.render_scene(int(rng.integers(0, 2**31)))
    for s in steps:
        compare(f"bundled captioner, checkpoint {s}", ref.load(BUNDLED, s), BUNDLED, rgb, checkpoint=s)


if __name__ == "__main__":
    run_tests(globals(), results, TMP)
