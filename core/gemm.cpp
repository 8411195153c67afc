#include "gemm.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>

#include "parallel.hpp"

namespace attn {
namespace {

// gemm_packed's rows of A packed at a time: a multiple of every MR (12, 6,
// 4); A's block (192 x 256 floats, 192 KiB) stays in L2 while each B panel
// is used from L1. (96 rows read every packed panel twice as often: 2048^3
// and a ViT-L layer ran 5-10% slower.)
constexpr int kRowBlock = 192;
// The most rows gemm() multiplies with B streamed (few_rows): a
// multiple of every MR, and few enough that A's block (240 x 256 floats,
// 240 KiB) stays in a core's L2 cache while B passes through L1 a panel at
// a time.
constexpr int kStreamRows = 240;
// Products with at most this many of B's panels read A's rows where they
// lie: packing A would cost about as much as the product reads it
// (attention's weights times V: 64 columns, two panels of 32).
constexpr int kDirectPanels = 2;

int blocks_of(int n, int b) { return (n + b - 1) / b; }

// One whole panel of MR contiguous rows (src[i] is row i at the first
// column): for each p, the MR values src[i][p]. Read 8 columns of every row
// at a time and written 8 whole panel rows at a time: the compiler turns
// the small transposes into shuffles (1.7x the element-by-element loop).
template <int MR>
void pack_a_panel(const float* const* src, int kc, float* dst) {
  int p = 0;
  for (; p + 8 <= kc; p += 8) {
    float t[MR][8];
    for (int i = 0; i < MR; ++i)
      for (int q = 0; q < 8; ++q) t[i][q] = src[i][p + q];
    for (int q = 0; q < 8; ++q)
      for (int i = 0; i < MR; ++i) dst[(p + q) * MR + i] = t[i][q];
  }
  for (; p < kc; ++p)
    for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[i][p];
}

// Rows [0, rows) and columns [col0, col0 + kc) of a as panels of mr rows:
// panel ir holds, for each p, the mr values A[ir + i, col0 + p]; rows from
// `rows` to the next multiple of mr are zero. dst: ceil(rows / mr) mr kc floats.
void pack_a(StridedView a, int rows, int col0, int kc, int mr, float* dst) {
  for (int ir = 0; ir < rows; ir += mr, dst += static_cast<std::ptrdiff_t>(mr) * kc) {
    const int n = std::min(mr, rows - ir);
    if (a.cs == 1 && n == mr && (mr == 4 || mr == 6 || mr == 12)) {  // every tile height of simd/
      const float* src[12];
      for (int i = 0; i < mr; ++i) src[i] = a.data + (ir + i) * a.rs + col0;
      if (mr == 4)
        pack_a_panel<4>(src, kc, dst);
      else if (mr == 6)
        pack_a_panel<6>(src, kc, dst);
      else
        pack_a_panel<12>(src, kc, dst);
    } else if (a.cs == 1) {  // rows of A are contiguous: read them in order
      for (int i = 0; i < mr; ++i) {
        const float* src = a.data + (ir + i) * a.rs + col0;
        for (int p = 0; p < kc; ++p) dst[p * mr + i] = i < n ? src[p] : 0.0f;
      }
    } else {
      for (int p = 0; p < kc; ++p)
        for (int i = 0; i < mr; ++i) dst[p * mr + i] = i < n ? a.at(ir + i, col0 + p) : 0.0f;
    }
  }
}

// B's columns [j0, j0 + w) at depth [p0, p0 + kc) as one panel of kc rows
// of nr floats (w <= nr; the columns from w to nr are zero).
void pack_b_panel(StridedView b, int p0, int kc, int j0, int w, int nr, float* dst) {
  if (b.rs == 1) {  // B's columns are contiguous (B is a transpose): 8 x NR blocks,
    // read as w short runs and written as 8 whole rows of the panel
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
      for (int j = 0; j < w; ++j) dst[p * nr + j] = b.at(p0 + p, j0 + j);
  }
  for (int p = 0; p < kc; ++p)
    for (int j = w; j < nr; ++j) dst[p * nr + j] = 0.0f;
}

// Asks for B's columns [j0, j0 + w) at depth [p0, p0 + kc), the next panel,
// to be brought into the cache while the current one is multiplied: a
// weight read once per forward comes from memory, in as many short runs as
// the panel has columns (or rows), too many for the hardware to predict.
void prefetch_b_panel(StridedView b, int p0, int kc, int j0, int w) {
  constexpr int kLine = 16;  // floats in a 64-byte cache line
  if (b.rs == 1) {
    for (int j = 0; j < w; ++j)
      for (int p = 0; p < kc; p += kLine) __builtin_prefetch(b.data + (j0 + j) * b.cs + p0 + p);
  } else if (b.cs == 1) {
    for (int p = 0; p < kc; ++p)
      for (int j = 0; j < w; j += kLine) __builtin_prefetch(b.data + (p0 + p) * b.rs + j0 + j);
  }
}

// C's rows [0, rows) and columns [0, cols) (cols <= NR) (+)= the tiles
// that tile(ir, out, ldo, accumulate) writes: MR rows from row ir, into out
// with row stride ldo. A tile that hangs over C's edge (fewer rows or
// columns) is written to a buffer and the part inside C added from there.
template <class Tile>
void tiles_down(const simd::Kernels& kern, int rows, int cols, float* c, std::ptrdiff_t ldc, bool accumulate,
                const Tile& tile) {
  const int mr = kern.mr, nr = kern.nr;
  alignas(64) float edge[16 * 64];
  assert(mr * nr <= 16 * 64);
  for (int ir = 0; ir < rows; ir += mr) {
    float* ct = c + ir * ldc;
    const int n = std::min(mr, rows - ir);
    if (n == mr && cols == nr) {
      tile(ir, ct, ldc, accumulate);
    } else {
      tile(ir, edge, nr, false);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < cols; ++j) ct[i * ldc + j] = (accumulate ? ct[i * ldc + j] : 0.0f) + edge[i * nr + j];
    }
  }
}

// C's rows [0, rows) and columns [0, cols) (+)= alpha * A B, from A packed
// by pack_a and one B panel of depth kc (cols <= NR).
void panel_times_block(const simd::Kernels& kern, int rows, int kc, const float* apack, const float* bp, int cols,
                       float* c, std::ptrdiff_t ldc, float alpha, bool accumulate) {
  tiles_down(kern, rows, cols, c, ldc, accumulate, [&](int ir, float* out, std::ptrdiff_t ldo, bool acc) {
    kern.gemm_tile(kc, apack + static_cast<std::ptrdiff_t>(ir) * kc, bp, out, ldo, alpha, acc);
  });
}

// The same with A's rows read where they lie (a.cs == 1): columns
// [col0, col0 + kc) of rows [0, rows). A last run of fewer than MR rows is
// packed into `apack` (zero rows below), so no row past A is read.
void rows_times_block(const simd::Kernels& kern, int rows, int kc, StridedView a, int col0, const float* bp, int cols,
                      float* c, std::ptrdiff_t ldc, float alpha, bool accumulate, float* apack) {
  tiles_down(kern, rows, cols, c, ldc, accumulate, [&](int ir, float* out, std::ptrdiff_t ldo, bool acc) {
    if (rows - ir < kern.mr) {
      pack_a({a.data + ir * a.rs, a.rs, 1}, rows - ir, col0, kc, kern.mr, apack);
      kern.gemm_tile(kc, apack, bp, out, ldo, alpha, acc);
    } else {
      kern.gemm_tile_rows(kc, a.data + ir * a.rs + col0, a.rs, bp, out, ldo, alpha, acc);
    }
  });
}

// C [m, n] (+)= 0: the product over an empty depth.
void empty_sum(int m, int n, float* c, std::ptrdiff_t ldc, bool accumulate) {
  if (accumulate) return;
  for (int i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
}

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
    const int p0 = pb * kDepthBlock, j0 = jr * nr_;
    pack_b_panel(b, p0, std::min(kDepthBlock, k - p0), j0, std::min(nr_, n - j0), nr_,
                 const_cast<float*>(panel(pb, jr)));
  };
  // Large packings on the pool.
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
  const int nr = kern.nr;
  if (col_end < 0) col_end = b.cols();
  if (depth_end < 0) depth_end = b.depth();
  assert(col_begin % nr == 0 && depth_begin % PackedB::kDepthBlock == 0);
  if (m <= 0 || col_end <= col_begin) return;
  if (depth_end <= depth_begin) return empty_sum(m, col_end - col_begin, c, ldc, accumulate);
  thread_local std::vector<float> apack;
  apack.resize(static_cast<std::size_t>(kRowBlock) * PackedB::kDepthBlock);
  const bool direct = a.cs == 1 && blocks_of(col_end - col_begin, nr) <= kDirectPanels;
  for (int i0 = 0; i0 < m; i0 += kRowBlock) {
    const int mc = std::min(kRowBlock, m - i0);
    const StridedView ai{a.data + i0 * a.rs, a.rs, a.cs};
    for (int p0 = depth_begin; p0 < depth_end; p0 += PackedB::kDepthBlock) {
      const int kc = std::min(PackedB::kDepthBlock, depth_end - p0), pb = p0 / PackedB::kDepthBlock;
      assert(kc == std::min(PackedB::kDepthBlock, b.depth() - p0));
      if (direct) {
        for (int j0 = col_begin; j0 < col_end; j0 += nr)
          rows_times_block(kern, mc, kc, ai, p0 - depth_begin, b.panel(pb, j0 / nr), std::min(nr, col_end - j0),
                           c + i0 * ldc + (j0 - col_begin), ldc, alpha, accumulate || p0 > depth_begin, apack.data());
        continue;
      }
      pack_a(ai, mc, p0 - depth_begin, kc, kern.mr, apack.data());  // A's column 0 pairs with B's row depth_begin
      for (int j0 = col_begin; j0 < col_end; j0 += nr)
        panel_times_block(kern, mc, kc, apack.data(), b.panel(pb, j0 / nr), std::min(nr, col_end - j0),
                          c + i0 * ldc + (j0 - col_begin), ldc, alpha, accumulate || p0 > depth_begin);
    }
  }
}

