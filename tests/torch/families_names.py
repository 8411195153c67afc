"""Canonical weights (families_models.random_weights) renamed and reshaped
into each project's published layout, plus the config files that go beside
them. Every function returns an ordered dict name -> numpy array, in the
order the project's state_dict() lists them."""
import numpy as np

# Unused tensors that must be skipped: filled with a recognisable ramp.
def _filler(*shape):
    n = int(np.prod(shape)) if shape else 1
    return (np.linspace(-1.0, 1.0, n).reshape(shape) if shape else np.array(0.5)).astype(np.float32)


def _cat(b, parts, kind):
    return np.concatenate([b[f"{p}_{kind}"] for p in parts])


def dinov2_original(w, arch, chunks=0):
    """facebookresearch/dinov2 DinoVisionTransformer.state_dict(). chunks > 0:
    the training layout with block_chunks, where block i of chunk c is
    blocks.{c}.{i} (earlier chunk slots are parameterless nn.Identity)."""
    D = arch.width
    out = {"cls_token": w["cls"].reshape(1, 1, D), "pos_embed": w["pos"][None]}
    if arch.registers:
        out["register_tokens"] = w["reg"][None]
    out["mask_token"] = _filler(1, D)
    out["patch_embed.proj.weight"], out["patch_embed.proj.bias"] = w["patch_w"], w["patch_b"]
    size = arch.depth // chunks if chunks else 0
    for i, b in enumerate(w["blocks"]):
        p = f"blocks.{i // size}.{i}." if chunks else f"blocks.{i}."
        out[p + "norm1.weight"], out[p + "norm1.bias"] = b["ln1_w"], b["ln1_b"]
        out[p + "attn.qkv.weight"], out[p + "attn.qkv.bias"] = _cat(b, "qkv", "w"), _cat(b, "qkv", "b")
        out[p + "attn.proj.weight"], out[p + "attn.proj.bias"] = b["o_w"], b["o_b"]
        if arch.layerscale:
            out[p + "ls1.gamma"] = b["ls1"]
        out[p + "norm2.weight"], out[p + "norm2.bias"] = b["ln2_w"], b["ln2_b"]
        if arch.swiglu:
            out[p + "mlp.w12.weight"], out[p + "mlp.w12.bias"] = b["w12_w"], b["w12_b"]
            out[p + "mlp.w3.weight"], out[p + "mlp.w3.bias"] = b["w3_w"], b["w3_b"]
        else:
            out[p + "mlp.fc1.weight"], out[p + "mlp.fc1.bias"] = b["fc1_w"], b["fc1_b"]
            out[p + "mlp.fc2.weight"], out[p + "mlp.fc2.bias"] = b["fc2_w"], b["fc2_b"]
        if arch.layerscale:
            out[p + "ls2.gamma"] = b["ls2"]
    out["norm.weight"], out["norm.bias"] = w["norm_w"], w["norm_b"]
    return out


def dinov2_hf(w, arch, prefix=""):
    """transformers Dinov2Model / Dinov2WithRegistersModel (prefix "dinov2."
    inside Dinov2ForImageClassification)."""
    D, e = arch.width, prefix + "embeddings."
    out = {e + "cls_token": w["cls"].reshape(1, 1, D), e + "mask_token": _filler(1, D)}
    if arch.registers:
        out[e + "register_tokens"] = w["reg"][None]
    out[e + "position_embeddings"] = w["pos"][None]
    out[e + "patch_embeddings.projection.weight"] = w["patch_w"]
    out[e + "patch_embeddings.projection.bias"] = w["patch_b"]
    for i, b in enumerate(w["blocks"]):
        p = f"{prefix}encoder.layer.{i}."
        out[p + "norm1.weight"], out[p + "norm1.bias"] = b["ln1_w"], b["ln1_b"]
        for c, name in zip("qkv", ("query", "key", "value")):
            out[f"{p}attention.attention.{name}.weight"] = b[c + "_w"]
            out[f"{p}attention.attention.{name}.bias"] = b[c + "_b"]
        out[p + "attention.output.dense.weight"], out[p + "attention.output.dense.bias"] = b["o_w"], b["o_b"]
        out[p + "layer_scale1.lambda1"] = b["ls1"]
        out[p + "norm2.weight"], out[p + "norm2.bias"] = b["ln2_w"], b["ln2_b"]
        if arch.swiglu:
            out[p + "mlp.weights_in.weight"], out[p + "mlp.weights_in.bias"] = b["w12_w"], b["w12_b"]
            out[p + "mlp.weights_out.weight"], out[p + "mlp.weights_out.bias"] = b["w3_w"], b["w3_b"]
        else:
            out[p + "mlp.fc1.weight"], out[p + "mlp.fc1.bias"] = b["fc1_w"], b["fc1_b"]
            out[p + "mlp.fc2.weight"], out[p + "mlp.fc2.bias"] = b["fc2_w"], b["fc2_b"]
        out[p + "layer_scale2.lambda1"] = b["ls2"]
    out[prefix + "layernorm.weight"], out[prefix + "layernorm.bias"] = w["norm_w"], w["norm_b"]
    return out


