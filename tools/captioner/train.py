#!/usr/bin/python3
"""Trains the attnscope captioner on synthetic scenes (scenes.py) on the CPU
and exports it (config.json, model.safetensors, checkpoints/, scores.json,
training_log.txt) into --out.

  /usr/bin/python3 tools/captioner/train.py --out assets/captioner

Deterministic: fixed seeds for python, numpy and torch, deterministic
algorithms, a fixed number of threads. Training scenes are rendered ahead of
training into a git-ignored cache (tools/captioner/cache/)."""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, should --device be cuda
import torch  # noqa: E402
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenes as S  # noqa: E402
import model as Mo  # noqa: E402

START = time.time()
LOG = []


def log(msg):
    line = f"[{time.time() - START:7.1f}s] {msg}"
    print(line, flush=True)
    LOG.append(line)


def render_cache(base_seed, count, cache_dir, weights):
    """Training scenes (1, 2 or 3 objects with probabilities `weights`) as arrays: images [N, 128, 128, 3] uint8, n [N],
    colour [N, 3], shape [N, 3] (indices, -1 unused), centre [N, 3, 2]."""
    os.makedirs(cache_dir, exist_ok=True)
    tag = "-".join(f"{w:g}" for w in weights)
    path = os.path.join(cache_dir, f"scenes_seed{base_seed}_n{count}_w{tag}.npz")
    if os.path.exists(path):
        d = np.load(path)
        log(f"scenes: {count} from the cache {os.path.relpath(path)}")
        return {k: d[k] for k in d.files}
    t = time.time()
    images = np.zeros((count, S.IMAGE_SIZE, S.IMAGE_SIZE, 3), np.uint8)
    n = np.zeros(count, np.int64)
    colour = np.full((count, 3), -1, np.int64)
    shape = np.full((count, 3), -1, np.int64)
    centre = np.zeros((count, 3, 2), np.float64)
    for i in range(count):
        rng = S.scene_rng(base_seed, i)
        img, objs = S.make_scene(rng, int(rng.choice([1, 2, 3], p=weights)), with_masks=False)
        images[i] = img
        n[i] = len(objs)
        for k, o in enumerate(objs):
            colour[i, k] = S.COLOURS.index(o["colour"])
            shape[i, k] = S.SHAPES.index(o["shape"])
            centre[i, k] = o["centre"]
    d = {"images": images, "n": n, "colour": colour, "shape": shape, "centre": centre}
    tmp = path + ".tmp.npz"
    np.savez(tmp, **d)
    os.replace(tmp, path)
    log(f"scenes: rendered {count} in {time.time() - t:.0f}s into {os.path.relpath(path)}")
    return d


def caption_tokens(data, T, order, flip):
    """Teacher-forcing inputs and targets [N, T] of every training scene
    (flip: the scene mirrored left-right, centres x -> 128 - x), in the
    canonical order or, with order "random", one fixed random order per
    scene (drawn from numpy default_rng([3, flip]))."""
    N = len(data["n"])
    inp = np.full((N, T), S.PAD, np.int64)
    tgt = np.full((N, T), S.PAD, np.int64)
    rng = np.random.default_rng([3, int(flip)])
    for i in range(N):
        objs = []
        for k in range(data["n"][i]):
            cx, cy = data["centre"][i, k]
            objs.append({"colour": S.COLOURS[data["colour"][i, k]], "shape": S.SHAPES[data["shape"][i, k]],
                         "centre": (S.IMAGE_SIZE - cx if flip else cx, cy)})
        perm = S.canonical_order(objs) if order == "canonical" else list(rng.permutation(len(objs)))
        words = S.caption(objs, perm)
        assert S.caption_correct(words, objs)[0], words
        seq = [S.BOS] + [S.TOKEN[w] for w in words] + [S.EOS]
        inp[i, :len(seq) - 1] = seq[:-1]
        tgt[i, :len(seq) - 1] = seq[1:]
    return inp, tgt


