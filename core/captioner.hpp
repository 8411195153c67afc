#pragma once
// The bundled image captioner (assets/captioner, trained by
// tools/captioner/train.py): a small Vision Transformer encoder over an
// image's patches and a Transformer decoder whose words attend to them, run
// here with greedy decoding. Its attention is the textbook example of
// attention: while a caption is written, each word's query (from the
// decoder's previous layer) looks over keys made from the image's patches
// ("Show, Attend and Tell", Xu et al. 2015; the Transformer's
// cross-attention, Vaswani et al. 2017).
//
// The model (assets/captioner/README.md is the contract), D = width, p = patch:
//   patches  = conv p x p, stride p, over (RGB / 255 - mean) / std  [N, D], + pos_embed [N, D]
//   encoder  = L_e norm-first layers: x += SA(LN1 x); x += W2 gelu(W1 LN2 x)
//   memory   = LN(x)
//   words    = token_embed[ids] + token_pos[:T]                   [T, D]
//   decoder  = L_d norm-first layers: x += SA(LN1 x, causal); x += CA(LN2 x, memory);
//                                     x += W2 gelu(W1 LN3 x)
//   logits   = head(LN(x))                                        [T, V]
// Attention as PyTorch's nn.MultiheadAttention: packed in_proj (q, k, v
// rows), scale 1/sqrt(D/H), out_proj. GELU is the exact (erf) one.
//
// Word t's map is the cross-attention of decoder position t, whose input is
// word t-1 (<bos> for t = 0) and which predicts word t.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attention_record.hpp"
#include "image.hpp"
#include "tensor_file.hpp"
#include "types.hpp"

namespace attn {

struct CaptionerCheckpoint {
  int step = 0;
  std::string file;  // relative to the model's folder
};

// config.json, format "attnscope-captioner-1".
struct CaptionerConfig {
  int image_size = 128, patch = 16, width = 64, mlp = 128;
  int encoder_layers = 0, encoder_heads = 0;
  int decoder_layers = 0, decoder_heads = 0;  // every decoder layer has the same heads
  int max_tokens = 16;
  double layer_norm_eps = 1e-5;
  std::array<float, 3> mean{}, std{};
  std::vector<std::string> vocab;
  int bos = 1, eos = 2, pad = 0;
  std::vector<CaptionerCheckpoint> checkpoints;  // ascending steps

  int grid() const { return image_size / patch; }  // patches a side
  int patches() const { return grid() * grid(); }
};

// Parses and checks config.json; `name` names it in messages. Throws
// attn::Error saying which field is missing or out of range.
CaptionerConfig parse_captioner_config(std::span<const std::uint8_t> bytes, const std::string& name);

struct CaptionerModel {
  struct Attention {
    Matrix in_w;   // [3D, D]: q, k, v rows
    Vector in_b;   // [3D]
    Matrix out_w;  // [D, D]
    Vector out_b;
    int heads = 1;
  };
  struct Layer {
    Vector norm1_w, norm1_b, norm2_w, norm2_b, norm3_w, norm3_b;  // norm3: decoder only
    Attention self, cross;                                        // cross: decoder only
    Matrix fc1_w, fc2_w;                                          // [mlp, D], [D, mlp]
    Vector fc1_b, fc2_b;
  };
  CaptionerConfig config;
  std::optional<int> step;  // the checkpoint's training step; empty: the final weights
  Matrix patch_w;           // [D, 3 p p], input order (channel, y, x)
  Vector patch_b;
  Matrix pos;  // [N, D]
  std::vector<Layer> encoder, decoder;
  Vector encoder_norm_w, encoder_norm_b, decoder_norm_w, decoder_norm_b;
  Matrix token_embed;  // [V, D]
  Matrix token_pos;    // [max_tokens, D]
  Matrix head_w;       // [V, D]
  Vector head_b;
};

// The weights (PyTorch's state_dict names: patch_embed.weight,
// encoder.0.self_attn.in_proj_weight, ...) for `config`. Throws attn::Error
// naming a missing or mis-shaped tensor.
CaptionerModel load_captioner(const TensorFile& weights, const CaptionerConfig& config);
// DIR/config.json with DIR/model.safetensors, or with the checkpoint of
// training step `step` (one of config.checkpoints; an unknown step is an
// error listing the steps there are).
CaptionerModel load_captioner_dir(const std::string& dir, std::optional<int> step = std::nullopt);

struct Caption {
  std::vector<std::string> words;  // the caption, without <bos> and <eos>
  std::vector<int> ids;            // their vocabulary ids
  // Every decoding step's logits, [S, V]: S = T + 1 when <eos> ended the
  // caption (its step included), T when max_tokens did.
  Matrix logits;
  // Token set 0: the N patches on the model's grid (patch = the model's
  // patch in pixels of its input); set 1: the T words. Attention:
  //   "encoder" EncoderSelf [L_e, H_e, N, N]
  //   "decoder" DecoderSelf [L_d, H_d, T, T]  (causal: zero above the diagonal)
  //   "cross"   Cross       [L_d, H_d, T, N]
  AttentionRecord record;
  // Each decoder layer's cross-attention inputs after their projections:
  // queries [T, D] and keys [N, D], head h in columns [h D/H, (h+1) D/H).
  // Word t's weights over the patches, head h: softmax(q_t,h · k_j,h / sqrt(D/H)).
  std::vector<Matrix> cross_q, cross_k;
};

// Captions `image` (any size: resized to image_size x image_size, bilinear,
// area-averaged when shrinking, as resize_image).
Caption run_captioner(const CaptionerModel& model, const Image& image);

// One line, e.g. "captioner: 3 encoder layers x 4 heads, 2 decoder layers x
// 1 head, width 64, 8 x 8 patches of 16 px, training step 2000 of 9000".
std::string describe(const CaptionerModel& model);

}  // namespace attn
