#include "attention.hpp"

#include <array>

#include <cassert>
#include <cmath>
#include <limits>

#include "attention_fast.hpp"
#include "error.hpp"
#include "rng.hpp"

namespace attn {

template <>
std::span<const EnumName<Score>> enum_names<Score>() {
  static constexpr std::array<EnumName<Score>, 5> kNames = {{
      {Score::ScaledDot, "scaled-dot", "scaled dot  q.k / sqrt(d_k)",
       "The Transformer's score (Vaswani et al. 2017): q.k divided by sqrt(d_k)."},
      {Score::Dot, "dot", "dot  q.k", "The plain dot product q.k (Luong et al. 2015)."},
      {Score::Cosine, "cosine", "cosine", "q.k / (|q| |k|): the angle between query and key, ignoring their lengths."},
      {Score::Additive, "additive", "additive (Bahdanau)",
       "v^T tanh(W_q q + W_k k): the first attention score (Bahdanau, Cho & Bengio 2014)."},
      {Score::Raw, "raw", "raw q.k (no softmax)",
       "q.k used as the weights directly: they can be negative and need not sum to 1."},
  }};
  return kNames;
}
namespace {

// Seed streams of the additive score's parameters.
enum : std::uint64_t { kStreamAdditiveQ = 101, kStreamAdditiveK = 102, kStreamAdditiveV = 103 };

Matrix normalise_rows_l2(const MatrixRef& x) {
  Matrix out = x;
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    const double n = out.row(i).cast<double>().norm();
    if (n > 0.0) out.row(i) /= static_cast<float>(n);
  }
  return out;
}

Matrix additive_scores(const MatrixRef& q, const MatrixRef& k, const AdditiveParams& p) {
  if (p.wq.cols() != q.cols() || p.wk.cols() != k.cols() || p.wq.rows() != p.wk.rows() || p.v.size() != p.wq.rows())
    throw Error("additive score parameters do not fit Q and K");
  const Matrix a = q * p.wq.transpose();  // [Nq, d_a]
  const Matrix b = k * p.wk.transpose();  // [Nk, d_a]
  Matrix s(q.rows(), k.rows());
  const Eigen::Index da = a.cols();
  for (Eigen::Index i = 0; i < q.rows(); ++i)
    for (Eigen::Index j = 0; j < k.rows(); ++j) {
      double acc = 0.0;
      for (Eigen::Index t = 0; t < da; ++t) acc += p.v[t] * std::tanh(a(i, t) + b(j, t));
      s(i, j) = static_cast<float>(acc);
    }
  return s;
}

}  // namespace

AdditiveParams AdditiveParams::random(int d_q, int d_k, int d_a, std::uint64_t seed) {
  AdditiveParams p;
  p.wq = random_matrix(d_a, d_q, Distribution::Gaussian, seed, kStreamAdditiveQ,
                       1.0f / std::sqrt(static_cast<float>(d_q)));
  p.wk = random_matrix(d_a, d_k, Distribution::Gaussian, seed, kStreamAdditiveK,
                       1.0f / std::sqrt(static_cast<float>(d_k)));
  p.v = random_matrix(d_a, 1, Distribution::Gaussian, seed, kStreamAdditiveV, 1.0f / std::sqrt(static_cast<float>(d_a)))
            .col(0);
  return p;
}

Norm effective_norm(const AttentionOptions& opt) { return opt.score == Score::Raw ? Norm::None : opt.norm; }

