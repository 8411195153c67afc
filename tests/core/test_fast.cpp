// The fast paths (simd kernels, gemm, blocked and online attention, the
// thread pool) against the double-precision reference, on fresh random
// inputs, once for every instruction set this CPU runs, with every result
// matrix poisoned with NaN first so an element left unwritten fails.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "core/attention.hpp"
#include "core/attention_fast.hpp"
#include "core/attention_record.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/parallel.hpp"
#include "core/simd/kernels.hpp"
#include "reference.hpp"

namespace {

using attn::Matrix;
namespace simd = attn::simd;

constexpr double kTolerance = 1e-5;

// Runs body once per ISA the CPU has, with that ISA selected and outputs
// poisoned; restores the default afterwards.
template <class F>
void for_each_isa(F body) {
  const simd::Isa before = simd::kernels().isa;
  attn::testing::poison_outputs(true);
  for (const simd::Kernels* k : simd::supported_kernels()) {
    SCOPED_TRACE(std::string("kernels ") + k->name);
    ASSERT_TRUE(simd::select(k->isa));
    body();
  }
  simd::select(before);
  attn::testing::poison_outputs(false);
}

ref::Mat transpose(const ref::Mat& a) {
  ref::Mat t(a.empty() ? 0 : a[0].size(), std::vector<double>(a.size()));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size(); ++j) t[j][i] = a[i][j];
  return t;
}

TEST(FastPaths, EveryIsaOfThisCpuIsTested) {
  // The project's machines have AVX-512; elsewhere this documents what ran.
  const auto all = simd::supported_kernels();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front()->isa, simd::Isa::Generic);
  for (const auto* k : all) std::printf("kernels available: %s (tile %d x %d)\n", k->name, k->mr, k->nr);
}

// The largest error of C against alpha A B (+ C0 when c0 is not null),
// summed in double, each element against its sum of |terms|: a sum that
// cancels to near zero is judged by the size of what was added, as rounding
// is. a(i, p) and b(p, j) give A's and B's elements; an element left
// unwritten (not finite) is a failure and gives infinity.
template <class A, class B>
double worst_product_error(const Matrix& c, int k, float alpha, A a, B b, const Matrix* c0) {
  double worst = 0;
  for (int i = 0; i < c.rows(); ++i)
    for (int j = 0; j < c.cols(); ++j) {
      double want = 0, size = 0;
      for (int p = 0; p < k; ++p) {
        const double t = static_cast<double>(a(i, p)) * b(p, j);
        want += t, size += std::abs(t);
      }
      want = alpha * want + (c0 ? (*c0)(i, j) : 0.0);
      size = alpha * size + (c0 ? std::abs((*c0)(i, j)) : 0.0);
      if (!std::isfinite(c(i, j))) {
        ADD_FAILURE() << i << "," << j << " not written";
        return std::numeric_limits<double>::infinity();
      }
      worst = std::max(worst, std::abs(c(i, j) - want) / std::max(size, 1e-30));
    }
  return worst;
}

// C = alpha A B (+ C) through attn::gemm, with B as it lies and packed
// beforehand (a model's weights), against the double reference. A and B
// are stored as their transposes when ta / tb, so the views must undo it.
void check_gemm(int m, int n, int k, bool ta, bool tb, bool accumulate, float alpha, unsigned seed) {
  SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + (ta ? " A^T" : "") +
               (tb ? " B^T" : "") + (accumulate ? " +C" : ""));
  const Matrix as = ta ? ref::random(k, m, seed + 1) : ref::random(m, k, seed + 1);
  const Matrix bs = tb ? ref::random(n, k, seed + 2) : ref::random(k, n, seed + 2);
  const attn::StridedView av = ta ? attn::StridedView{as.data(), 1, m} : attn::StridedView{as.data(), k, 1};
  const attn::StridedView bv = tb ? attn::StridedView{bs.data(), 1, k} : attn::StridedView{bs.data(), n, 1};
  Matrix c = accumulate ? ref::random(m, n, seed + 3) : Matrix::Constant(m, n, std::numeric_limits<float>::quiet_NaN());
  const Matrix c0 = c;
  Matrix c_packed = c;
  attn::gemm(m, n, k, alpha, av, bv, c.data(), n, accumulate);
  attn::gemm(m, av, attn::PackedB(bv, k, n), c_packed.data(), n, alpha, accumulate);
  // The same sums in the same order either way.
  EXPECT_TRUE(c.cwiseEqual(c_packed).all()) << "packed beforehand differs";
  const ref::Mat ad = ta ? transpose(ref::from(as)) : ref::from(as);
  const ref::Mat bd = tb ? transpose(ref::from(bs)) : ref::from(bs);
  const double worst = worst_product_error(
      c, k, alpha, [&](int i, int p) { return ad[i][p]; }, [&](int p, int j) { return bd[p][j]; },
      accumulate ? &c0 : nullptr);
  EXPECT_LT(worst, kTolerance);
}

