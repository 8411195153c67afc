#include "attention_fast.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "error.hpp"
#include "gemm.hpp"
#include "memory.hpp"
#include "parallel.hpp"
#include "simd/kernels.hpp"

namespace attn {
namespace testing {
std::atomic<bool> poison_outputs_flag{false};
void poison_outputs(bool on) { poison_outputs_flag.store(on); }
}  // namespace testing

namespace detail {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Below this many query rows, scores come straight from K's rows: packing K
// for the blocked products would cost as much as the rows themselves.
constexpr int kFewRows = 8;

[[noreturn]] void throw_overflow(const float* z, int nk, int query, int key0) {
  for (int j = 0; j < nk; ++j)
    if (!std::isfinite(z[j]))
      throw Error("scores overflow the float range at query " + std::to_string(query) + ", key " +
                  std::to_string(key0 + j) + ": Q and K values are too large");
  throw Error("scores overflow the float range at query " + std::to_string(query));
}

// One row z [nk] -> w [nk] for `query`; `scratch` holds nk bytes.
void normalise_one(const simd::Kernels& kern, const float* z, int nk, Norm norm, double temperature, const Mask& mask,
                   int query, std::uint8_t* scratch, float* w) {
  const bool all = mask.fill_row(query, 0, nk, scratch);
  const float m = kern.row_max(z, all ? nullptr : scratch, nk);
  if (std::isnan(m)) throw_overflow(z, nk, query, 0);
  if (norm == Norm::Softmax && temperature >= kArgmaxTemperature) {
    if (m == kNegInf) {  // no visible key
      std::fill(w, w + nk, 0.0f);
      return;
    }
    const double sum = kern.exp_row(z, all ? nullptr : scratch, nk, m, static_cast<float>(1.0 / temperature), w);
    kern.scale_row(w, nk, static_cast<float>(1.0 / sum));  // sum >= 1: the maximum contributes exp(0)
    return;
  }
  // Sparsemax, no normaliser, or the argmax limit: the scalar row functions.
  if (all) std::fill(scratch, scratch + nk, std::uint8_t{1});
  normalise_row(norm, std::span<const float>(z, static_cast<size_t>(nk)), temperature,
                std::span<const std::uint8_t>(scratch, static_cast<size_t>(nk)),
                std::span<float>(w, static_cast<size_t>(nk)));
}

// Query rows per block: the block's scores and weights stay within about
// 256 KiB, a multiple of every micro-kernel height.
int row_block(int nk) { return std::clamp((65536 / std::max(nk, 1)) / 12 * 12, 12, 96); }

// A head's Kᵀ [d, Nk] and V [Nk, d_v], packed once for all its row blocks.
struct PackedHead {
  PackedB kt, v;
};

std::vector<PackedHead> pack_heads(const Heads& k, const Heads& v) {
  std::vector<PackedHead> p(k.size());
  parallel_for(static_cast<int>(k.size()), [&](int h) {
    const Matrix& kh = k[static_cast<size_t>(h)];
    p[static_cast<size_t>(h)].kt =
        PackedB({kh.data(), 1, kh.outerStride()}, static_cast<int>(kh.cols()), static_cast<int>(kh.rows()));
    if (!v.empty()) {
      const Matrix& vh = v[static_cast<size_t>(h)];
      p[static_cast<size_t>(h)].v =
          PackedB({vh.data(), vh.outerStride(), 1}, static_cast<int>(vh.rows()), static_cast<int>(vh.cols()));
    }
  });
  return p;
}

// Few rows: each row's scores by dot products with K's rows.
void attend_rows(const Heads& q, const Heads& k, const Heads& v, float alpha, Norm norm, double temperature,
                 const Mask& mask, int first_query, MultiHeadResult& r) {
  const simd::Kernels& kern = simd::kernels();
  const int nq = static_cast<int>(q.front().rows()), nk = static_cast<int>(k.front().rows());
  parallel_for(static_cast<int>(q.size()), [&](int h) {
    const Matrix &qh = q[static_cast<size_t>(h)], &kh = k[static_cast<size_t>(h)];
    HeadResult& out = r.heads[static_cast<size_t>(h)];
    std::vector<std::uint8_t> scratch(static_cast<size_t>(nk));
    for (int i = 0; i < nq; ++i) {
      float* z = out.logits.row(i).data();
      kern.dot_rows(kh.data(), kh.outerStride(), nk, static_cast<int>(kh.cols()), qh.row(i).data(), alpha, z);
      float* w = out.weights.row(i).data();
      normalise_one(kern, z, nk, norm, temperature, mask, first_query + i, scratch.data(), w);
    }
    if (!v.empty()) weights_times_v(out.weights, v[static_cast<size_t>(h)], out.output);
  });
}

// Rows [i0, i0 + rows) of one head: logits into z, weights into w (each with
// row stride nk... or the caller's), output into o (may be null).
void head_block(const simd::Kernels& kern, const Matrix& qh, const PackedHead& p, int i0, int rows, float alpha,
                Norm norm, double temperature, const Mask& mask, int first_query, float* z, std::ptrdiff_t ldz,
                float* w, std::ptrdiff_t ldw, float* o, std::ptrdiff_t ldo, std::uint8_t* scratch) {
  const int nk = p.kt.cols();
  gemm_packed(rows, {qh.row(i0).data(), qh.outerStride(), 1}, p.kt, z, ldz, alpha, false);
  for (int i = 0; i < rows; ++i)
    normalise_one(kern, z + i * ldz, nk, norm, temperature, mask, first_query + i0 + i, scratch, w + i * ldw);
  if (o) gemm_packed(rows, {w, ldw, 1}, p.v, o, ldo, 1.0f, false);
}

}  // namespace

void weights_times_v(const Matrix& w, const Matrix& v, Matrix& out) {
  const int nk = static_cast<int>(v.rows()), dv = static_cast<int>(v.cols());
  if (w.rows() < kFewRows) {
    const simd::Kernels& kern = simd::kernels();
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      out.row(i).setZero();
      kern.weighted_rows(v.data(), v.outerStride(), nk, dv, w.row(i).data(), out.row(i).data());
    }
  } else {
    gemm(static_cast<int>(w.rows()), dv, nk, 1.0f, {w.data(), w.outerStride(), 1}, {v.data(), v.outerStride(), 1},
         out.data(), out.outerStride());
  }
}