def lr_at(step, total, peak, warmup, final_frac):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(total - warmup, 1)
    return peak * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def checkpoint_steps(total):
    """0, 50, 200, 500, 1000, 2000, then about 45% of the run, and the last
    step (eight in all for runs of 3000 steps or more)."""
    steps = [s for s in (0, 50, 200, 500, 1000, 2000) if s < total]
    mid = int(round(total * 0.45 / 500.0)) * 500
    if 2000 < mid < total:
        steps.append(mid)
    return steps + [total]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=9000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--scenes", type=int, default=30000)
    ap.add_argument("--objects-weights", type=float, nargs=3, default=[0.2, 0.4, 0.4],
                    help="probabilities of 1, 2 and 3 objects in the training scenes (held-out: uniform)")
    ap.add_argument("--train-seed", type=int, default=1)
    ap.add_argument("--eval-seed", type=int, default=2)
    ap.add_argument("--eval-scenes", type=int, default=1000)
    ap.add_argument("--quick-eval-every", type=int, default=500)
    ap.add_argument("--quick-eval-scenes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu (the committed run), or cuda (untested here)")
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--mlp", type=int, default=128)
    ap.add_argument("--encoder-layers", type=int, default=3)
    ap.add_argument("--encoder-heads", type=int, default=4)
    ap.add_argument("--decoder-heads", type=int, nargs="+", default=[1, 1],
                    help="heads of each decoder layer (one number per layer)")
    ap.add_argument("--pos-init-scale", type=float, default=1.0,
                    help="pos_embed starts as the 2D sine-cosine codes times this")
    ap.add_argument("--order", choices=["canonical", "random"], default="canonical",
                    help="naming order of the training captions")
    ap.add_argument("--hflip", type=float, default=0.5,
                    help="probability of mirroring a training scene left-right (its caption recomputed)")
    ap.add_argument("--relation-weight", type=float, default=1.0,
                    help="cross-entropy weight of the relation words (left right above below), 1 for the others")
    ap.add_argument("--two-object-steps", type=int, default=0,
                    help="curriculum: the first steps use only the two-object scenes")
    ap.add_argument("--uniform-early-cross", action=argparse.BooleanOptionalAction, default=True,
                    help="hold the query projection of every decoder layer but the last at zero: their "
                         "cross-attention is a uniform mean over the patches, so only the last layer can "
                         "select objects")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="pilots: stop training after this many seconds (0: no limit)")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--no-export", action="store_true", help="train and evaluate only")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    log("command: " + " ".join(["/usr/bin/python3"] + sys.argv))
    log(f"torch {torch.__version__}, numpy {np.__version__}, threads {args.threads}")

    steps_to_keep = checkpoint_steps(args.steps)
    cfg = {"format": "attnscope-captioner-1", "image_size": S.IMAGE_SIZE, "patch": args.patch,
           "width": args.width, "mlp": args.mlp, "encoder_layers": args.encoder_layers,
           "encoder_heads": args.encoder_heads, "decoder_layers": len(args.decoder_heads),
           "decoder_heads": args.decoder_heads, "max_tokens": 16, "layer_norm_eps": 1e-5,
           "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "activation": "gelu",
           "vocab": S.VOCAB, "bos": S.BOS, "eos": S.EOS, "pad": S.PAD,
           "checkpoints": [{"step": s, "file": f"checkpoints/step_{s:06d}.safetensors"} for s in steps_to_keep]}
    T = cfg["max_tokens"]

    data = render_cache(args.train_seed, args.scenes, args.cache, args.objects_weights)
    t = time.time()
    tokens = [caption_tokens(data, T, args.order, flip) for flip in (False, True)]
    tok_inp = np.stack([a for a, _ in tokens])  # [flip, N, T]
    tok_tgt = np.stack([b for _, b in tokens])
    log(f"captions: {args.order} order, {len(data['n'])} scenes and their mirror images, all checked true, "
        f"in {time.time() - t:.0f}s")
    quick = Mo.eval_scenes(args.eval_seed, args.quick_eval_scenes)
    model = Mo.Captioner({**cfg, "pos_init_scale": args.pos_init_scale}).to(args.device)
    log(f"model: {Mo.count_parameters(model)} parameters, config "
        + json.dumps({k: v for k, v in cfg.items() if k not in ("vocab", "checkpoints")}))

    if args.uniform_early_cross:
        D = args.width
        for layer in model.decoder[:-1]:
            with torch.no_grad():
                layer.multihead_attn.in_proj_weight[:D] = 0.0
                layer.multihead_attn.in_proj_bias[:D] = 0.0

            def hold_query(g, D=D):
                g = g.clone()
                g[:D] = 0.0
                return g
            layer.multihead_attn.in_proj_weight.register_hook(hold_query)
            layer.multihead_attn.in_proj_bias.register_hook(hold_query)
        log(f"decoder layers 1..{len(model.decoder) - 1}: cross-attention query projection held at zero (uniform)")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    rng = np.random.default_rng(args.seed)
    relation_ids = torch.zeros(len(S.VOCAB), dtype=torch.bool, device=args.device)
    for w in ("left", "right", "above", "below"):
        relation_ids[S.TOKEN[w]] = True
    two_objects = np.flatnonzero(data["n"] == 2)
    kept = {}
    mean = model.mean
    std = model.std
    running, t_last, s_last = None, time.time(), 0
    for step in range(args.steps + 1):
        if step in steps_to_keep:
            kept[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if step > 0 and (step % args.quick_eval_every == 0 or step == args.steps):
            r = Mo.evaluate(model, quick)
            log(f"step {step}: held-out quick eval ({r['scenes']} scenes): exact {r['exact']:.3f} "
                f"(1/2/3 objects {r['exact_by_objects']['1']:.2f}/{r['exact_by_objects']['2']:.2f}/"
                f"{r['exact_by_objects']['3']:.2f}), grounding {r['grounding']:.3f} "
                f"(colour {r['grounding_colour_words']:.3f}, shape {r['grounding_shape_words']:.3f}), "
                f"teacher-forced grounding {r['grounding_teacher_forced']:.3f}")
        if step == args.steps:
            break
        if args.time_limit and time.time() - START > args.time_limit:
            log(f"time limit: stopping at step {step}")
            r = Mo.evaluate(model, quick)
            log("quick eval: " + json.dumps(r))
            return
        model.train()
        if step < args.two_object_steps:
            idx = two_objects[rng.integers(0, len(two_objects), size=args.batch)]
        else:
            idx = rng.integers(0, args.scenes, size=args.batch)
        flip = (rng.random(args.batch) < args.hflip).astype(np.int64)
        imgs = data["images"][idx]
        imgs[flip == 1] = imgs[flip == 1][:, :, ::-1]
        x = torch.from_numpy(imgs).to(args.device).permute(0, 3, 1, 2).float() / 255.0
        x = (x - mean) / std
        L = int((tok_tgt[flip, idx] != S.PAD).sum(1).max())
        inp = torch.from_numpy(tok_inp[flip, idx, :L]).to(args.device)
        tgt = torch.from_numpy(tok_tgt[flip, idx, :L]).to(args.device)
        lr = lr_at(step, args.steps, args.lr, args.warmup, 0.02)
        for g in opt.param_groups:
            g["lr"] = lr
        memory, _ = model.encode(x)
        logits, _, _ = model.decode(inp, memory)
        per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                                    ignore_index=S.PAD, reduction="none")
        flat = tgt.reshape(-1)
        w = torch.where(relation_ids[flat], args.relation_weight, 1.0) * (flat != S.PAD)
        loss = (per_token * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            log(f"step {step + 1}/{args.steps}: loss {loss.item():.4f} (smoothed {running:.4f}), "
                f"grad norm {gn:.2f}, lr {lr:.2e}, {(time.time() - t_last) / (step + 1 - s_last):.2f}s/step")
            t_last, s_last = time.time(), step + 1
    log(f"training done in {time.time() - START:.0f}s")
    if args.no_export:
        r = Mo.evaluate(model, Mo.eval_scenes(args.eval_seed, args.eval_scenes))
        log("final eval: " + json.dumps(r))
        os.makedirs(args.out, exist_ok=True)
        Mo.save_safetensors(os.path.join(args.out, "pilot.safetensors"), model.state_dict())
        with open(os.path.join(args.out, "pilot_config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        return
    export(args, cfg, model, kept, steps_to_keep)


def passes(r):
    return r["exact"] >= 0.95 and r["grounding"] >= 0.6


def export(args, cfg, model, kept, steps_to_keep):
    out = args.out
    os.makedirs(os.path.join(out, "checkpoints"), exist_ok=True)
    held_out = Mo.eval_scenes(args.eval_seed, args.eval_scenes)
    log(f"evaluating on {len(held_out)} held-out scenes (scene seeds [{args.eval_seed}, 0..{len(held_out) - 1}])")
    final_sd = kept[args.steps]
    model.load_state_dict(final_sd)
    r32 = Mo.evaluate(model, held_out)
    log("final weights, F32: " + json.dumps(r32))
    model.load_state_dict({k: v.half().float() for k, v in final_sd.items()})
    r16 = Mo.evaluate(model, held_out)
    log("final weights rounded to F16: " + json.dumps(r16))
    dtype = "F16" if passes(r16) else "F32"
    log(f"storing weights as {dtype}")
    Mo.save_safetensors(os.path.join(out, "model.safetensors"), final_sd, dtype)
    scores = {"held_out": {"scenes": len(held_out), "scene_seeds": f"numpy default_rng([{args.eval_seed}, i]) for i in 0..{len(held_out) - 1}",
                           "training_scene_seeds": f"numpy default_rng([{args.train_seed}, i]) for i in 0..{args.scenes - 1}"},
              "metrics": {"exact": "share of scenes whose greedy caption is exactly true (any valid naming order)",
                          "grounding": "mean over all colour and shape words of the generated captions of the share of the "
                                       "word's map (last decoder layer's cross-attention, mean over heads, at the word's step) "
                                       "on the patches its object covers (a pixel of coverage >= 0.5); a word naming no object "
                                       "of the scene scores 0",
                          "grounding_per_scene": "the same, averaged per scene first",
                          "grounding_teacher_forced": "the same on a reference caption (random valid order) fed to the decoder"},
              "weights_dtype": dtype, "final_f32": r32, "final_stored": r16 if dtype == "F16" else r32, "checkpoints": []}
    for s in steps_to_keep:
        path = os.path.join(out, "checkpoints", f"step_{s:06d}.safetensors")
        Mo.save_safetensors(path, kept[s], dtype)
        model.load_state_dict(Mo.load_safetensors(path))
        r = Mo.evaluate(model, held_out)
        log(f"checkpoint step {s}: " + json.dumps(r))
        scores["checkpoints"].append({"step": s, "file": os.path.relpath(path, out), **r})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "scores.json"), "w") as f:
        json.dump(scores, f, indent=1)
        f.write("\n")
    log(f"all done in {time.time() - START:.0f}s")
    with open(os.path.join(out, "training_log.txt"), "w") as f:
        f.write("\n".join(LOG) + "\n")


if __name__ == "__main__":
    main()
