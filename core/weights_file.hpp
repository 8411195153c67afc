#pragma once
// Weights from whatever file a user downloaded: safetensors (one file, or a
// sharded checkpoint's model.safetensors.index.json) or a PyTorch checkpoint
// in the zip format (.pth, .pt, .bin), chosen by the file's first bytes, not
// its name. Older formats get a message that says what they are and how to
// convert them.
#include <string>

#include "tensor_file.hpp"

namespace attn {

// `checkpoint_key` picks the state dict inside a nested PyTorch checkpoint
// (torch_checkpoint.hpp says which it takes otherwise). Throws attn::Error
// naming the file.
TensorFile read_weights(const std::string& path, const std::string& checkpoint_key = "");

}  // namespace attn
