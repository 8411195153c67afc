#include "gemm.hpp"

#include <algorithm>
#include <cassert>

#include "parallel.hpp"

namespace attn {
namespace {

constexpr int kRowBlock = 96;  // rows of A packed at a time: a multiple of every MR (12, 6, 4)

int blocks_of(int n, int b) { return (n + b - 1) / b; }

}  // namespace

PackedB::PackedB(StridedView b, int k, int n) : PackedB(b, k, n, {}) {}

PackedB::PackedB(StridedView b, int k, int n, std::vector<float> storage)
    : k_(k), n_(n), kernels_(&simd::kernels()), data_(std::move(storage)) {
  nr_ = kernels_->nr;
  npad_ = blocks_of(n, nr_) * nr_;
  data_.resize(static_cast<std::size_t>(k) * static_cast<std::size_t>(npad_));
  const int depth_blocks = blocks_of(k, kDepthBlock), panels = blocks_of(n, nr_);
  auto pack = [&](int t) {
    const int pb = t / panels, jr = t % panels;
    const int p0 = pb * kDepthBlock, kc = std::min(kDepthBlock, k - p0);
    float* dst = const_cast<float*>(panel(pb, jr));
    const int j0 = jr * nr_, w = std::min(nr_, n - j0);
    if (b.rs == 1) {  // B's columns are contiguous (B is a transpose): 8 x NR blocks,
      // read as w short runs and written as 8 whole rows of the panel
      const int nr = nr_;
      float tile[8 * 64];
      assert(nr <= 64);
      for (int p = 0; p < kc; p += 8) {
        const int depth = std::min(8, kc - p);
        for (int j = 0; j < w; ++j) {
          const float* src = b.data + (j0 + j) * b.cs + p0 + p;
          for (int q = 0; q < depth; ++q) tile[q * nr + j] = src[q];
        }
        for (int q = 0; q < depth; ++q)
          for (int j = 0; j < w; ++j) dst[(p + q) * nr + j] = tile[q * nr + j];
      }
    } else {
      for (int p = 0; p < kc; ++p)
        for (int j = 0; j < w; ++j) dst[p * nr_ + j] = b.at(p0 + p, j0 + j);
    }
    for (int p = 0; p < kc; ++p)
      for (int j = w; j < nr_; ++j) dst[p * nr_ + j] = 0.0f;
  };
  // Large packings on the pool (a ViT packs 1.8 M weights per layer).
  if (static_cast<double>(k) * n >= 1 << 18)
    parallel_for(depth_blocks * panels, pack);
  else
    for (int t = 0; t < depth_blocks * panels; ++t) pack(t);
}

const float* PackedB::panel(int pb, int jr) const {
  const int p0 = pb * kDepthBlock, kc = std::min(kDepthBlock, k_ - p0);
  return data_.data() + static_cast<std::size_t>(p0) * static_cast<std::size_t>(npad_) +
         static_cast<std::size_t>(jr) * static_cast<std::size_t>(nr_) * static_cast<std::size_t>(kc);
}

void gemm_packed(int m, StridedView a, const PackedB& b, float* c, std::ptrdiff_t ldc, float alpha, bool accumulate,
                 int col_begin, int col_end, int depth_begin, int depth_end) {
  const simd::Kernels& kern = b.kernels();
  const int mr = kern.mr, nr = kern.nr;
  if (col_end < 0) col_end = b.cols();
  if (depth_end < 0) depth_end = b.depth();
  assert(col_begin % nr == 0 && depth_begin % PackedB::kDepthBlock == 0);
  if (m <= 0 || col_end <= col_begin) return;
  if (depth_end <= depth_begin) {  // an empty sum
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < col_end - col_begin; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] : 0.0f;
    return;
  }
  thread_local std::vector<float> apack;
  apack.resize(static_cast<std::size_t>(kRowBlock) * PackedB::kDepthBlock);
  alignas(64) float edge[16 * 64];  // one tile when it hangs over C's edge
  assert(mr * nr <= 16 * 64);
  for (int i0 = 0; i0 < m; i0 += kRowBlock) {
    const int mc = std::min(kRowBlock, m - i0);
    for (int p0 = depth_begin; p0 < depth_end; p0 += PackedB::kDepthBlock) {
      const int kc = std::min(PackedB::kDepthBlock, depth_end - p0), pb = p0 / PackedB::kDepthBlock;
      assert(kc == std::min(PackedB::kDepthBlock, b.depth() - p0));
      const bool acc = accumulate || p0 > depth_begin;
      // A's rows [i0, i0 + mc) and depth [p0, p0 + kc) as panels of MR rows.
      for (int ir = 0; ir < mc; ir += mr) {
        float* dst = apack.data() + static_cast<std::size_t>(ir) * kc;
        const int rows = std::min(mr, mc - ir);
        if (a.cs == 1) {  // rows of A are contiguous: read them in order
          for (int i = 0; i < mr; ++i) {
            const float* src = a.data + (i0 + ir + i) * a.rs + (p0 - depth_begin);
            for (int p = 0; p < kc; ++p) dst[p * mr + i] = i < rows ? src[p] : 0.0f;
          }
        } else {
          for (int p = 0; p < kc; ++p)
            for (int i = 0; i < mr; ++i) dst[p * mr + i] = i < rows ? a.at(i0 + ir + i, p0 - depth_begin + p) : 0.0f;
        }
      }
      for (int j0 = col_begin; j0 < col_end; j0 += nr) {
        const float* bp = b.panel(pb, j0 / nr);
        const int cols = std::min(nr, col_end - j0);
        for (int ir = 0; ir < mc; ir += mr) {
          const float* ap = apack.data() + static_cast<std::size_t>(ir) * kc;
          float* ct = c + (i0 + ir) * ldc + (j0 - col_begin);
          const int rows = std::min(mr, mc - ir);
          if (rows == mr && cols == nr) {
            kern.gemm_tile(kc, ap, bp, ct, ldc, alpha, acc);
          } else {
            kern.gemm_tile(kc, ap, bp, edge, nr, alpha, false);
            for (int i = 0; i < rows; ++i)
              for (int j = 0; j < cols; ++j) ct[i * ldc + j] = (acc ? ct[i * ldc + j] : 0.0f) + edge[i * nr + j];
          }
        }
      }
    }
  }
}