TEST(FastPaths, GemmMatchesTheReferenceOnOddShapesAndTransposes) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int sizes[] = {1, 3, 13, 37, 100, 257, 300};
  for_each_isa([&] {
    for (int trial = 0; trial < 12; ++trial) {
      const int m = sizes[rng() % 7], n = sizes[rng() % 7], k = sizes[rng() % 7];
      const bool ta = rng() % 2, tb = rng() % 2, accumulate = rng() % 2;
      check_gemm(m, n, k, ta, tb, accumulate, trial % 3 == 0 ? 0.125f : 1.0f, seed + static_cast<unsigned>(trial));
    }
  });
}

TEST(FastPaths, GemmSplitsRowsColumnsAndDepthIntoEveryKindOfBlock) {
  // gemm() streams B's panels past up to 240 rows, split by columns (a ViT
  // layer: 197 rows, B a transposed weight), and packs B once for more rows
  // in blocks of 192, over depth blocks of 256: both sides of 240, a short
  // last row block and depth block, an empty depth.
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for_each_isa([&] {
    check_gemm(481, 37, 300, false, false, false, 1.0f, seed);
    check_gemm(197, 200, 520, false, true, false, 1.0f, seed + 1);
    check_gemm(241, 65, 257, true, false, true, 0.5f, seed + 2);
    check_gemm(240, 33, 40, true, true, true, 1.0f, seed + 5);
    check_gemm(5, 17, 0, false, true, true, 1.0f, seed + 3);
    check_gemm(6, 9, 0, false, false, false, 1.0f, seed + 4);
  });
}

TEST(FastPaths, GemmPackedReadsARowsInPlaceForOneOrTwoPanels) {
  // gemm_packed multiplies A's rows where they lie when B's column range
  // has at most two panels (attention's weights times V), and packs A for
  // more; a last run of fewer than MR rows is packed either way, so no row
  // past A's last is read (A is allocated to the byte: ASan would see it).
  // Both sides of two panels, ragged columns, depth and column ranges, A
  // with a longer row stride than its columns, accumulate.
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for_each_isa([&] {
    const int nr = simd::kernels().nr, mr = simd::kernels().mr;
    for (int panels : {1, 2, 3}) {
      for (int trial = 0; trial < 4; ++trial) {
        const int n = panels * nr - (trial % 2 ? 0 : 1 + static_cast<int>(rng() % (nr - 1)));
        const int m = trial < 2 ? 3 * mr : 3 * mr + 1 + static_cast<int>(rng() % (mr - 1));
        const int k = 1 + static_cast<int>(rng() % 700);
        // The depth and columns of B the product covers; A's columns pair with them.
        const int d0 = k > attn::PackedB::kDepthBlock && trial % 2 ? attn::PackedB::kDepthBlock : 0;
        const int c0 = panels > 1 && trial == 3 ? nr : 0;
        const int lda = (k - d0) + static_cast<int>(rng() % 5);
        const bool accumulate = trial >= 2;
        SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " from depth " +
                     std::to_string(d0) + ", column " + std::to_string(c0) + ", lda " + std::to_string(lda));
        const std::vector<float> a = [&] {
          const Matrix r = ref::random(m, lda, seed + static_cast<unsigned>(7 * trial + panels));
          return std::vector<float>(r.data(), r.data() + r.size());
        }();
        const Matrix b = ref::random(k, n, seed + static_cast<unsigned>(11 * trial + panels));
        const attn::PackedB packed({b.data(), n, 1}, k, n);
        const int cols = n - c0;
        Matrix c = accumulate ? ref::random(m, cols, seed + 99) : Matrix::Constant(m, cols, NAN);
        const Matrix c_in = c;
        attn::gemm_packed(m, {a.data(), lda, 1}, packed, c.data(), cols, 0.5f, accumulate, c0, -1, d0, -1);
        const double worst = worst_product_error(
            c, k - d0, 0.5f, [&](int i, int p) { return a[static_cast<size_t>(i) * lda + p]; },
            [&](int p, int j) { return b(d0 + p, c0 + j); }, accumulate ? &c_in : nullptr);
        EXPECT_LT(worst, kTolerance);
      }
    }
  });
}