Matrix output_matrix(Eigen::Index rows, Eigen::Index cols) {
  Matrix m(rows, cols);
  // Writing a fresh 512 MiB matrix takes 131072 page faults in 4 KiB pages,
  // which cost more than computing it.
  advise_huge_pages(m.data(), static_cast<size_t>(m.size()) * sizeof(float));
  if (testing::poison_outputs_flag.load()) m.setConstant(std::numeric_limits<float>::quiet_NaN());
  return m;
}

void normalise_rows(const float* z, std::ptrdiff_t ldz, int nq, int nk, Norm norm, double temperature, const Mask& mask,
                    int first_query, float* w, std::ptrdiff_t ldw) {
  const simd::Kernels& kern = simd::kernels();
  const int block = 64;
  parallel_for((nq + block - 1) / block, [&](int b) {
    std::vector<std::uint8_t> scratch(static_cast<size_t>(nk));
    for (int i = b * block; i < std::min(nq, (b + 1) * block); ++i)
      normalise_one(kern, z + i * ldz, nk, norm, temperature, mask, first_query + i, scratch.data(), w + i * ldw);
  });
}

void attend_dot(const Heads& q, const Heads& k, const Heads& v, float alpha, Norm norm, double temperature,
                const Mask& mask, int first_query, MultiHeadResult& r) {
  const int nq = static_cast<int>(q.front().rows()), nk = static_cast<int>(k.front().rows());
  r.heads.resize(q.size());
  for (size_t h = 0; h < q.size(); ++h) {
    r.heads[h].logits = output_matrix(nq, nk);
    r.heads[h].weights = output_matrix(nq, nk);
    if (!v.empty()) r.heads[h].output = output_matrix(nq, v[h].cols());
  }
  if (nq == 0 || nk == 0) {
    for (auto& h : r.heads) h.output.setZero();
    return;
  }
  if (nq < kFewRows) return attend_rows(q, k, v, alpha, norm, temperature, mask, first_query, r);

  const std::vector<PackedHead> packed = pack_heads(k, v);
  const simd::Kernels& kern = packed.front().kt.kernels();
  const int block = row_block(nk), blocks = (nq + block - 1) / block;
  parallel_for(static_cast<int>(q.size()) * blocks, [&](int t) {
    const size_t h = static_cast<size_t>(t / blocks);
    const int i0 = (t % blocks) * block, rows = std::min(block, nq - i0);
    HeadResult& out = r.heads[h];
    thread_local std::vector<std::uint8_t> scratch;
    scratch.resize(static_cast<size_t>(nk));
    head_block(kern, q[h], packed[h], i0, rows, alpha, norm, temperature, mask, first_query, out.logits.row(i0).data(),
               nk, out.weights.row(i0).data(), nk, v.empty() ? nullptr : out.output.row(i0).data(),
               v.empty() ? 0 : out.output.outerStride(), scratch.data());
  });
}

void attend_dot_weights(const Heads& q, const Heads& k, const Heads& v, float alpha, double temperature, Matrix& out,
                        const WeightsSink& store) {
  const int heads = static_cast<int>(q.size());
  const int nq = static_cast<int>(q.front().rows()), nk = static_cast<int>(k.front().rows());
  const int dv = static_cast<int>(v.front().cols());
  out.resize(nq, static_cast<Eigen::Index>(heads) * dv);
  if (nq == 0) return;
  if (nk == 0) {
    out.setZero();
    return;
  }
  const std::vector<PackedHead> packed = pack_heads(k, v);
  const simd::Kernels& kern = packed.front().kt.kernels();
  const int block = row_block(nk), blocks = (nq + block - 1) / block;
  parallel_for(heads * blocks, [&](int t) {
    const int h = t / blocks, i0 = (t % blocks) * block, rows = std::min(block, nq - i0);
    thread_local std::vector<float> z, w;
    thread_local std::vector<std::uint8_t> scratch;
    z.resize(static_cast<size_t>(rows) * nk);
    w.resize(z.size());
    scratch.resize(static_cast<size_t>(nk));
    float* o = out.data() + i0 * out.outerStride() + static_cast<Eigen::Index>(h) * dv;
    head_block(kern, q[static_cast<size_t>(h)], packed[static_cast<size_t>(h)], i0, rows, alpha, Norm::Softmax,
               temperature, Mask{}, 0, z.data(), nk, w.data(), nk, o, out.outerStride(), scratch.data());
    store(h, i0, rows, w.data());
  });
}

