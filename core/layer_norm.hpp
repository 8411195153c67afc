#pragma once
// Layer normalisation (Ba, Kiros & Hinton 2016), as PyTorch's nn.LayerNorm
// over the last dimension: each row of x, minus its mean, divided by
// sqrt(its variance + eps) (the biased variance, over the row), times w
// plus b. Statistics in double precision. Shared by the Vision Transformer
// and the captioner.
#include "types.hpp"

namespace attn {

// x [N, D], w and b [D] -> out [N, D] (resized; must not be x). Rows in
// parallel (parallel_for).
void layer_norm(const Matrix& x, const Vector& w, const Vector& b, double eps, Matrix& out);

}  // namespace attn
