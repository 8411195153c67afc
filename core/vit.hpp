#pragma once
// Vision Transformers from safetensors weights: the forward pass on the CPU,
// keeping every layer's and head's attention.
//
// Weight layouts (see ../shared/reference/vit-weights.md), detected from the
// tensor names: timm / original DINO (blocks.{i}.attn.qkv.weight, ...),
// Hugging Face ViTModel (encoder.layer.{i}.attention.attention.query.weight,
// ..., with or without a "vit." prefix) and torchvision VisionTransformer
// (encoder.layers.encoder_layer_{i}.self_attention.in_proj_weight, ...).
// Width, depth and patch size come from the tensors' shapes; the head count
// from a config.json beside the file, else the caller, else width / 64.
//
// Token order everywhere in this API: the class token, then the patches
// row-major, then the register tokens (if any).
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "attention_record.hpp"
#include "image.hpp"
#include "safetensors.hpp"
#include "types.hpp"

namespace attn {

struct VitBlock {
  Vector norm1_w, norm1_b, norm2_w, norm2_b;
  Matrix qkv_w;   // [3D, D]: rows Q, then K, then V; heads contiguous within each
  Vector qkv_b;   // [3D]
  Matrix proj_w;  // [D, D]
  Vector proj_b;
  Matrix fc1_w;  // [M, D]
  Vector fc1_b;
  Matrix fc2_w;  // [D, M]
  Vector fc2_b;
  Vector ls1, ls2;  // LayerScale gammas [D], empty when absent
};

struct VitModel {
  std::string layout;  // "timm", "huggingface" or "torchvision"
  int width = 0, depth = 0, heads = 0, patch = 0, registers = 0;
  double eps = 1e-6;
  Vector cls;             // [D]
  Matrix registers_init;  // [R, D]
  Matrix pos;             // [P0 (+1 if pos_has_class), D]
  bool pos_has_class = true;
  int pos_grid = 0;  // the position embeddings' grid side (P0 = side^2)
  Matrix patch_w;    // [D, 3 p p]: Conv2d weights flattened (channel, row, column)
  Vector patch_b;
  std::vector<VitBlock> blocks;
  Vector norm_w, norm_b;
};

// Maps the tensors of a safetensors file to a model. `heads`: from the
// caller (0: from config_json, else width / 64). config_json: the text of a
// Hugging Face config.json (may be empty). Throws attn::Error naming the
// missing or mis-shaped tensor.
VitModel load_vit(const SafeTensors& st, int heads = 0, const std::string& config_json = "");
// Reads the file and the config.json beside it, if any.
VitModel load_vit_file(const std::string& path, int heads = 0);

struct VitOptions {
  // Resize so the shorter side is `size` pixels (bilinear, area-averaged when
  // shrinking), then crop to whole patches. 0: keep the image's size (cropped
  // to whole patches), no resampling.
  int size = 0;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};  // ImageNet
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  // Divides the logits of every layer's softmax: the change propagates to
  // the later layers, unlike a display temperature.
  double temperature = 1.0;
  // Refuse runs whose attention maps (L x H x N x N floats) exceed this.
  double max_attention_bytes = 2.0 * (1ULL << 30);
};

struct VitResult {
  int grid_cols = 0, grid_rows = 0;  // the patch grid
  int tokens = 0;                    // 1 + cols*rows + registers
  int registers = 0;
  Image input;  // the image as the model saw it (after resizing and cropping)
  // Token set 0: the model's tokens in the API's order; one tensor,
  // "encoder" [L, H, N, N] (rows = queries).
  AttentionRecord record;
  Matrix output;  // [N, D] after the final norm

  const NamedAttention& encoder() const { return record.attention.front(); }
  const AttentionStack& attention() const { return encoder().weights; }
  const TokenSet& token_set() const { return record.token_sets.front(); }
};

// The patch grid the options give for an image (throws attn::Error if the
// image is smaller than one patch).
std::array<int, 2> vit_grid(const VitModel& m, int width, int height, const VitOptions& opt);

VitResult run_vit(const VitModel& m, const Image& img, const VitOptions& opt = {});

// Bicubic resampling of a [rows*cols, D] grid of vectors to [new_rows *
// new_cols, D], as torch.nn.functional.interpolate(mode="bicubic",
// align_corners=False) (cubic convolution, a = -0.75, edges clamped): how
// timm resamples position embeddings.
Matrix resample_bicubic(const MatrixRef& grid, int rows, int cols, int new_rows, int new_cols);

// An image resized so its shorter side is `size` (bilinear; box-filtered
// when shrinking).
Image resize_shorter_side(const Image& img, int size);

}  // namespace attn