namespace {

// C [m, n] (+)= alpha A B for at most kStreamRows rows: A is packed once
// for every task, each task takes a run of B's panels and multiplies all
// the rows by each in turn. panel(pb, jr, buffer) gives panel jr of depth
// block pb: packed into `buffer` (kDepthBlock x NR floats, the task's own,
// in L1) from B where it lies, or found in a packing made earlier.
template <class Panel>
void few_rows(const simd::Kernels& kern, int m, int n, int k, float alpha, StridedView a, const Panel& panel, float* c,
              std::ptrdiff_t ldc, bool accumulate) {
  const int mr = kern.mr, nr = kern.nr, panels = blocks_of(n, nr), depth_blocks = blocks_of(k, PackedB::kDepthBlock);
  // A, packed once for every task: depth block pb at pb * mpad * kDepthBlock.
  // (The workers reach it through this pointer: a thread_local named in
  // the lambdas below would be each worker's own.)
  const std::size_t mpad = static_cast<std::size_t>(blocks_of(m, mr)) * static_cast<std::size_t>(mr);
  thread_local std::vector<float> apack;
  apack.resize(mpad * static_cast<std::size_t>(depth_blocks) * PackedB::kDepthBlock);
  float* const apacked = apack.data();
  auto a_block = [&](int pb) { return apacked + static_cast<std::size_t>(pb) * mpad * PackedB::kDepthBlock; };
  parallel_for(depth_blocks, [&](int pb) {
    const int p0 = pb * PackedB::kDepthBlock, kc = std::min(PackedB::kDepthBlock, k - p0);
    pack_a(a, m, p0, kc, mr, a_block(pb));
  });
  // Two tasks a thread, so a thread slowed by other work is helped by the others.
  const int tasks = std::min(panels, 2 * thread_count());
  parallel_for(tasks, [&](int t) {
    const int jr0 = static_cast<int>(static_cast<std::int64_t>(panels) * t / tasks);
    const int jr1 = static_cast<int>(static_cast<std::int64_t>(panels) * (t + 1) / tasks);
    thread_local std::vector<float> buffer;
    buffer.resize(static_cast<std::size_t>(PackedB::kDepthBlock) * static_cast<std::size_t>(nr));
    for (int pb = 0; pb < depth_blocks; ++pb) {
      const int p0 = pb * PackedB::kDepthBlock, kc = std::min(PackedB::kDepthBlock, k - p0);
      for (int jr = jr0; jr < jr1; ++jr) {
        const int j0 = jr * nr, w = std::min(nr, n - j0);
        const float* bp = panel(pb, jr, buffer.data());
        panel_times_block(kern, m, kc, a_block(pb), bp, w, c + j0, ldc, alpha, accumulate || p0 > 0);
      }
    }
  });
}

// C [m, n] (+)= alpha A B with B packed, for any number of rows: runs of
// rows (and, for few of them, runs of columns) across the pool. The rows
// are split evenly, at multiples of MR and at most kRowBlock each, into a
// multiple of the threads' count: 1374 rows (a ViT-L layer) in blocks of
// 192 left one of two threads 768 rows and the other 606.
void many_rows(int m, StridedView a, const PackedB& packed, float* c, std::ptrdiff_t ldc, float alpha,
               bool accumulate) {
  const int n = packed.cols(), nr = packed.nr(), mr = packed.kernels().mr;
  const int threads = thread_count();
  const int row_tasks = blocks_of(blocks_of(m, kRowBlock - mr), threads) * threads;
  // Task t's first row: t m / row_tasks, rounded to a multiple of MR. Each
  // run is then within MR of m / row_tasks <= kRowBlock - MR rows.
  auto row_begin = [&](int t) {
    if (t >= row_tasks) return m;
    const std::int64_t x = static_cast<std::int64_t>(m) * t / row_tasks;
    return static_cast<int>(std::min<std::int64_t>(m, (x + mr / 2) / mr * mr));
  };
  // Enough tasks for every thread to have two; columns split only when the
  // rows alone do not give that many.
  const int col_tasks = std::min(blocks_of(n, nr), row_tasks >= 2 * threads ? 1 : blocks_of(2 * threads, row_tasks));
  const int panels_per_task = blocks_of(blocks_of(n, nr), col_tasks);
  parallel_for(row_tasks * col_tasks, [&](int t) {
    const int i0 = row_begin(t / col_tasks), rows = row_begin(t / col_tasks + 1) - i0;
    const int j0 = (t % col_tasks) * panels_per_task * nr;
    if (j0 >= n || rows <= 0) return;
    const StridedView at{a.data + i0 * a.rs, a.rs, a.cs};
    gemm_packed(rows, at, packed, c + i0 * ldc + j0, ldc, alpha, accumulate, j0,
                std::min(n, j0 + panels_per_task * nr));
  });
}

}  // namespace

