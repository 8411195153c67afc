#pragma once
// Loading Q/K/V tensors for the front ends: .npy (by its magic) or CSV (by the
// .csv extension), and turning them into heads.
#include <string>

#include "core/npy.hpp"
#include "core/types.hpp"

namespace app {

// Rank 1 is refused (a tensor needs rows and columns); CSV is always rank 2.
attn::Array load_tensor(const std::string& path);

// 3-D [H, N, d] -> H heads; 2-D [N, H·d] -> split into H heads.
// Throws attn::Error naming `what` when the shapes do not fit.
attn::Heads to_heads(const attn::Array& a, int heads, const std::string& what);

// The whole 2-D array as a matrix (for projection inputs and weights).
attn::Matrix to_matrix(const attn::Array& a, const std::string& what);

}  // namespace app