Matrix compute_logits(Score score, const MatrixRef& q, const MatrixRef& k, const AdditiveParams* additive) {
  if (score != Score::Additive && q.cols() != k.cols())
    throw Error("Q and K must have the same width d_k for a dot-product score (Q has " + std::to_string(q.cols()) +
                ", K has " + std::to_string(k.cols()) + ")");
  Matrix s;
  switch (score) {
    case Score::ScaledDot:
      s = (q * k.transpose()) * (1.0f / std::sqrt(static_cast<float>(std::max<Eigen::Index>(k.cols(), 1))));
      break;
    case Score::Dot:
    case Score::Raw:
      s = q * k.transpose();
      break;
    case Score::Cosine:
      s = normalise_rows_l2(q) * normalise_rows_l2(k).transpose();
      break;
    case Score::Additive:
      assert(additive && "Score::Additive needs its parameters");
      s = additive_scores(q, k, *additive);
      break;
  }
  if (!s.allFinite()) {
    for (Eigen::Index i = 0; i < s.rows(); ++i)
      for (Eigen::Index j = 0; j < s.cols(); ++j)
        if (!std::isfinite(s(i, j)))
          throw Error("scores overflow the float range at query " + std::to_string(i) + ", key " + std::to_string(j) +
                      ": Q and K values are too large");
  }
  return s;
}

Matrix normalise(const MatrixRef& logits, Norm norm, double temperature, const Mask& mask, QueryRows rows) {
  check_temperature(temperature);
  const int nq = static_cast<int>(logits.rows()), nk = static_cast<int>(logits.cols());
  const int total = rows.total < 0 ? nq : rows.total;
  assert(rows.first >= 0 && rows.first + nq <= total);
  mask.validate(total, nk);
  Matrix w = detail::output_matrix(nq, nk);
  detail::normalise_rows(logits.data(), logits.outerStride(), nq, nk, norm, temperature, mask, rows.first, w.data(),
                         w.outerStride());
  return w;
}

void normalise_into(const MatrixRef& logits, Norm norm, double temperature, const Mask& mask, QueryRows rows,
                    Matrix& weights) {
  if (weights.rows() != logits.rows() || weights.cols() != logits.cols()) {
    weights = normalise(logits, norm, temperature, mask, rows);
    return;
  }
  check_temperature(temperature);
  const int nq = static_cast<int>(logits.rows()), nk = static_cast<int>(logits.cols());
  const int total = rows.total < 0 ? nq : rows.total;
  if (rows.first < 0 || rows.first + nq > total) throw Error("query rows outside the problem");
  mask.validate(total, nk);
  detail::normalise_rows(logits.data(), logits.outerStride(), nq, nk, norm, temperature, mask, rows.first,
                         weights.data(), weights.outerStride());
}

HeadResult attend(const MatrixRef& q, const MatrixRef& k, const MatrixRef& v, const AttentionOptions& opt,
                  QueryRows rows) {
  const Heads none;
  MultiHeadResult r = attend_heads(Heads{q}, Heads{k}, v.cols() > 0 ? Heads{v} : none, opt, rows);
  return std::move(r.heads.front());
}

namespace {

// Checks what every path needs; returns the problem's total query count.
int validate_heads(const Heads& q, const Heads& k, const Heads& v, const AttentionOptions& opt, QueryRows rows) {
  if (q.empty()) throw Error("attention needs at least one head");
  if (q.size() != k.size())
    throw Error("Q has " + std::to_string(q.size()) + " heads but K has " + std::to_string(k.size()));
  if (!v.empty() && v.size() != k.size())
    throw Error("V has " + std::to_string(v.size()) + " heads but K has " + std::to_string(k.size()));
  for (size_t h = 0; h < q.size(); ++h) {
    if (q[h].rows() != q.front().rows() || k[h].rows() != k.front().rows())
      throw Error("every head must have the same numbers of queries and keys");
    if (opt.score != Score::Additive && q[h].cols() != k[h].cols())
      throw Error("Q and K must have the same width d_k for a dot-product score (Q has " + std::to_string(q[h].cols()) +
                  ", K has " + std::to_string(k[h].cols()) + ")");
    if (!v.empty() && v[h].cols() > 0 && v[h].rows() != k[h].rows())
      throw Error("K and V must have the same number of rows (K has " + std::to_string(k[h].rows()) + ", V has " +
                  std::to_string(v[h].rows()) + ")");
    if (!v.empty() && v[h].cols() != v.front().cols()) throw Error("every head of V must have the same width");
  }
  check_temperature(opt.temperature);
  const int nq = static_cast<int>(q.front().rows());
  const int total = rows.total < 0 ? nq : rows.total;
  if (rows.first < 0 || rows.first + nq > total) throw Error("query rows outside the problem");
  opt.mask.validate(total, static_cast<int>(k.front().rows()));
  return total;
}

// Dot-product scores as alpha · q·k: cosine normalises the rows first.
struct DotForm {
  Heads q, k;  // empty unless rows were normalised
  float alpha = 1.0f;
};
DotForm dot_form(const Heads& q, const Heads& k, Score score) {
  DotForm f;
  if (score == Score::ScaledDot)
    f.alpha = 1.0f / std::sqrt(static_cast<float>(std::max<Eigen::Index>(k.front().cols(), 1)));
  if (score == Score::Cosine)
    for (size_t h = 0; h < q.size(); ++h) {
      f.q.push_back(normalise_rows_l2(q[h]));
      f.k.push_back(normalise_rows_l2(k[h]));
    }
  return f;
}

}  // namespace

