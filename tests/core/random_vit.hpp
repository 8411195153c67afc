#pragma once
// A small random Vision Transformer in timm names, for tests of the engine
// and of the app: LayerNorms near identity, the other weights Gaussian at
// scales that keep attention far from uniform.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/safetensors.hpp"

namespace testing_vit {

struct Spec {
  int width = 16, layers = 2, patch = 8, side = 4;  // side x side position embeddings
  int registers = 0;
  float qkv_scale = 0.6f, patch_scale = 0.1f;
  std::uint64_t seed = 3;
};

inline std::map<std::string, attn::NamedTensor> random_timm_vit(const Spec& s) {
  std::map<std::string, attn::NamedTensor> t;
  std::uint64_t stream = 0;
  auto add = [&](const std::string& n, std::vector<std::int64_t> shape, float scale, float offset = 0.0f) {
    std::int64_t c = 1;
    for (auto d : shape) c *= d;
    attn::Rng rng(s.seed, ++stream);
    std::vector<float> v(static_cast<size_t>(c));
    for (float& x : v) x = offset + scale * rng.gaussian();
    t[n] = {shape, v, "F32"};
  };
  const int D = s.width;
  add("cls_token", {1, 1, D}, 1.0f);
  if (s.registers) add("reg_token", {1, s.registers, D}, 1.0f);
  add("pos_embed", {1, 1 + s.side * s.side, D}, 0.5f);
  add("patch_embed.proj.weight", {D, 3, s.patch, s.patch}, s.patch_scale);
  add("patch_embed.proj.bias", {D}, 0.1f);
  add("norm.weight", {D}, 0.1f, 1.0f);
  add("norm.bias", {D}, 0.1f);
  for (int i = 0; i < s.layers; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    for (const char* n : {"norm1", "norm2"}) add(b + n + ".weight", {D}, 0.1f, 1.0f), add(b + n + ".bias", {D}, 0.1f);
    add(b + "attn.qkv.weight", {3 * D, D}, s.qkv_scale);
    add(b + "attn.qkv.bias", {3 * D}, 0.1f);
    add(b + "attn.proj.weight", {D, D}, 0.2f);
    add(b + "attn.proj.bias", {D}, 0.1f);
    add(b + "mlp.fc1.weight", {4 * D, D}, 0.2f);
    add(b + "mlp.fc1.bias", {4 * D}, 0.1f);
    add(b + "mlp.fc2.weight", {D, 4 * D}, 0.2f);
    add(b + "mlp.fc2.bias", {D}, 0.1f);
  }
  return t;
}

}  // namespace testing_vit
