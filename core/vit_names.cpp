#include "vit_names.hpp"

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "error.hpp"
#include "io.hpp"
#include "json_reader.hpp"

namespace attn {
namespace {

using json_config::json;
using json_config::parse_json;
using json_config::Reader;

// (ImageNet's mean and std, the default, are VitModel's own: vit.hpp.)
constexpr std::array<float, 3> kClipMean = {0.48145466f, 0.4578275f, 0.40821073f},
                               kClipStd = {0.26862954f, 0.26130258f, 0.27577711f};
constexpr std::array<float, 3> kHalf = {0.5f, 0.5f, 0.5f};

// timm's SigLIP definitions that run tanh GELU (the SigLIP 2 era ones);
// the originals run exact GELU (FAMILIES.md, timm's vision_transformer.py).
bool timm_tanh_gelu(const std::string& name) {
  static const std::regex tanh_names(
      "vit_(base_patch32_siglip(_gap)?_256|large_patch16_siglip(_gap)?_512|so400m_patch16_siglip(_gap)?_[0-9]+|"
      "giantopt_patch16_siglip(_gap)?_[0-9]+)");
  return std::regex_match(name, tanh_names);
}

Activation activation_named(const std::string& act, Activation fallback, const std::string& where) {
  if (act.empty()) return fallback;
  if (act == "gelu") return Activation::Gelu;
  if (act == "quick_gelu") return Activation::QuickGelu;
  if (act == "gelu_pytorch_tanh" || act == "gelu_new" || act == "gelu_fast") return Activation::GeluTanh;
  throw Error(where + ": hidden_act \"" + act + "\" is not one attnscope runs (gelu, quick_gelu, gelu_pytorch_tanh)");
}

// A mean and its std under `r`, both or neither, into `p` with where they
// came from; `what` names the place in messages.
void read_normalisation(const Reader& r, const char* mean_key, const char* std_key, const std::string& what,
                        const char* from, ParsedConfigs& p) {
  const auto m = r.triple(mean_key, false);
  if (!m) return;
  p.mean = m;
  p.std = r.triple(std_key, true);
  if (!p.std) throw Error(what + " has \"" + mean_key + "\" but no \"" + std_key + "\"");
  p.mean_from = from;
}

}  // namespace

std::string block_name(std::string pattern, int i) {
  const auto p = pattern.find("{i}");
  if (p != std::string::npos) pattern.replace(p, 3, std::to_string(i));
  return pattern;
}

ParsedConfigs parse_configs(const VitConfigs& c) {
  ParsedConfigs p;
  if (!c.config_json.empty()) {
    const json j = parse_json(c.config_json, "config.json");
    const Reader root{j, "config.json"};
    const Reader v = root.find("vision_config") ? root.sub("vision_config") : root;
    p.heads = v.integer("num_attention_heads", 1, 4096);
    p.hidden_size = v.integer("hidden_size", 1, 1 << 20);
    p.registers = v.integer("num_register_tokens", 0, 4096);
    p.eps = v.number("layer_norm_eps", 0, 1);
    p.hidden_act = v.string("hidden_act");
    p.model_type = v.string("model_type");
    if (p.model_type.empty()) p.model_type = root.string("model_type");
    p.architecture = root.string("architecture");  // timm's hub config
    read_normalisation(root.sub("pretrained_cfg"), "mean", "std", "config.json: pretrained_cfg",
                       "config.json (pretrained_cfg)", p);
  }
  if (!c.open_clip_json.empty()) {
    const json j = parse_json(c.open_clip_json, "open_clip_config.json");
    const Reader root{j, "open_clip_config.json"};
    // open_clip accepts the model config bare, or under "model_cfg".
    const Reader model = root.find("model_cfg") ? root.sub("model_cfg") : root;
    const Reader vision = model.sub("vision_cfg");
    p.open_clip = true;
    p.quick_gelu = model.boolean("quick_gelu");
    p.head_width = vision.integer("head_width", 1, 1 << 16);
    p.open_clip_eps = vision.sub("norm_kwargs").number("eps", 0, 1);
    p.timm_model_name = vision.string("timm_model_name");
    read_normalisation(root.sub("preprocess_cfg"), "mean", "std", "open_clip_config.json: preprocess_cfg",
                       "open_clip_config.json", p);
  }
  if (!c.preprocessor_json.empty()) {
    const json j = parse_json(c.preprocessor_json, "preprocessor_config.json");
    const Reader root{j, "preprocessor_config.json"};
    read_normalisation(root, "image_mean", "image_std", "preprocessor_config.json", "preprocessor_config.json", p);
  }
  return p;
}

VitNames detect_vit_names(const TensorFile& t, const ParsedConfigs& c) {
  VitNames n;
  auto timm_blocks = [&](const std::string& p) {
    const std::string b = p + "blocks.{i}.";
    n.cls = p + "cls_token", n.pos = p + "pos_embed", n.patch_w = p + "patch_embed.proj.weight";
    n.patch_b = p + "patch_embed.proj.bias", n.norm_w = p + "norm.weight", n.norm_b = p + "norm.bias";
    n.ln1_w = b + "norm1.weight", n.ln1_b = b + "norm1.bias", n.ln2_w = b + "norm2.weight", n.ln2_b = b + "norm2.bias";
    n.qkv_w = b + "attn.qkv.weight", n.qkv_b = b + "attn.qkv.bias";
    n.o_w = b + "attn.proj.weight", n.o_b = b + "attn.proj.bias";
    n.fc1_w = b + "mlp.fc1.weight", n.fc1_b = b + "mlp.fc1.bias", n.fc2_w = b + "mlp.fc2.weight";
    n.fc2_b = b + "mlp.fc2.bias", n.w12_w = b + "mlp.w12.weight", n.w12_b = b + "mlp.w12.bias";
    n.w3_w = b + "mlp.w3.weight", n.w3_b = b + "mlp.w3.bias", n.ls1 = b + "ls1.gamma", n.ls2 = b + "ls2.gamma";
  };
  auto hf_clip_blocks = [&](const std::string& p) {
    const std::string b = p + "encoder.layers.{i}.";
    n.ln1_w = b + "layer_norm1.weight", n.ln1_b = b + "layer_norm1.bias";
    n.ln2_w = b + "layer_norm2.weight", n.ln2_b = b + "layer_norm2.bias";
    n.q_w = b + "self_attn.q_proj.weight", n.q_b = b + "self_attn.q_proj.bias";
    n.k_w = b + "self_attn.k_proj.weight", n.k_b = b + "self_attn.k_proj.bias";
    n.v_w = b + "self_attn.v_proj.weight", n.v_b = b + "self_attn.v_proj.bias";
    n.o_w = b + "self_attn.out_proj.weight", n.o_b = b + "self_attn.out_proj.bias";
    n.fc1_w = b + "mlp.fc1.weight", n.fc1_b = b + "mlp.fc1.bias", n.fc2_w = b + "mlp.fc2.weight";
    n.fc2_b = b + "mlp.fc2.bias";
  };
  auto hf_vit_blocks = [&](const std::string& p, bool dinov2) {
    const std::string b = p + "encoder.layer.{i}.";
    const std::string n1 = dinov2 ? "norm1" : "layernorm_before", n2 = dinov2 ? "norm2" : "layernorm_after";
    const std::string e = p + "embeddings.";
    n.cls = e + "cls_token", n.pos = e + "position_embeddings", n.patch_w = e + "patch_embeddings.projection.weight";
    n.patch_b = e + "patch_embeddings.projection.bias", n.norm_w = p + "layernorm.weight",
    n.norm_b = p + "layernorm.bias";
    n.ln1_w = b + n1 + ".weight", n.ln1_b = b + n1 + ".bias", n.ln2_w = b + n2 + ".weight", n.ln2_b = b + n2 + ".bias";
    n.q_w = b + "attention.attention.query.weight", n.q_b = b + "attention.attention.query.bias";
    n.k_w = b + "attention.attention.key.weight", n.k_b = b + "attention.attention.key.bias";
    n.v_w = b + "attention.attention.value.weight", n.v_b = b + "attention.attention.value.bias";
    n.o_w = b + "attention.output.dense.weight", n.o_b = b + "attention.output.dense.bias";
    if (dinov2) {
      n.fc1_w = b + "mlp.fc1.weight", n.fc1_b = b + "mlp.fc1.bias", n.fc2_w = b + "mlp.fc2.weight";
      n.fc2_b = b + "mlp.fc2.bias", n.w12_w = b + "mlp.weights_in.weight", n.w12_b = b + "mlp.weights_in.bias";
      n.w3_w = b + "mlp.weights_out.weight", n.w3_b = b + "mlp.weights_out.bias";
      n.ls1 = b + "layer_scale1.lambda1", n.ls2 = b + "layer_scale2.lambda1";
      n.reg = e + "register_tokens";
    } else {
      n.fc1_w = b + "intermediate.dense.weight", n.fc1_b = b + "intermediate.dense.bias";
      n.fc2_w = b + "output.dense.weight", n.fc2_b = b + "output.dense.bias";
    }
  };
  auto config_eps = [&](double fallback) {
    n.eps = c.eps.value_or(fallback);
    n.eps_from = c.eps ? "config.json" : "the family's default";
  };

  // timm-style names: the original DINO and DINOv2 code, timm's ViT, DeiT
  // and SigLIP, and open_clip's timm trunk (visual.trunk.).
  for (const std::string p : {"", "visual.trunk."}) {
    if (!t.has(p + "blocks.0.attn.qkv.weight")) continue;
    timm_blocks(p);
    if (t.has(p + "mask_token")) {  // only DINOv2's own code stores one
      n.family = "DINOv2", n.naming = "DINOv2's own";
      n.reg = p + "register_tokens";
      // The hub models: registers resample with antialiasing, the others with the +0.1 scale factor.
      n.resample = t.has(n.reg) ? PosResample::SizeAntialias : PosResample::Offset;
    } else if (t.has(p + "dist_token")) {
      n.family = "DeiT", n.naming = "timm", n.dist = p + "dist_token", n.resample = PosResample::SizeAntialias;
    } else if (t.has(p + "attn_pool.latent") || !t.has(n.cls)) {
      n.family = "SigLIP", n.naming = p.empty() ? "timm" : "open_clip (timm trunk)";
      n.resample = PosResample::SizeAntialias;
      n.mean = kHalf, n.std = kHalf;
      const std::string model = !c.timm_model_name.empty() ? c.timm_model_name : c.architecture;
      if (timm_tanh_gelu(model)) n.activation = Activation::GeluTanh;
      if (t.has(p + "attn_pool.latent")) {
        n.probe = p + "attn_pool.latent", n.probe_q_w = p + "attn_pool.q.weight", n.probe_q_b = p + "attn_pool.q.bias";
        n.probe_kv_w = p + "attn_pool.kv.weight", n.probe_kv_b = p + "attn_pool.kv.bias";
      }
    } else {
      n.family = "ViT", n.naming = "timm", n.reg = p + "reg_token";
      config_eps(1e-6);
    }
    return n;
  }
  // OpenAI's CLIP and open_clip.
  if (t.has("visual.conv1.weight")) {
    const std::string p = "visual.", b = "visual.transformer.resblocks.{i}.";
    n.family = "CLIP";
    n.naming = c.open_clip || t.has("visual.transformer.resblocks.0.ls_1.gamma") ? "open_clip" : "OpenAI";
    n.cls = p + "class_embedding", n.pos = p + "positional_embedding", n.patch_w = p + "conv1.weight";
    n.pre_w = p + "ln_pre.weight", n.pre_b = p + "ln_pre.bias";
    n.ln1_w = b + "ln_1.weight", n.ln1_b = b + "ln_1.bias", n.ln2_w = b + "ln_2.weight", n.ln2_b = b + "ln_2.bias";
    n.qkv_w = b + "attn.in_proj_weight", n.qkv_b = b + "attn.in_proj_bias";
    n.o_w = b + "attn.out_proj.weight", n.o_b = b + "attn.out_proj.bias";
    n.fc1_w = b + "mlp.c_fc.weight", n.fc1_b = b + "mlp.c_fc.bias", n.fc2_w = b + "mlp.c_proj.weight";
    n.fc2_b = b + "mlp.c_proj.bias", n.ls1 = b + "ls_1.gamma", n.ls2 = b + "ls_2.gamma";
    n.eps = c.open_clip_eps.value_or(1e-5);
    n.eps_from = c.open_clip_eps ? "open_clip_config.json" : "the family's default";
    // open_clip runs exact GELU unless its config says quick_gelu; OpenAI's models are QuickGELU.
    n.activation = c.open_clip && !c.quick_gelu ? Activation::Gelu : Activation::QuickGelu;
    n.resample = PosResample::SizeAntialias;
    n.mean = kClipMean, n.std = kClipStd;
    return n;
  }
  // Hugging Face CLIP and SigLIP vision towers.
  if (t.has("vision_model.embeddings.patch_embedding.weight")) {
    const std::string p = "vision_model.", e = "vision_model.embeddings.";
    hf_clip_blocks(p);
    n.naming = "Hugging Face";
    n.patch_w = e + "patch_embedding.weight", n.pos = e + "position_embedding.weight";
    n.norm_w = p + "post_layernorm.weight", n.norm_b = p + "post_layernorm.bias";
    if (t.has(e + "class_embedding")) {
      n.family = "CLIP", n.cls = e + "class_embedding";
      n.pre_w = p + "pre_layrnorm.weight", n.pre_b = p + "pre_layrnorm.bias";  // (sic)
      n.norm_w = n.norm_b = "";  // post_layernorm pools the class token only: no effect on attention
      config_eps(1e-5);
      n.activation = activation_named(c.hidden_act, Activation::QuickGelu, "config.json");
      n.mean = kClipMean, n.std = kClipStd;
    } else {
      n.family = "SigLIP", n.patch_b = e + "patch_embedding.bias";
      config_eps(1e-6);
      n.activation = activation_named(c.hidden_act, Activation::GeluTanh, "config.json");
      n.mean = kHalf, n.std = kHalf;
      if (t.has(p + "head.probe")) {
        n.probe = p + "head.probe", n.probe_in_w = p + "head.attention.in_proj_weight";
        n.probe_in_b = p + "head.attention.in_proj_bias";
      }
    }
    return n;
  }
  // Hugging Face ViT, DINOv2 (with or without registers) and DeiT.
  for (const std::string p : {"", "vit.", "dinov2.", "deit."}) {
    if (!t.has(p + "embeddings.patch_embeddings.projection.weight")) continue;
    const bool dinov2 = t.has(p + "encoder.layer.0.norm1.weight");
    hf_vit_blocks(p, dinov2);
    n.naming = "Hugging Face";
    if (dinov2) {
      n.family = "DINOv2";
      config_eps(1e-6);
      const bool registers = t.has(n.reg) || c.model_type == "dinov2_with_registers";
      n.resample = registers ? PosResample::SizeAntialias : PosResample::Size;
    } else if (t.has(p + "embeddings.distillation_token")) {
      n.family = "DeiT", n.dist = p + "embeddings.distillation_token";
      config_eps(1e-12);
    } else {
      n.family = "ViT";
      config_eps(1e-6);
    }
    n.activation = activation_named(c.hidden_act, Activation::Gelu, "config.json");
    return n;
  }
  // torchvision's VisionTransformer.
  if (t.has("encoder.layers.encoder_layer_0.self_attention.in_proj_weight")) {
    const std::string b = "encoder.layers.encoder_layer_{i}.";
    n.family = "ViT", n.naming = "torchvision";
    n.cls = "class_token", n.pos = "encoder.pos_embedding", n.patch_w = "conv_proj.weight",
    n.patch_b = "conv_proj.bias";
    n.norm_w = "encoder.ln.weight", n.norm_b = "encoder.ln.bias";
    n.ln1_w = b + "ln_1.weight", n.ln1_b = b + "ln_1.bias", n.ln2_w = b + "ln_2.weight", n.ln2_b = b + "ln_2.bias";
    n.qkv_w = b + "self_attention.in_proj_weight", n.qkv_b = b + "self_attention.in_proj_bias";
    n.o_w = b + "self_attention.out_proj.weight", n.o_b = b + "self_attention.out_proj.bias";
    n.fc1_w = b + "mlp.0.weight", n.fc1_b = b + "mlp.0.bias", n.fc2_w = b + "mlp.3.weight", n.fc2_b = b + "mlp.3.bias";
    n.fc1_alt_w = b + "mlp.linear_1.weight", n.fc1_alt_b = b + "mlp.linear_1.bias";
    n.fc2_alt_w = b + "mlp.linear_2.weight", n.fc2_alt_b = b + "mlp.linear_2.bias";
    return n;
  }
  throw Error(
      "not a Vision Transformer in a known layout: found none of \"blocks.0.attn.qkv.weight\" (timm, DINO, DINOv2, "
      "DeiT, SigLIP), \"visual.conv1.weight\" (OpenAI CLIP, open_clip), "
      "\"vision_model.embeddings.patch_embedding.weight\" (Hugging Face CLIP, SigLIP), "
      "\"embeddings.patch_embeddings.projection.weight\" (Hugging Face ViT, DINOv2, DeiT) nor "
      "\"encoder.layers.encoder_layer_0.self_attention.in_proj_weight\" (torchvision)");
}

}  // namespace attn