TEST(FastPaths, GemmSplitsManyRowsEvenlyForAnyThreadCount) {
  // Past 240 rows the rows are split into runs at multiples of MR, as many
  // as a multiple of the threads (a ViT-L layer's 1374 rows), with columns
  // split too when there are few runs. Every row must be computed once:
  // with accumulate, a row done twice or skipped is wrong.
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int threads : {1, 2, 3, 5, 16}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    attn::set_thread_count(threads);
    for_each_isa([&] {
      check_gemm(1374, 70, 40, false, true, true, 1.0f, seed);
      check_gemm(241, 33, 19, false, false, true, 0.5f, seed + 1);
      check_gemm(2000, 9, 300, true, false, false, 1.0f, seed + 2);
    });
  }
  attn::set_thread_count(0);
}

TEST(FastPaths, VectorExpIsAccurateAndUnderflowsToExactZero) {
  for_each_isa([&] {
    const simd::Kernels& k = simd::kernels();
    std::vector<float> z, w(2001);
    for (int i = 0; i <= 2000; ++i) z.push_back(-100.0f + 0.05f * static_cast<float>(i));  // [-100, 0]
    const double sum = k.exp_row(z.data(), nullptr, static_cast<int>(z.size()), 0.0f, 1.0f, w.data());
    double want_sum = 0, worst = 0;
    for (size_t i = 0; i < z.size(); ++i) {
      const double want = std::exp(static_cast<double>(z[i]));
      if (z[i] < -87.4f) {
        EXPECT_EQ(w[i], 0.0f) << z[i];
        continue;
      }
      want_sum += want;
      if (want > 1e-37) worst = std::max(worst, std::abs(w[i] - want) / want);
    }
    EXPECT_LT(worst, 1e-6);
    EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum);
  });
}

TEST(FastPaths, GeluMatchesTheErfForm) {
  for_each_isa([&] {
    std::vector<float> x;
    for (int i = 0; i <= 4001; ++i) x.push_back(-20.0f + 0.01f * static_cast<float>(i));  // odd length: a tail
    std::vector<float> y = x;
    simd::kernels().gelu_row(y.data(), static_cast<int>(y.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
      ASSERT_NEAR(y[i], want, 1e-6 * (1.0 + std::abs(want))) << x[i];
    }
  });
}

TEST(FastPaths, RowKernelsHonourVisibilityTailsAndNonFiniteScores) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for_each_isa([&] {
    const simd::Kernels& k = simd::kernels();
    for (int n : {1, 7, 16, 33, 100}) {
      std::vector<float> z(static_cast<size_t>(n));
      std::vector<std::uint8_t> vis(static_cast<size_t>(n));
      float want = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < n; ++j) {
        z[j] = std::normal_distribution<float>()(rng) * 10;
        vis[j] = rng() % 3 != 0;
        if (vis[j]) want = std::max(want, z[j]);
      }
      EXPECT_EQ(k.row_max(z.data(), vis.data(), n), want) << n;
      std::vector<float> w(z.size(), std::numeric_limits<float>::quiet_NaN());
      const double s = k.exp_row(z.data(), vis.data(), n, 3.0f, 0.5f, w.data());
      double want_sum = 0;
      for (int j = 0; j < n; ++j) {
        const double e = vis[j] ? std::exp((static_cast<double>(z[j]) - 3.0) * 0.5) : 0.0;
        want_sum += e;
        EXPECT_NEAR(w[j], e, 2e-6 * std::max(e, 1e-30)) << n << " " << j;
      }
      EXPECT_NEAR(s, want_sum, 1e-6 * want_sum);
      // One infinite or NaN score anywhere, even on a hidden key, is reported.
      for (float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
        auto zb = z;
        zb[rng() % n] = bad;
        EXPECT_TRUE(std::isnan(k.row_max(zb.data(), vis.data(), n))) << n;
      }
      // dot_rows and weighted_rows against plain loops.
      const int d = 1 + static_cast<int>(rng() % 70);
      const Matrix kk = ref::random(n, d, seed + n), q = ref::random(1, d, seed + 7);
      std::vector<float> y(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
      k.dot_rows(kk.data(), d, n, d, q.data(), 0.5f, y.data());
      std::vector<float> out(static_cast<size_t>(d), 0.0f);
      k.weighted_rows(kk.data(), d, n, d, w.data(), out.data());
      for (int j = 0; j < n; ++j) {
        double dot = 0;
        for (int t = 0; t < d; ++t) dot += static_cast<double>(kk(j, t)) * q(0, t);
        EXPECT_NEAR(y[j], 0.5 * dot, 1e-5 * (1 + std::abs(dot)));
      }
      for (int t = 0; t < d; ++t) {
        double acc = 0, scale = 0;
        for (int j = 0; j < n; ++j) {
          acc += static_cast<double>(w[j]) * kk(j, t);
          scale += std::abs(static_cast<double>(w[j]) * kk(j, t));
        }
        EXPECT_NEAR(out[t], acc, 1e-5 * (1 + scale));
      }
    }
  });
}

