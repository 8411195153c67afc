#pragma once
// What the ViT loader reads before it builds a model (vit_load.cpp): the
// config files beside the weights, and which family and naming the tensor
// names are, with the tensor name of every part of the model.
// tests/torch/FAMILIES.md lists the facts behind each naming and default.
#include <array>
#include <optional>
#include <string>

#include "tensor_file.hpp"
#include "vit.hpp"

namespace attn {

// The settings the config files give (each optional).
struct ParsedConfigs {
  // config.json (its vision_config when nested; or timm's hub config)
  std::optional<int> heads, hidden_size, registers;
  std::optional<double> eps;
  std::string hidden_act, model_type, architecture;
  // open_clip_config.json
  bool open_clip = false;
  bool quick_gelu = false;
  std::optional<int> head_width;
  std::optional<double> open_clip_eps;
  std::string timm_model_name;
  // Normalisation, with the file it came from.
  std::optional<std::array<float, 3>> mean, std;
  std::string mean_from;
};
// Throws attn::Error naming the file for malformed JSON or values out of range.
ParsedConfigs parse_configs(const VitConfigs& c);

// The tensor names of one naming; "" where a part does not exist in it.
// Block names hold "{i}" for the block index.
struct VitNames {
  std::string family, naming;
  std::string cls, dist, reg, pos, patch_w, patch_b, pre_w, pre_b, norm_w, norm_b;
  std::string ln1_w, ln1_b, ln2_w, ln2_b;
  std::string qkv_w, qkv_b;                  // Q, K, V stacked [3D, D]; or separately:
  std::string q_w, q_b, k_w, k_b, v_w, v_b;  //
  std::string o_w, o_b, fc1_w, fc1_b, fc2_w, fc2_b, ls1, ls2;
  std::string w12_w, w12_b, w3_w, w3_b;                    // a SwiGLU MLP, where the naming has one
  std::string fc1_alt_w, fc1_alt_b, fc2_alt_w, fc2_alt_b;  // older torchvision names
  // The pooling probe: Hugging Face's fused in_proj (Q, K, V) or timm's q and kv.
  std::string probe, probe_in_w, probe_in_b, probe_q_w, probe_q_b, probe_kv_w, probe_kv_b;
  // The family's defaults, before the config files.
  double eps = 1e-6;
  std::string eps_from = "the family's default";
  Activation activation = Activation::Gelu;
  PosResample resample = PosResample::Size;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
};

// The naming of `t`'s tensors (attn::Error listing what was looked for
// when none fits), with the family's defaults adjusted by `configs`.
VitNames detect_vit_names(const TensorFile& t, const ParsedConfigs& configs);

// `pattern` with "{i}" replaced by i.
std::string block_name(std::string pattern, int i);

}  // namespace attn
