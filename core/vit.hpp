#pragma once
// Vision Transformers from the files their users download: the forward pass
// on the CPU, keeping every layer's and head's attention.
//
// Families and namings (vit_names.cpp detects them from the tensor names and
// the config files beside the weights; tests/torch/FAMILIES.md has the facts
// and their sources): plain ViT (timm, original DINO, Hugging Face ViTModel,
// torchvision), DINOv2 with or without registers (original and Hugging
// Face), CLIP (OpenAI, open_clip, Hugging Face), SigLIP (Hugging Face, timm,
// open_clip) and DeiT distilled (timm, Hugging Face). Width, depth and patch
// size come from the tensors' shapes; the head count from the caller, else
// the config, else width / 64.
//
// Token order everywhere in this API: the prefix tokens (class, then
// distillation), the patches row-major, then the register tokens; a model
// without a class token (SigLIP) starts with the patches.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "attention_record.hpp"
#include "enum_names.hpp"
#include "gemm.hpp"
#include "image.hpp"
#include "tensor_file.hpp"
#include "types.hpp"

namespace attn {

// The MLP's non-linearity.
enum class Activation {
  Gelu,       // x Φ(x), the exact (erf) form
  GeluTanh,   // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
  QuickGelu,  // x σ(1.702 x) (OpenAI's CLIP)
};
template <>
std::span<const EnumName<Activation>> enum_names<Activation>();

// How the position embeddings of the trained G x G grid are resampled to
// another grid (all bicubic, align_corners=False; FAMILIES.md).
enum class PosResample {
  Size,           // F.interpolate(size=(rows, cols)): a = -0.75, edges clamped
  SizeAntialias,  // the same with antialias=True: a = -0.5, taps widened when shrinking, renormalised
  Offset,         // scale_factor=((rows + 0.1) / G, (cols + 0.1) / G): DINO's and DINOv2's own code
};
template <>
std::span<const EnumName<PosResample>> enum_names<PosResample>();

// A linear layer's weight, y = x wᵀ: w [out, in] in PyTorch's layout as
// read; or, once packed (pack_weights), wᵀ [in, out] packed for the gemm
// and w freed (the packing is the same size but for padding to whole
// panels). A model that stays loaded packs its weights once instead of on
// every forward pass.
struct LinearWeight {
  Matrix w;
  PackedB packed;
  Eigen::Index out() const { return packed.empty() ? w.rows() : packed.cols(); }
};

struct VitBlock {
  Vector norm1_w, norm1_b, norm2_w, norm2_b;
  LinearWeight qkv;   // [3D, D]: rows Q, then K, then V; heads contiguous within each
  Vector qkv_b;       // [3D]
  LinearWeight proj;  // [D, D]
  Vector proj_b;
  // The MLP: fc2(act(fc1 x)), or with swiglu fc2(silu(a) * b) where fc1 x = [a | b].
  bool swiglu = false;
  LinearWeight fc1;  // [M, D], or [2 h, D] for SwiGLU
  Vector fc1_b;
  LinearWeight fc2;  // [D, M], or [D, h]
  Vector fc2_b;
  Vector ls1, ls2;  // LayerScale gammas [D], empty when absent
};

// Packs the block's four weights for the kernels selected now (each
// PackedB keeps them) and frees the matrices they came from.
void pack_weights(VitBlock& b);

// A pooling head's probe (SigLIP's "MAP" head): a learned query that
// attends to every token after the final norm. Only what its attention
// needs is kept: the probe and the query and key projections.
struct PoolProbe {
  Vector latent;  // [D]
  Matrix q_w;     // [D, D]
  Vector q_b;
  Matrix k_w;  // [D, D]
  Vector k_b;
};

// Blocks read from the weights as the forward pass reaches them.
class BlockReader {
 public:
  virtual ~BlockReader() = default;
  // Block i into `into`, whose matrices' memory is reused where the shapes
  // match (every block of a model has the same). attn::Error when the file
  // changed underneath.
  virtual void read(int i, VitBlock& into) const = 0;
};

struct VitModel {
  std::string family;      // "ViT", "DINOv2", "CLIP", "SigLIP", "DeiT"
  std::string naming;      // "timm", "Hugging Face", "DINOv2's own", "OpenAI", "open_clip", "torchvision"
  std::string heads_from;  // where the head count came from: "--heads", "config.json", "width / 64", ...
  std::string eps_from;    // likewise for LayerNorm's epsilon
  int width = 0, depth = 0, heads = 0, patch = 0, registers = 0;
  double eps = 1e-6;
  Activation activation = Activation::Gelu;
  PosResample resample = PosResample::Size;
  bool has_class = true, has_distillation = false;
  Vector cls, dist;               // [D] each, when present
  Matrix registers_init;          // [R, D]
  Matrix pos;                     // [pos_prefix + G², D]
  int pos_prefix = 1;             // rows of `pos` for the prefix tokens (0: they get none)
  int pos_grid = 0;               // G: the position embeddings' grid side
  Matrix patch_w;                 // [D, 3 p p]: Conv2d weights flattened (channel, row, column)
  Vector patch_b;                 // [D], or empty (CLIP has none)
  Vector pre_norm_w, pre_norm_b;  // CLIP's ln_pre before the blocks, or empty
  std::vector<VitBlock> blocks;   // all `depth` of them, or none when `streamed`
  // Set when the blocks stay in the weights file and are read one at a
  // time as the forward pass reaches them: a model run once (the CLI) then
  // needs the memory of one block, not of all of them.
  std::shared_ptr<const BlockReader> streamed;
  int mlp_hidden = 0;  // the MLP's hidden width (SwiGLU: h)
  bool swiglu = false, layer_scale = false;
  Vector norm_w, norm_b;  // the final norm (every token), or empty (CLIP normalises only the pooled token)
  std::optional<PoolProbe> probe;
  // Preprocessing defaults: the family's, or the config files'.
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
  std::string mean_from = "the family's default";