Matrix attend_dot_output(const Heads& q, const Heads& k, const Heads& v, float alpha, Norm norm, double temperature,
                         const Mask& mask, int first_query) {
  const int heads = static_cast<int>(q.size());
  const int nq = static_cast<int>(q.front().rows()), nk = static_cast<int>(k.front().rows());
  const int dv = static_cast<int>(v.front().cols());
  Matrix out = output_matrix(nq, static_cast<Eigen::Index>(heads) * dv);
  if (nq == 0) return out;
  if (nk == 0) return Matrix::Zero(nq, static_cast<Eigen::Index>(heads) * dv);
  const std::vector<PackedHead> packed = pack_heads(k, v);
  const simd::Kernels& kern = packed.front().kt.kernels();
  const bool online = norm == Norm::Softmax && temperature >= kArgmaxTemperature;
  // Online softmax: blocks of 48 query rows against blocks of kDepthBlock keys.
  const int block = online ? 48 : row_block(nk), blocks = (nq + block - 1) / block;
  parallel_for(heads * blocks, [&](int t) {
    const size_t h = static_cast<size_t>(t / blocks);
    const int i0 = (t % blocks) * block, rows = std::min(block, nq - i0);
    float* o = out.data() + i0 * out.outerStride() + static_cast<Eigen::Index>(h) * dv;
    const std::ptrdiff_t ldo = out.outerStride();
    thread_local std::vector<std::uint8_t> scratch;
    thread_local std::vector<float> z, w;
    if (!online) {  // whole rows, one block at a time
      scratch.resize(static_cast<size_t>(nk));
      z.resize(static_cast<size_t>(rows) * nk);
      w.resize(z.size());
      head_block(kern, q[h], packed[h], i0, rows, alpha, norm, temperature, mask, first_query, z.data(), nk, w.data(),
                 nk, o, ldo, scratch.data());
      return;
    }
    constexpr int kb = PackedB::kDepthBlock;
    scratch.resize(kb);
    z.resize(static_cast<size_t>(rows) * kb);
    std::vector<float> m(static_cast<size_t>(rows), kNegInf);
    std::vector<double> l(static_cast<size_t>(rows), 0.0);
    for (int i = 0; i < rows; ++i) std::fill(o + i * ldo, o + i * ldo + dv, 0.0f);
    const float inv_t = static_cast<float>(1.0 / temperature);
    const Matrix& qh = q[h];
    for (int k0 = 0; k0 < nk; k0 += kb) {
      const int n = std::min(kb, nk - k0);
      gemm_packed(rows, {qh.row(i0).data(), qh.outerStride(), 1}, packed[h].kt, z.data(), kb, alpha, false, k0, k0 + n);
      for (int i = 0; i < rows; ++i) {
        float* zi = z.data() + static_cast<std::ptrdiff_t>(i) * kb;
        const int query = first_query + i0 + i;
        const bool all = mask.fill_row(query, k0, k0 + n, scratch.data());
        const std::uint8_t* vis = all ? nullptr : scratch.data();
        const float bm = kern.row_max(zi, vis, n);
        if (std::isnan(bm)) throw_overflow(zi, n, query, k0);
        const float mi = std::max(m[static_cast<size_t>(i)], bm);
        if (mi == kNegInf) {  // nothing visible yet
          std::fill(zi, zi + n, 0.0f);
          continue;
        }
        // Rescale what has been summed so far to the new maximum.
        if (mi != m[static_cast<size_t>(i)] && l[static_cast<size_t>(i)] > 0.0) {
          const double c = std::exp(static_cast<double>(m[static_cast<size_t>(i)] - mi) * inv_t);
          l[static_cast<size_t>(i)] *= c;
          kern.scale_row(o + i * ldo, dv, static_cast<float>(c));
        }
        m[static_cast<size_t>(i)] = mi;
        l[static_cast<size_t>(i)] += kern.exp_row(zi, vis, n, mi, inv_t, zi);  // in place: z becomes p
      }
      gemm_packed(rows, {z.data(), kb, 1}, packed[h].v, o, ldo, 1.0f, true, 0, -1, k0, k0 + n);
    }
    for (int i = 0; i < rows; ++i) {
      const double li = l[static_cast<size_t>(i)];
      if (li > 0.0)
        kern.scale_row(o + i * ldo, dv, static_cast<float>(1.0 / li));
      else
        std::fill(o + i * ldo, o + i * ldo + dv, 0.0f);  // a fully masked row
    }
  });
  return out;
}

}  // namespace detail
}  // namespace attn