// The T -> 0 limit the engine documents (below kArgmaxTemperature): equal
// shares among each row's visible maxima.
ref::Mat argmax_ref(const ref::Mat& z, const attn::Mask& mask) {
  ref::Mat w(z.size(), std::vector<double>(z.empty() ? 0 : z[0].size(), 0.0));
  for (size_t i = 0; i < z.size(); ++i) {
    double best = -INFINITY;
    int ties = 0;
    for (size_t j = 0; j < z[i].size(); ++j)
      if (mask.allows(static_cast<int>(i), static_cast<int>(j))) {
        if (z[i][j] > best) best = z[i][j], ties = 0;
        ties += z[i][j] == best;
      }
    for (size_t j = 0; j < z[i].size(); ++j)
      if (mask.allows(static_cast<int>(i), static_cast<int>(j)) && z[i][j] == best) w[i][j] = 1.0 / ties;
  }
  return w;
}

attn::Mask make_mask(int kind, int n, std::mt19937& rng) {
  attn::Mask m;
  if (kind == 1) m.structure = attn::MaskStructure::Causal;
  if (kind == 2) {
    m.structure = attn::MaskStructure::Local;
    m.radius = 1 + static_cast<int>(rng() % 3);
    m.grid_cols = 1 + static_cast<int>(std::sqrt(static_cast<double>(n)));
  }
  if (kind == 3) {  // hidden keys, including a whole run of the first 300
    m.hidden_keys.assign(static_cast<size_t>(n), 0);
    for (int j = 0; j < n; ++j) m.hidden_keys[static_cast<size_t>(j)] = j < 300 || rng() % 4 == 0;
  }
  return m;
}

// Multi-head attention, all three paths, against the reference: scores,
// weights and output per head.
TEST(FastPaths, AttentionMatchesTheReferenceWithMasksAndEveryPath) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for_each_isa([&] {
    for (int trial = 0; trial < 8; ++trial) {
      // Few rows (a click), blocks of rows, and keys across several key blocks.
      const int nk = trial < 2 ? 40 + static_cast<int>(rng() % 50) : 257 + static_cast<int>(rng() % 500);
      const int kind = trial % 4;
      const bool few = trial % 3 == 0 && kind == 0;
      const int nq = few ? 1 + static_cast<int>(rng() % 7) : nk;  // masks need Nq = Nk
      const int heads = 1 + static_cast<int>(rng() % 3), d = 1 + static_cast<int>(rng() % 80);
      const int dv = 1 + static_cast<int>(rng() % 70);
      const double t = std::array<double, 4>{0.25, 1.0, 3.0, 1e-7}[rng() % 4];
      attn::AttentionOptions opt;
      opt.score = std::array<attn::Score, 3>{attn::Score::ScaledDot, attn::Score::Dot, attn::Score::Cosine}[rng() % 3];
      opt.temperature = t;
      opt.mask = make_mask(kind, nk, rng);
      const std::string where = "nq " + std::to_string(nq) + " nk " + std::to_string(nk) + " heads " +
                                std::to_string(heads) + " d " + std::to_string(d) + " dv " + std::to_string(dv) +
                                " T " + std::to_string(t) + " mask " + std::to_string(kind);
      SCOPED_TRACE(where);
      attn::Heads q, k, v;
      for (int h = 0; h < heads; ++h) {
        q.push_back(ref::random(nq, d, seed + 10 * h + 1));
        k.push_back(ref::random(nk, d, seed + 10 * h + 2));
        v.push_back(ref::random(nk, dv, seed + 10 * h + 3));
      }
      const auto r = attn::attend_heads(q, k, v, opt);
      const Matrix only = attn::attend_heads_output(q, k, v, opt);
      ASSERT_EQ(r.heads.size(), static_cast<size_t>(heads));
      for (int h = 0; h < heads; ++h) {
        const auto z = ref::logits(opt.score, ref::from(q[h]), ref::from(k[h]));
        EXPECT_LT(ref::rel_error(r.heads[h].logits, z), kTolerance);
        // The normaliser fed the engine's own logits (float rounding of the
        // scores, amplified by 1/T, is not the normaliser's doing).
        const auto w = t < attn::kArgmaxTemperature ? argmax_ref(ref::from(r.heads[h].logits), opt.mask)
                                                    : ref::softmax(ref::from(r.heads[h].logits), t, opt.mask);
        EXPECT_LT(ref::rel_error(r.heads[h].weights, w), kTolerance);
        const auto o = ref::matmul(w, ref::from(v[h]));
        EXPECT_LT(ref::rel_error(r.heads[h].output, o), kTolerance);
        EXPECT_LT(ref::rel_error(only.middleCols(h * dv, dv), o), kTolerance);
        EXPECT_LT(ref::rel_error(r.output.middleCols(h * dv, dv), o), kTolerance);
      }
    }
  });
}

