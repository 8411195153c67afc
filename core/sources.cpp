#include "sources.hpp"

#include <Eigen/QR>
#include <array>
#include <cmath>
#include <string>

#include "error.hpp"

namespace attn {

template <>
std::span<const EnumName<ImageSource>> enum_names<ImageSource>() {
  static constexpr std::array<EnumName<ImageSource>, 3> kNames = {{
      {ImageSource::Similarity, "similarity", "image: similarity",
       "Each patch described by its colour and texture, with W_q = W_k: similar patches attend to each other."},
      {ImageSource::Random, "random", "image: random projections",
       "The same descriptions through independent random W_q, W_k, W_v: what an untrained layer does."},
      {ImageSource::Pixels, "pixels", "image: raw pixels", "Each patch's own pixels as its query, key and value."},
  }};
  return kNames;
}
namespace {

enum : std::uint64_t {
  kStreamWq = 1,
  kStreamWk = 2,
  kStreamWv = 3,
  kStreamRandomQ = 11,
  kStreamRandomK = 12,
  kStreamRandomV = 13,
};

void check_d_model(int d_model) {
  if (d_model < 1) throw Error("d_model must be >= 1 (got " + std::to_string(d_model) + ")");
}

}  // namespace

QKV random_qkv(int n, int d_model, Distribution dist, std::uint64_t seed) {
  check_d_model(d_model);
  if (n < 1) throw Error("the number of tokens must be >= 1 (got " + std::to_string(n) + ")");
  return {random_matrix(n, d_model, dist, seed, kStreamRandomQ), random_matrix(n, d_model, dist, seed, kStreamRandomK),
          random_matrix(n, d_model, dist, seed, kStreamRandomV)};
}

namespace {

// Orthonormalises each head's [d_f, d_head] block of w: orthonormal columns
// when d_head <= d_f, orthonormal rows otherwise. Then scales the block so
// that x W_h W_hᵀ xᵀ / sqrt(d_head) = kSimilaritySharpness for unit x.
void orthonormalise_heads(Matrix& w, int heads) {
  const Eigen::Index d_f = w.rows(), dh = w.cols() / heads;
  const float scale = std::sqrt(kSimilaritySharpness * std::sqrt(static_cast<float>(dh)));
  for (int h = 0; h < heads; ++h) {
    Matrix block = w.middleCols(h * dh, dh);
    const bool tall = dh <= d_f;
    const Matrix a = tall ? block : Matrix(block.transpose());
    Eigen::HouseholderQR<Matrix> qr(a);
    Matrix basis = qr.householderQ() * Matrix::Identity(a.rows(), a.cols());
    // Fix the signs so the basis is a continuous function of the draw.
    for (Eigen::Index c = 0; c < basis.cols(); ++c)
      if (qr.matrixQR()(c, c) < 0) basis.col(c) *= -1.0f;
    w.middleCols(h * dh, dh) = (tall ? basis : Matrix(basis.transpose())) * scale;
  }
}

}  // namespace

QKV project(const MatrixRef& x, Projection proj, int d_model, int heads, std::uint64_t seed) {
  if (proj == Projection::Identity) return {x, x, x};
  check_d_model(d_model);
  if (heads < 1 || d_model % heads != 0)
    throw Error("d_model " + std::to_string(d_model) + " is not divisible by " + std::to_string(heads) + " heads");
  const int d_f = static_cast<int>(x.cols());
  const float s = 1.0f / std::sqrt(static_cast<float>(d_f));
  Matrix wq = random_matrix(d_f, d_model, Distribution::Gaussian, seed, kStreamWq, s);
  const Matrix wv = random_matrix(d_f, d_model, Distribution::Gaussian, seed, kStreamWv, s);
  QKV r;
  if (proj == Projection::Similarity) {
    orthonormalise_heads(wq, heads);
    r.q = x * wq;
    r.k = r.q;
  } else {
    r.q = x * wq;
    r.k = x * random_matrix(d_f, d_model, Distribution::Gaussian, seed, kStreamWk, s);
  }
  r.v = x * wv;
  return r;
}

QKV image_qkv(const Image& img, const PatchGrid& grid, const ImageSourceOptions& opt) {
  const bool pixels = opt.source == ImageSource::Pixels;
  Matrix x = patch_features(img, grid, pixels ? Features::Pixels : Features::Descriptor);
  if (opt.position_encoding) {
    // Scaled so that position counts about as much as one feature group.
    const Matrix pe = position_encoding(grid, 16) * (pixels ? 1.0f : 0.25f);
    Matrix both(x.rows(), x.cols() + pe.cols());
    both << x, pe;
    x = std::move(both);
  }
  const Projection proj = opt.source == ImageSource::Similarity ? Projection::Similarity
                          : opt.source == ImageSource::Random   ? Projection::Random
                                                                : Projection::Identity;
  return project(x, proj, opt.d_model, opt.heads, opt.seed);
}

}  // namespace attn