def dinov2_hf_config(arch, mlp_ratio=4):
    cfg = {"architectures": ["Dinov2WithRegistersModel" if arch.registers else "Dinov2Model"],
           "model_type": "dinov2_with_registers" if arch.registers else "dinov2",
           "hidden_size": arch.width, "num_hidden_layers": arch.depth, "num_attention_heads": arch.heads,
           "mlp_ratio": mlp_ratio, "hidden_act": "gelu", "layer_norm_eps": arch.eps,
           "image_size": arch.grid * arch.patch, "patch_size": arch.patch, "num_channels": 3, "qkv_bias": True,
           "layerscale_value": 1.0, "drop_path_rate": 0.0, "use_swiglu_ffn": arch.swiglu,
           "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
           "torch_dtype": "float32"}
    if arch.registers:
        cfg["num_register_tokens"] = arch.registers
    return cfg


def openai_visual(w, arch, embed_dim=32):
    """OpenAI CLIP / open_clip VisionTransformer under `visual.` (conv1 has
    no bias; class_embedding is [D]; positional_embedding [N+1, D])."""
    D, v = arch.width, "visual."
    out = {v + "class_embedding": w["cls"], v + "positional_embedding": w["pos"],
           v + "proj": _filler(D, embed_dim), v + "conv1.weight": w["patch_w"],
           v + "ln_pre.weight": w["pre_w"], v + "ln_pre.bias": w["pre_b"]}
    for i, b in enumerate(w["blocks"]):
        p = f"{v}transformer.resblocks.{i}."
        out[p + "ln_1.weight"], out[p + "ln_1.bias"] = b["ln1_w"], b["ln1_b"]
        out[p + "attn.in_proj_weight"], out[p + "attn.in_proj_bias"] = _cat(b, "qkv", "w"), _cat(b, "qkv", "b")
        out[p + "attn.out_proj.weight"], out[p + "attn.out_proj.bias"] = b["o_w"], b["o_b"]
        if arch.layerscale:
            out[p + "ls_1.gamma"] = b["ls1"]
        out[p + "ln_2.weight"], out[p + "ln_2.bias"] = b["ln2_w"], b["ln2_b"]
        out[p + "mlp.c_fc.weight"], out[p + "mlp.c_fc.bias"] = b["fc1_w"], b["fc1_b"]
        out[p + "mlp.c_proj.weight"], out[p + "mlp.c_proj.bias"] = b["fc2_w"], b["fc2_b"]
        if arch.layerscale:
            out[p + "ls_2.gamma"] = b["ls2"]
    out[v + "ln_post.weight"], out[v + "ln_post.bias"] = w["norm_w"], w["norm_b"]
    return out


def openai_text(width=32, ctx=8, vocab=20, embed_dim=32, prefix=""):
    """A one-block CLIP text tower (ignored by attnscope). Its names clash
    with the visual ones but for the `visual.` prefix; `logit_scale` is 0-d."""
    t, W = prefix, width
    out = {t + "positional_embedding": _filler(ctx, W), t + "text_projection": _filler(W, embed_dim),
           "logit_scale": np.array(4.6052, dtype=np.float32), t + "token_embedding.weight": _filler(vocab, W)}
    p = t + "transformer.resblocks.0."
    for name, shape in (("ln_1.weight", (W,)), ("ln_1.bias", (W,)), ("attn.in_proj_weight", (3 * W, W)),
                        ("attn.in_proj_bias", (3 * W,)), ("attn.out_proj.weight", (W, W)),
                        ("attn.out_proj.bias", (W,)), ("ln_2.weight", (W,)), ("ln_2.bias", (W,)),
                        ("mlp.c_fc.weight", (4 * W, W)), ("mlp.c_fc.bias", (4 * W,)),
                        ("mlp.c_proj.weight", (W, 4 * W)), ("mlp.c_proj.bias", (W,))):
        out[p + name] = _filler(*shape)
    out[t + "ln_final.weight"], out[t + "ln_final.bias"] = _filler(W), _filler(W)
    return out