// Few rows stream B: it is read where it lies and never written out
// packed; for a Vision Transformer's layers (197 rows, each weight read
// once per forward) packing all of B first would write and read back every
// weight. More rows pack B once, as then each panel is used by many row
// blocks (a 2048-square product runs about 15% faster this way than
// streaming B once per 240 rows).
void gemm(int m, int n, int k, float alpha, StridedView a, StridedView b, float* c, std::ptrdiff_t ldc,
          bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return empty_sum(m, n, c, ldc, accumulate);
  const simd::Kernels& kern = simd::kernels();
  if (m <= kStreamRows) {
    const int nr = kern.nr;
    few_rows(
        kern, m, n, k, alpha, a,
        [&](int pb, int jr, float* buffer) {
          const int p0 = pb * PackedB::kDepthBlock, kc = std::min(PackedB::kDepthBlock, k - p0), j0 = jr * nr;
          pack_b_panel(b, p0, kc, j0, std::min(nr, n - j0), nr, buffer);
          // The next panel, into the cache while this one is multiplied.
          if (j0 + nr < n) prefetch_b_panel(b, p0, kc, j0 + nr, std::min(nr, n - j0 - nr));
          return static_cast<const float*>(buffer);
        },
        c, ldc, accumulate);
    return;
  }
  // B's packing goes into memory this thread has used before (a ViT packs
  // megabytes of weights per layer; fresh memory costs a page fault per 4 KiB).
  thread_local std::vector<float> storage;
  PackedB packed(b, k, n, std::move(storage));
  many_rows(m, a, packed, c, ldc, alpha, accumulate);
  storage = std::move(packed).release();
  if (storage.capacity() > (std::size_t{64} << 20) / sizeof(float)) storage = {};  // keep at most 64 MiB
}

void gemm(int m, StridedView a, const PackedB& b, float* c, std::ptrdiff_t ldc, float alpha, bool accumulate) {
  const int n = b.cols(), k = b.depth();
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return empty_sum(m, n, c, ldc, accumulate);
  if (m > kStreamRows) return many_rows(m, a, b, c, ldc, alpha, accumulate);
  few_rows(
      b.kernels(), m, n, k, alpha, a,
      [&](int pb, int jr, float*) {
        // The next panel (contiguous after this one), into the cache while this one is multiplied.
        const float* p = b.panel(pb, jr);
        if ((jr + 1) * b.nr() < n) {
          const float* next = b.panel(pb, jr + 1);
          const int kc = std::min(PackedB::kDepthBlock, k - pb * PackedB::kDepthBlock);
          for (int i = 0; i < kc * b.nr(); i += 16) __builtin_prefetch(next + i);
        }
        return p;
      },
      c, ldc, accumulate);
}

}  // namespace attn