void gemm(int m, int n, int k, float alpha, StridedView a, StridedView b, float* c, std::ptrdiff_t ldc,
          bool accumulate) {
  if (m <= 0 || n <= 0) return;
  // B's packing goes into memory this thread has used before (a ViT packs
  // megabytes of weights per layer; fresh memory costs a page fault per 4 KiB).
  thread_local std::vector<float> storage;
  PackedB packed(b, k, n, std::move(storage));
  const int nr = packed.nr();
  const int row_tasks = blocks_of(m, kRowBlock);
  const int threads = thread_count();
  // Enough tasks for every thread to have two; columns split only when the
  // rows alone do not give that many.
  const int col_tasks = std::min(blocks_of(n, nr), row_tasks >= 2 * threads ? 1 : blocks_of(2 * threads, row_tasks));
  const int panels_per_task = blocks_of(blocks_of(n, nr), col_tasks);
  parallel_for(row_tasks * col_tasks, [&](int t) {
    const int i0 = (t / col_tasks) * kRowBlock, j0 = (t % col_tasks) * panels_per_task * nr;
    if (j0 >= n) return;
    const StridedView at{a.data + i0 * a.rs, a.rs, a.cs};
    gemm_packed(std::min(kRowBlock, m - i0), at, packed, c + i0 * ldc + j0, ldc, alpha, accumulate, j0,
                std::min(n, j0 + panels_per_task * nr));
  });
  storage = std::move(packed).release();
  if (storage.capacity() > (std::size_t{64} << 20) / sizeof(float)) storage = {};  // keep at most 64 MiB
}

}  // namespace attn