def open_clip_config(arch, quick_gelu, mean, std, head_width, ls=None, eps=None, timm_name=None, embed_dim=32):
    """open_clip_config.json as open_clip's push_to_hf_hub writes it."""
    if timm_name:
        vision = {"image_size": arch.grid * arch.patch, "timm_model_name": timm_name,
                  "timm_model_pretrained": False, "timm_pool": "map", "timm_proj": "none"}
        text = {"context_length": 8, "vocab_size": 20, "width": 32, "heads": 2, "layers": 1,
                "no_causal_mask": True, "proj_bias": True, "pool_type": "last", "norm_kwargs": {"eps": 1e-6}}
        model = {"embed_dim": embed_dim, "init_logit_bias": -10, "custom_text": True, "vision_cfg": vision,
                 "text_cfg": text}
    else:
        vision = {"image_size": arch.grid * arch.patch, "layers": arch.depth, "width": arch.width,
                  "head_width": head_width, "patch_size": arch.patch, "mlp_ratio": arch.mlp / arch.width}
        if ls is not None:
            vision["ls_init_value"] = ls
        if eps is not None:
            vision["norm_kwargs"] = {"eps": eps}
        model = {"embed_dim": embed_dim, "quick_gelu": quick_gelu, "vision_cfg": vision,
                 "text_cfg": {"context_length": 8, "vocab_size": 20, "width": 32, "heads": 2, "layers": 1}}
    return {"model_cfg": model, "preprocess_cfg": {"mean": list(mean), "std": list(std),
                                                   "interpolation": "bicubic", "resize_mode": "shortest"}}


def _hf_encoder_layers(w, out, prefix):
    """HF CLIP / SigLIP encoder layers (separate q/k/v projections)."""
    for i, b in enumerate(w["blocks"]):
        p = f"{prefix}encoder.layers.{i}."
        for c in "kvq":
            out[f"{p}self_attn.{c}_proj.weight"], out[f"{p}self_attn.{c}_proj.bias"] = b[c + "_w"], b[c + "_b"]
        out[p + "self_attn.out_proj.weight"], out[p + "self_attn.out_proj.bias"] = b["o_w"], b["o_b"]
        out[p + "layer_norm1.weight"], out[p + "layer_norm1.bias"] = b["ln1_w"], b["ln1_b"]
        out[p + "mlp.fc1.weight"], out[p + "mlp.fc1.bias"] = b["fc1_w"], b["fc1_b"]
        out[p + "mlp.fc2.weight"], out[p + "mlp.fc2.bias"] = b["fc2_w"], b["fc2_b"]
        out[p + "layer_norm2.weight"], out[p + "layer_norm2.bias"] = b["ln2_w"], b["ln2_b"]


def hf_clip_vision(w, arch, prefix="vision_model.", position_ids=True):
    e = prefix + "embeddings."
    out = {e + "class_embedding": w["cls"], e + "patch_embedding.weight": w["patch_w"],
           e + "position_embedding.weight": w["pos"]}
    if position_ids:  # a persistent buffer in transformers < 4.31
        out[e + "position_ids"] = np.arange(w["pos"].shape[0], dtype=np.int64)[None]
    out[prefix + "pre_layrnorm.weight"], out[prefix + "pre_layrnorm.bias"] = w["pre_w"], w["pre_b"]
    _hf_encoder_layers(w, out, prefix)
    out[prefix + "post_layernorm.weight"], out[prefix + "post_layernorm.bias"] = w["norm_w"], w["norm_b"]
    return out


def hf_text(vision_width, width=32, ctx=8, vocab=20, embed_dim=32, siglip=False):
    """A one-layer HF CLIP/SigLIP text model plus the CLIPModel/SiglipModel
    extras (projections, logit_scale 0-d for CLIP, [1] for SigLIP)."""
    W, t = width, "text_model."
    out = {t + "embeddings.token_embedding.weight": _filler(vocab, W),
           t + "embeddings.position_embedding.weight": _filler(ctx, W),
           t + "embeddings.position_ids": np.arange(ctx, dtype=np.int64)[None]}
    p = t + "encoder.layers.0."
    for c in ("k", "v", "q", "out"):
        out[f"{p}self_attn.{c}_proj.weight"], out[f"{p}self_attn.{c}_proj.bias"] = _filler(W, W), _filler(W)
    for n in ("layer_norm1", "layer_norm2"):
        out[f"{p}{n}.weight"], out[f"{p}{n}.bias"] = _filler(W), _filler(W)
    out[p + "mlp.fc1.weight"], out[p + "mlp.fc1.bias"] = _filler(4 * W, W), _filler(4 * W)
    out[p + "mlp.fc2.weight"], out[p + "mlp.fc2.bias"] = _filler(W, 4 * W), _filler(W)
    out[t + "final_layer_norm.weight"], out[t + "final_layer_norm.bias"] = _filler(W), _filler(W)
    if siglip:
        out[t + "head.weight"], out[t + "head.bias"] = _filler(W, W), _filler(W)
        out["logit_scale"], out["logit_bias"] = np.array([2.3], np.float32), np.array([-10.0], np.float32)
    else:
        out["visual_projection.weight"] = _filler(embed_dim, vision_width)
        out["text_projection.weight"] = _filler(embed_dim, W)
        out["logit_scale"] = np.array(2.6592, dtype=np.float32)
    return out