MultiHeadResult attend_heads(const Heads& q, const Heads& k, const Heads& v, const AttentionOptions& opt,
                             QueryRows rows) {
  validate_heads(q, k, v, opt, rows);
  const bool has_v = !v.empty() && v.front().cols() > 0;
  MultiHeadResult r;
  if (opt.score == Score::Additive) {
    const int da = opt.additive_dim > 0 ? opt.additive_dim : static_cast<int>(std::max<Eigen::Index>(k[0].cols(), 1));
    for (size_t h = 0; h < q.size(); ++h) {
      const AdditiveParams p =
          AdditiveParams::random(static_cast<int>(q[h].cols()), static_cast<int>(k[h].cols()), da, opt.seed);
      HeadResult hr;
      hr.logits = compute_logits(opt.score, q[h], k[h], &p);
      hr.weights = normalise(hr.logits, effective_norm(opt), opt.temperature, opt.mask, rows);
      if (has_v) hr.output = hr.weights * v[h];
      r.heads.push_back(std::move(hr));
    }
  } else {
    const DotForm f = dot_form(q, k, opt.score);
    static const Heads kNoV;  // (a ternary with a temporary would copy v)
    detail::attend_dot(f.q.empty() ? q : f.q, f.k.empty() ? k : f.k, has_v ? v : kNoV, f.alpha, effective_norm(opt),
                       opt.temperature, opt.mask, rows.first, r);
  }
  if (has_v) {
    Heads outs;
    for (const auto& h : r.heads) {
      if (!h.output.allFinite()) throw Error("the weighted sum of V overflows the float range");
      outs.push_back(h.output);
    }
    r.output = concat_heads(outs);
  }
  return r;
}

void renormalise(MultiHeadResult& r, const Heads& v, const AttentionOptions& opt, QueryRows rows) {
  if (!v.empty() && v.size() != r.heads.size()) throw Error("V has a different number of heads from the result");
  Heads outs;
  for (size_t h = 0; h < r.heads.size(); ++h) {
    HeadResult& hr = r.heads[h];
    normalise_into(hr.logits, effective_norm(opt), opt.temperature, opt.mask, rows, hr.weights);
    if (v.empty() || v[h].cols() == 0) continue;
    const Matrix& vh = v[h];
    if (vh.rows() != hr.weights.cols()) throw Error("V does not have one row per key");
    hr.output = detail::output_matrix(hr.weights.rows(), vh.cols());
    detail::weights_times_v(hr.weights, vh, hr.output);
    if (!hr.output.allFinite()) throw Error("the weighted sum of V overflows the float range");
    outs.push_back(hr.output);
  }
  if (!outs.empty()) r.output = concat_heads(outs);
}

