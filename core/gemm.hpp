#pragma once
// Single-precision matrix products on the run-time-selected kernels
// (simd/kernels.hpp): B in panels of the micro-kernel's width (packed once
// for many rows, one panel at a time into L1 for few, or beforehand for a
// model's weights), A packed per block, register tiles of MR x NR, blocks
// sized for the caches.
//
// A strided view names any dense matrix or its transpose: element (i, j) is
// data[i * rs + j * cs]. A row-major [r, c] matrix with row stride ld is
// {data, ld, 1}; its transpose is {data, 1, ld}.
#include <cstddef>
#include <vector>

#include "simd/kernels.hpp"

namespace attn {

struct StridedView {
  const float* data;
  std::ptrdiff_t rs, cs;
  float at(int i, int j) const { return data[i * rs + j * cs]; }
};

// B [k, n] packed for the micro-kernel: depth in blocks of kDepthBlock rows,
// each block as ceil(n / NR) panels of [depth, NR] (zero-padded columns).
class PackedB {
 public:
  static constexpr int kDepthBlock = 256;

  PackedB() = default;
  // b: [k, n]. Uses the kernels selected now; they must not change before
  // the products that use this packing.
  PackedB(StridedView b, int k, int n);
  // The same, in `storage`'s memory (its contents are overwritten): reusing
  // one buffer spares the page faults of fresh memory on every product.
  PackedB(StridedView b, int k, int n, std::vector<float> storage);
  // The packing's memory, for the next PackedB.
  std::vector<float> release() && { return std::move(data_); }

  int depth() const { return k_; }
  int cols() const { return n_; }
  int nr() const { return nr_; }
  const simd::Kernels& kernels() const { return *kernels_; }
  // Panel jr (columns [jr * NR, jr * NR + NR)) of depth block pb.
  const float* panel(int pb, int jr) const;
  std::size_t bytes() const { return data_.size() * sizeof(float); }
  bool empty() const { return data_.empty(); }

 private:
  int k_ = 0, n_ = 0, nr_ = 0, npad_ = 0;
  const simd::Kernels* kernels_ = nullptr;
  std::vector<float> data_;
};

// C[i, j] = alpha * sum_p A[i, p] B[p, j] (+ C[i, j] when accumulate), for
// rows i in [0, m) and columns j in [col_begin, col_end) of B, over the depth
// p in [depth_begin, depth_end) of B. A's column 0 pairs with B's row
// depth_begin. col_begin must be a multiple of NR and depth_begin of
// kDepthBlock; -1 ends mean "to the end". C is row-major with row stride
// ldc; column j of B lands in C's column j - col_begin. Runs on the calling
// thread.
void gemm_packed(int m, StridedView a, const PackedB& b, float* c, std::ptrdiff_t ldc, float alpha, bool accumulate,
                 int col_begin = 0, int col_end = -1, int depth_begin = 0, int depth_end = -1);

// C [m, n] = alpha * A [m, k] B [k, n] (+ C when accumulate), on the
// thread pool. Up to 240 rows (a ViT's tokens): A is packed once, and B's
// panels are split across the threads and packed one at a time into L1 as
// they are used, so B is read once and never written. More rows: B is
// packed once, and the rows (or, for few row blocks, the columns) are split.
void gemm(int m, int n, int k, float alpha, StridedView a, StridedView b, float* c, std::ptrdiff_t ldc,
          bool accumulate = false);

// C [m, n] = alpha * A [m, k] B [k, n] (+ C when accumulate) with B packed
// beforehand (a model's weights, packed once when it is loaded; n and k are
// the packing's), on the thread pool.
void gemm(int m, StridedView a, const PackedB& b, float* c, std::ptrdiff_t ldc, float alpha = 1.0f,
          bool accumulate = false);

}  // namespace attn