def hf_clip_vision_config(arch, act="quick_gelu"):
    return {"hidden_size": arch.width, "intermediate_size": arch.mlp, "num_hidden_layers": arch.depth,
            "num_attention_heads": arch.heads, "num_channels": 3, "image_size": arch.grid * arch.patch,
            "patch_size": arch.patch, "hidden_act": act, "layer_norm_eps": arch.eps, "projection_dim": 32,
            "attention_dropout": 0.0, "initializer_range": 0.02, "initializer_factor": 1.0}


def hf_text_config():
    return {"hidden_size": 32, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
            "max_position_embeddings": 8, "vocab_size": 20, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}


def hf_siglip_vision(w, arch, prefix="vision_model.", head=True):
    D, e = arch.width, prefix + "embeddings."
    out = {e + "patch_embedding.weight": w["patch_w"], e + "patch_embedding.bias": w["patch_b"],
           e + "position_embedding.weight": w["pos"]}
    _hf_encoder_layers(w, out, prefix)
    out[prefix + "post_layernorm.weight"], out[prefix + "post_layernorm.bias"] = w["norm_w"], w["norm_b"]
    if head:
        pr, h = w["probe"], prefix + "head."
        out[h + "probe"] = pr["latent"].reshape(1, 1, D)
        out[h + "attention.in_proj_weight"] = _cat(pr, "qkv", "w")
        out[h + "attention.in_proj_bias"] = _cat(pr, "qkv", "b")
        out[h + "attention.out_proj.weight"], out[h + "attention.out_proj.bias"] = pr["o_w"], pr["o_b"]
        out[h + "layernorm.weight"], out[h + "layernorm.bias"] = pr["ln_w"], pr["ln_b"]
        out[h + "mlp.fc1.weight"], out[h + "mlp.fc1.bias"] = pr["fc1_w"], pr["fc1_b"]
        out[h + "mlp.fc2.weight"], out[h + "mlp.fc2.bias"] = pr["fc2_w"], pr["fc2_b"]
    return out


def hf_siglip_vision_config(arch, use_head=True):
    cfg = {"hidden_size": arch.width, "intermediate_size": arch.mlp, "num_hidden_layers": arch.depth,
           "num_attention_heads": arch.heads, "num_channels": 3, "image_size": arch.grid * arch.patch,
           "patch_size": arch.patch, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": arch.eps,
           "attention_dropout": 0.0}
    if not use_head:
        cfg["vision_use_head"] = False
    return cfg