Matrix attend_heads_output(const Heads& q, const Heads& k, const Heads& v, const AttentionOptions& opt,
                           QueryRows rows) {
  validate_heads(q, k, v, opt, rows);
  if (v.empty() || v.front().cols() == 0) throw Error("output-only attention needs V");
  if (opt.score == Score::Additive) return attend_heads(q, k, v, opt, rows).output;
  const DotForm f = dot_form(q, k, opt.score);
  Matrix out = detail::attend_dot_output(f.q.empty() ? q : f.q, f.k.empty() ? k : f.k, v, f.alpha, effective_norm(opt),
                                         opt.temperature, opt.mask, rows.first);
  if (!out.allFinite()) throw Error("the weighted sum of V overflows the float range");
  return out;
}

Heads split_heads(const MatrixRef& x, int heads, const char* what) {
  if (heads <= 0) throw Error("the number of heads must be >= 1 (got " + std::to_string(heads) + ")");
  if (x.cols() % heads != 0)
    throw Error(std::string(what) + " width " + std::to_string(x.cols()) + " is not divisible by " +
                std::to_string(heads) + " heads");
  const Eigen::Index d = x.cols() / heads;
  Heads out;
  for (int h = 0; h < heads; ++h) out.push_back(x.middleCols(h * d, d));
  return out;
}

Matrix concat_heads(const Heads& heads) {
  if (heads.empty()) return {};
  Eigen::Index cols = 0;
  for (const auto& h : heads) cols += h.cols();
  Matrix out(heads.front().rows(), cols);
  Eigen::Index c = 0;
  for (const auto& h : heads) {
    assert(h.rows() == out.rows());
    out.middleCols(c, h.cols()) = h;
    c += h.cols();
  }
  return out;
}

Matrix Linear::apply(const MatrixRef& x) const {
  if (x.cols() != w.cols())
    throw Error("projection expects inputs of width " + std::to_string(w.cols()) + " but got " +
                std::to_string(x.cols()));
  Matrix y = x * w.transpose();
  if (b.size() > 0) {
    if (b.size() != w.rows()) throw Error("projection bias has the wrong length");
    y.rowwise() += b.transpose();
  }
  return y;
}

MultiHeadResult multi_head_attention(const MatrixRef& xq, const MatrixRef& xk, const MatrixRef& xv,
                                     const MultiHeadProjections& proj, int heads, const AttentionOptions& opt) {
  const Matrix q = proj.q.apply(xq), k = proj.k.apply(xk), v = proj.v.apply(xv);
  MultiHeadResult r = attend_heads(split_heads(q, heads, "projected Q"), split_heads(k, heads, "projected K"),
                                   split_heads(v, heads, "projected V"), opt);
  r.output = proj.o.apply(r.output);
  return r;
}

RowStats row_stats(std::span<const float> w) {
  RowStats s;
  double sum = 0.0;
  bool non_negative = true;
  for (size_t j = 0; j < w.size(); ++j) {
    sum += w[j];
    if (w[j] < 0.0f) non_negative = false;
    if (s.argmax < 0 || w[j] > s.max_weight) {
      s.max_weight = w[j];
      s.argmax = static_cast<int>(j);
    }
  }
  if (s.argmax >= 0 && s.max_weight == 0.0f && non_negative) s.argmax = -1;  // all-zero row
  s.is_distribution = non_negative && std::abs(sum - 1.0) < 1e-3;
  if (s.is_distribution) {
    double h = 0.0;
    for (float x : w)
      if (x > 0.0f) h -= static_cast<double>(x) * std::log(static_cast<double>(x));
    s.entropy_nats = std::max(h, 0.0);
    s.entropy_bits = s.entropy_nats / std::log(2.0);
    s.effective_keys = std::exp(s.entropy_nats);
  }
  return s;
}

void check_finite(const MatrixRef& m, const std::string& name, int head) {
  if (m.allFinite()) return;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (!std::isfinite(m(i, j)))
        throw Error(name + " contains " + (std::isnan(m(i, j)) ? "NaN" : "Inf") +
                    (head >= 0 ? " in head " + std::to_string(head) + "," : "") + " at row " + std::to_string(i) +
                    ", column " + std::to_string(j));
}

}  // namespace attn