TEST(FastPaths, ModelAttentionHandsOverEveryWeightAndTheOutput) {
  // attend_dot_weights (the ViT's layers): weights handed to a sink block by
  // block, straight into an AttentionStack (float32 and half), the heads'
  // outputs side by side, against the reference.
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for_each_isa([&] {
    for (int trial = 0; trial < 4; ++trial) {
      const int n = 1 + static_cast<int>(rng() % (trial < 2 ? 12 : 400)), heads = 1 + static_cast<int>(rng() % 4);
      const int d = 1 + static_cast<int>(rng() % 70);
      const double t = std::array<double, 3>{0.5, 1.0, 2.0}[rng() % 3];
      SCOPED_TRACE("n " + std::to_string(n) + " heads " + std::to_string(heads) + " d " + std::to_string(d));
      attn::Heads q, k, v;
      for (int h = 0; h < heads; ++h) {
        q.push_back(ref::random(n, d, seed + 10 * h + 1));
        k.push_back(ref::random(n, d, seed + 10 * h + 2));
        v.push_back(ref::random(n, d, seed + 10 * h + 3));
      }
      const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
      attn::AttentionStack f32(2, heads, n, n), f16(2, heads, n, n, attn::Precision::F16);
      Matrix out;
      attn::detail::attend_dot_weights(q, k, v, alpha, t, out, [&](int h, int row0, int rows, const float* w) {
        f32.set_rows(1, h, row0, rows, w);
        f16.set_rows(1, h, row0, rows, w);
      });
      ASSERT_EQ(out.rows(), n);
      ASSERT_EQ(out.cols(), heads * d);
      for (int h = 0; h < heads; ++h) {
        const auto z = ref::logits(attn::Score::Dot, ref::from(q[h]), ref::from(k[h]));
        ref::Mat scaled = z;
        for (auto& row : scaled)
          for (double& x : row) x *= alpha;
        const auto w = ref::softmax(scaled, t, attn::Mask{});
        EXPECT_LT(ref::rel_error(f32.head(1, h), w), 1e-5);
        EXPECT_LT(ref::rel_error(f16.head(1, h), w), 1e-3);  // half: 2^-11 relative
        EXPECT_LT(ref::rel_error(out.middleCols(h * d, d), ref::matmul(w, ref::from(v[h]))), 1e-5);
      }
    }
  });
}