  int prefix_tokens() const { return (has_class ? 1 : 0) + (has_distillation ? 1 : 0); }
  // One line: what was read and what was assumed, e.g. "DINOv2 with 4
  // registers, Hugging Face names, width 384, 12 layers, 6 heads
  // (config.json), patch 14, LayerNorm eps 1e-6 (config.json)".
  std::string describe() const;
};

// The config files that may sit beside the weights (their text; "" when absent).
struct VitConfigs {
  std::string config_json;        // Hugging Face's (flat, or vision_config nested), or timm's
  std::string open_clip_json;     // open_clip_config.json
  std::string preprocessor_json;  // preprocessor_config.json
};

// Maps the tensors of a weights file to a model. `heads`: from the caller
// (0: the configs', else width / 64). Throws attn::Error naming the missing
// or mis-shaped tensor, or saying which layouts were looked for.
VitModel load_vit(const TensorFile& file, int heads = 0, const VitConfigs& configs = {}, bool stream_blocks = false);
// Reads the weights (.safetensors, a sharded index, or a PyTorch checkpoint
// .pth/.pt/.bin, nested or not; `checkpoint_key` picks the state dict) and
// the config files beside them. With `stream_blocks`, every tensor's shape
// is checked now but the blocks are read when run (VitModel::streamed).
VitModel load_vit_file(const std::string& path, int heads = 0, const std::string& checkpoint_key = "",
                       bool stream_blocks = false);

struct VitOptions {
  // Resize so the shorter side is `size` pixels (bilinear, area-averaged when
  // shrinking), then crop to whole patches. 0: keep the image's size (cropped
  // to whole patches), no resampling.
  int size = 0;
  // Normalisation; empty: the model's (its family's, or its config files').
  std::optional<std::array<float, 3>> mean, std;
  // Divides the logits of every layer's softmax: the change propagates to
  // the later layers, unlike a display temperature.
  double temperature = 1.0;
  // The maps (L x H x N x N) are kept in float32 while that takes at most
  // `max_f32_attention_bytes` (exact, as computed), in half precision above
  // (see Precision); `attention_precision` forces one.
  double max_f32_attention_bytes = 1024.0 * 1024 * 1024;
  std::optional<Precision> attention_precision;
  // Refuse runs whose maps, as stored, would exceed this.
  double max_attention_bytes = 2.0 * (1ULL << 30);
};

struct VitResult {
  int grid_cols = 0, grid_rows = 0;  // the patch grid
  int tokens = 0;                    // prefix + cols*rows + registers
  int registers = 0;
  Image input;  // the image as the model saw it (after resizing and cropping)
  // Token set 0: the model's tokens in the API's order; tensor 0, "encoder"
  // [L, H, N, N] (rows = queries); with a probe, token set 1 (the probe) and
  // tensor 1, "pool" [1, H, 1, N].
  AttentionRecord record;
  Matrix output;  // [N, D] after the final norm

  const NamedAttention& encoder() const { return record.attention.front(); }
  const AttentionStack& attention() const { return encoder().weights; }
  const TokenSet& token_set() const { return record.token_sets.front(); }
  const NamedAttention* pool() const { return record.find(AttentionRole::Pool); }
};

// The patch grid the options give for an image (throws attn::Error if the
// image is smaller than one patch).
std::array<int, 2> vit_grid(const VitModel& m, int width, int height, const VitOptions& opt);

VitResult run_vit(const VitModel& m, const Image& img, const VitOptions& opt = {});

// Position embeddings [G*G, D] on a G x G grid (G = side) resampled to
// out_rows x out_cols by `rule`, as F.interpolate does (see PosResample).
Matrix resample_positions(const MatrixRef& grid, int side, int out_rows, int out_cols, PosResample rule);
// Bicubic resampling of a [rows*cols, D] grid of vectors to [new_rows *
// new_cols, D], as torch.nn.functional.interpolate(mode="bicubic",
// align_corners=False) (cubic convolution, a = -0.75, edges clamped).
Matrix resample_bicubic(const MatrixRef& grid, int rows, int cols, int new_rows, int new_cols);

// An image resized so its shorter side is `size` (bilinear; box-filtered
// when shrinking).
Image resize_shorter_side(const Image& img, int size);
// The same to any size, width x height (each >= 1).
Image resize_image(const Image& img, int width, int height);

}  // namespace attn