def timm_vit(w, arch, prefix="", classifier=10):
    """timm VisionTransformer / VisionTransformerDistilled (DeiT) state_dict,
    with AttentionPoolLatent as attn_pool for global_pool='map' (SigLIP)."""
    D, out = arch.width, {}
    if arch.cls:
        out[prefix + "cls_token"] = w["cls"].reshape(1, 1, D)
    if arch.dist:
        out[prefix + "dist_token"] = w["dist"].reshape(1, 1, D)
    out[prefix + "pos_embed"] = w["pos"][None]
    out[prefix + "patch_embed.proj.weight"], out[prefix + "patch_embed.proj.bias"] = w["patch_w"], w["patch_b"]
    for i, b in enumerate(w["blocks"]):
        p = f"{prefix}blocks.{i}."
        out[p + "norm1.weight"], out[p + "norm1.bias"] = b["ln1_w"], b["ln1_b"]
        out[p + "attn.qkv.weight"], out[p + "attn.qkv.bias"] = _cat(b, "qkv", "w"), _cat(b, "qkv", "b")
        out[p + "attn.proj.weight"], out[p + "attn.proj.bias"] = b["o_w"], b["o_b"]
        if arch.layerscale:
            out[p + "ls1.gamma"] = b["ls1"]
        out[p + "norm2.weight"], out[p + "norm2.bias"] = b["ln2_w"], b["ln2_b"]
        out[p + "mlp.fc1.weight"], out[p + "mlp.fc1.bias"] = b["fc1_w"], b["fc1_b"]
        out[p + "mlp.fc2.weight"], out[p + "mlp.fc2.bias"] = b["fc2_w"], b["fc2_b"]
        if arch.layerscale:
            out[p + "ls2.gamma"] = b["ls2"]
    out[prefix + "norm.weight"], out[prefix + "norm.bias"] = w["norm_w"], w["norm_b"]
    if arch.probe:
        pr, a = w["probe"], prefix + "attn_pool."
        out[a + "latent"] = pr["latent"].reshape(1, 1, D)
        out[a + "q.weight"], out[a + "q.bias"] = pr["q_w"], pr["q_b"]
        out[a + "kv.weight"], out[a + "kv.bias"] = _cat(pr, "kv", "w"), _cat(pr, "kv", "b")
        out[a + "proj.weight"], out[a + "proj.bias"] = pr["o_w"], pr["o_b"]
        out[a + "norm.weight"], out[a + "norm.bias"] = pr["ln_w"], pr["ln_b"]
        out[a + "mlp.fc1.weight"], out[a + "mlp.fc1.bias"] = pr["fc1_w"], pr["fc1_b"]
        out[a + "mlp.fc2.weight"], out[a + "mlp.fc2.bias"] = pr["fc2_w"], pr["fc2_b"]
    if classifier:
        out[prefix + "head.weight"], out[prefix + "head.bias"] = _filler(classifier, D), _filler(classifier)
        if arch.dist:
            out[prefix + "head_dist.weight"], out[prefix + "head_dist.bias"] = _filler(classifier, D), _filler(classifier)
    return out


def hf_deit(w, arch, prefix="deit.", classifier=10):
    """transformers DeiTForImageClassificationWithTeacher (HF ViT block names)."""
    D, e = arch.width, prefix + "embeddings."
    out = {e + "cls_token": w["cls"].reshape(1, 1, D), e + "distillation_token": w["dist"].reshape(1, 1, D),
           e + "position_embeddings": w["pos"][None], e + "patch_embeddings.projection.weight": w["patch_w"],
           e + "patch_embeddings.projection.bias": w["patch_b"]}
    for i, b in enumerate(w["blocks"]):
        p = f"{prefix}encoder.layer.{i}."
        for c, name in zip("qkv", ("query", "key", "value")):
            out[f"{p}attention.attention.{name}.weight"] = b[c + "_w"]
            out[f"{p}attention.attention.{name}.bias"] = b[c + "_b"]
        out[p + "attention.output.dense.weight"], out[p + "attention.output.dense.bias"] = b["o_w"], b["o_b"]
        out[p + "intermediate.dense.weight"], out[p + "intermediate.dense.bias"] = b["fc1_w"], b["fc1_b"]
        out[p + "output.dense.weight"], out[p + "output.dense.bias"] = b["fc2_w"], b["fc2_b"]
        out[p + "layernorm_before.weight"], out[p + "layernorm_before.bias"] = b["ln1_w"], b["ln1_b"]
        out[p + "layernorm_after.weight"], out[p + "layernorm_after.bias"] = b["ln2_w"], b["ln2_b"]
    out[prefix + "layernorm.weight"], out[prefix + "layernorm.bias"] = w["norm_w"], w["norm_b"]
    out["cls_classifier.weight"], out["cls_classifier.bias"] = _filler(classifier, D), _filler(classifier)
    out["distillation_classifier.weight"] = _filler(classifier, D)
    out["distillation_classifier.bias"] = _filler(classifier)
    return out


def hf_deit_config(arch):
    return {"architectures": ["DeiTForImageClassificationWithTeacher"], "model_type": "deit",
            "hidden_size": arch.width, "num_hidden_layers": arch.depth, "num_attention_heads": arch.heads,
            "intermediate_size": arch.mlp, "hidden_act": "gelu", "layer_norm_eps": arch.eps,
            "image_size": arch.grid * arch.patch, "patch_size": arch.patch, "num_channels": 3, "qkv_bias": True,
            "encoder_stride": arch.patch, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def preprocessor_config(mean, std, processor="CLIPImageProcessor", size=32):
    return {"image_processor_type": processor, "do_resize": True, "size": {"shortest_edge": size},
            "resample": 3, "do_center_crop": True, "crop_size": {"height": size, "width": size},
            "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "image_mean": list(mean), "image_std": list(std)}