TEST(FastPaths, OtherNormalisersAndRowsOfALargerProblem) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for_each_isa([&] {
    const int n = 300;
    const Matrix q = ref::random(n, 24, seed + 1), k = ref::random(n, 24, seed + 2), v = ref::random(n, 5, seed + 3);
    for (attn::Norm norm : {attn::Norm::Sparsemax, attn::Norm::None}) {
      attn::AttentionOptions opt;
      opt.norm = norm;
      opt.temperature = 0.5;
      const auto r = attn::attend(q, k, v, opt);
      const Matrix only = attn::attend_heads_output({q}, {k}, {v}, opt);
      for (int i = 0; i < n; ++i) {
        std::vector<double> z(r.logits.row(i).data(), r.logits.row(i).data() + n);
        for (double& x : z) x /= opt.temperature;
        const std::vector<double> want = norm == attn::Norm::Sparsemax ? ref::sparsemax(z) : z;
        for (int j = 0; j < n; ++j) ASSERT_NEAR(r.weights(i, j), want[j], 1e-5 * (1 + std::abs(want[j])));
      }
      EXPECT_LT(ref::rel_error(only, ref::matmul(ref::from(r.weights), ref::from(v))), kTolerance);
    }
    // Rows 5..7 of a causal problem alone equal those rows of the whole.
    attn::AttentionOptions opt;
    opt.mask.structure = attn::MaskStructure::Causal;
    const auto whole = attn::attend(q, k, v, opt);
    const auto part = attn::attend(q.middleRows(5, 3), k, v, opt, attn::QueryRows{5, n});
    EXPECT_LT(ref::rel_error(part.weights, ref::from(whole.weights.middleRows(5, 3))), kTolerance);
    EXPECT_LT(ref::rel_error(part.output, ref::from(whole.output.middleRows(5, 3))), kTolerance);
  });
}

TEST(FastPaths, RenormalisingKeptLogitsEqualsRecomputing) {
  const unsigned seed = ref::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  for_each_isa([&] {
    for (int nq : {1, 3, 50}) {
      const int n = 50;
      attn::Heads q, k, v;
      for (int h = 0; h < 2; ++h) {
        q.push_back(ref::random(nq, 8, seed + h));
        k.push_back(ref::random(n, 8, seed + 10 + h));
        v.push_back(ref::random(n, 5, seed + 20 + h));
      }
      attn::AttentionOptions a, b;
      b.temperature = 0.3;
      b.norm = attn::Norm::Sparsemax;
      b.mask.hidden_keys.assign(n, 0);
      b.mask.hidden_keys[7] = 1;
      attn::MultiHeadResult r = attn::attend_heads(q, k, v, a, {n - nq, n});
      attn::renormalise(r, v, b, {n - nq, n});
      const attn::MultiHeadResult fresh = attn::attend_heads(q, k, v, b, {n - nq, n});
      for (size_t h = 0; h < 2; ++h) {
        EXPECT_LT(ref::rel_error(r.heads[h].weights, ref::from(fresh.heads[h].weights)), kTolerance) << nq;
        EXPECT_LT(ref::rel_error(r.heads[h].output, ref::from(fresh.heads[h].output)), kTolerance) << nq;
      }
      EXPECT_LT(ref::rel_error(r.output, ref::from(fresh.output)), kTolerance);
    }
  });
}

TEST(FastPaths, FullyMaskedRowsAreZerosAndOverflowIsReportedWithItsPlace) {
  for_each_isa([&] {
    const int n = 400;
    const Matrix q = ref::random(n, 8, 1), k = ref::random(n, 8, 2), v = ref::random(n, 3, 3);
    attn::AttentionOptions opt;
    opt.mask.hidden_keys.assign(n, 1);
    const auto r = attn::attend(q, k, v, opt);
    EXPECT_TRUE(r.weights.isZero()) << "no visible key";
    EXPECT_TRUE(r.output.isZero());
    EXPECT_TRUE(attn::attend_heads_output({q}, {k}, {v}, opt).isZero());
    Matrix big = q;
    big(123, 0) = 3e38f;
    big(123, 1) = 3e38f;
    for (bool output_only : {false, true}) {
      try {
        attn::AttentionOptions plain;
        if (output_only)
          attn::attend_heads_output({big}, {k}, {v}, plain);
        else
          attn::attend(big, k, v, plain);
        ADD_FAILURE() << "overflow not reported";
      } catch (const attn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("query 123"), std::string::npos) << e.what();
      }
    }
  });
}

TEST(ThreadPool, RunsEveryTaskOnceAndPassesTheFirstExceptionOn) {
  for (int threads : {1, 2, 3}) {
    attn::set_thread_count(threads);
    EXPECT_EQ(attn::thread_count(), threads);
    std::vector<std::atomic<int>> seen(1000);
    attn::parallel_for(1000, [&](int i) {
      seen[static_cast<size_t>(i)]++;
      attn::parallel_for(3, [](int) {});  // nested: runs inline
    });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
    EXPECT_THROW(attn::parallel_for(100,
                                    [](int i) {
                                      if (i == 37) throw std::runtime_error("task 37");
                                    }),
                 std::runtime_error);
  }
  attn::set_thread_count(0);
}

}  // namespace
