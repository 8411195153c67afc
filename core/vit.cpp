// The Vision Transformer's forward pass, keeping every layer's attention;
// position-embedding and image resampling.
#include <cmath>

#include "attention_fast.hpp"
#include "error.hpp"
#include "gemm.hpp"
#include "io.hpp"
#include "parallel.hpp"
#include "simd/kernels.hpp"
#include "softmax.hpp"
#include "vit.hpp"

namespace attn {
namespace {

void layer_norm(const Matrix& x, const Vector& w, const Vector& b, double eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  const double d = static_cast<double>(x.cols());
  parallel_for(static_cast<int>(x.rows()), [&](int i) {
    double mean = 0, var = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x(i, j);
    mean /= d;
    for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x(i, j) - mean) * (x(i, j) - mean);
    const double inv = 1.0 / std::sqrt(var / d + eps);
    for (Eigen::Index j = 0; j < x.cols(); ++j) out(i, j) = static_cast<float>((x(i, j) - mean) * inv) * w[j] + b[j];
  });
}

// y = x wᵀ + b: x [N, in], w [out, in] (PyTorch's layout), b [out].
Matrix linear(const Matrix& x, const Matrix& w, const Vector& b) {
  Matrix y(x.rows(), w.rows());
  gemm(static_cast<int>(x.rows()), static_cast<int>(w.rows()), static_cast<int>(x.cols()), 1.0f,
       {x.data(), x.outerStride(), 1}, {w.data(), 1, w.outerStride()}, y.data(), y.outerStride());
  y.rowwise() += b.transpose();
  return y;
}

// Resamples one axis with a triangle filter widened by the shrink factor
// (box-like averaging when shrinking, bilinear when growing). `in` holds
// n_in items of `count` floats each; the result n_out items.
std::vector<float> resample_axis(const std::vector<float>& in, int n_in, int n_out, int count) {
  std::vector<float> out(static_cast<size_t>(n_out) * count);
  const double scale = static_cast<double>(n_in) / n_out;
  const double support = std::max(1.0, scale);
  std::vector<double> w;
  for (int o = 0; o < n_out; ++o) {
    const double centre = (o + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
    const int hi = std::min(n_in - 1, static_cast<int>(std::ceil(centre + support)));
    double total = 0;
    w.clear();
    for (int i = lo; i <= hi; ++i) {
      w.push_back(std::max(0.0, 1.0 - std::abs((i + 0.5 - centre) / support)));
      total += w.back();
    }
    for (int c = 0; c < count; ++c) {
      double acc = 0;
      for (int i = lo; i <= hi; ++i) acc += w[static_cast<size_t>(i - lo)] * in[static_cast<size_t>(i) * count + c];
      out[static_cast<size_t>(o) * count + c] = static_cast<float>(total > 0 ? acc / total : 0.0);
    }
  }
  return out;
}

}  // namespace

Matrix resample_bicubic(const MatrixRef& grid, int rows, int cols, int new_rows, int new_cols) {
  constexpr double A = -0.75;  // PyTorch's cubic convolution coefficient
  auto weights = [](double t, double w[4]) {
    auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };       // |x| <= 1
    auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };  // 1 < |x| < 2
    w[0] = far(t + 1);
    w[1] = near(t);
    w[2] = near(1 - t);
    w[3] = far(2 - t);
  };
  // Separable: one pass along the columns, then one along the rows. A pass
  // resamples positions 0..n_in-1 to 0..n_out-1 for each of `outer` lines;
  // at(line, position) gives a vector's row index in the source or result.
  const Eigen::Index d = grid.cols();
  auto pass = [&](const Matrix& src, int n_in, int n_out, int outer, auto src_at, auto dst_at) {
    Matrix dst(static_cast<Eigen::Index>(outer) * n_out, d);
    const double scale = static_cast<double>(n_in) / n_out;
    for (int j = 0; j < n_out; ++j) {
      const double from = (j + 0.5) * scale - 0.5;
      const int i0 = static_cast<int>(std::floor(from));
      double w[4];
      weights(from - i0, w);
      for (int line = 0; line < outer; ++line) {
        Eigen::VectorXd acc = Eigen::VectorXd::Zero(d);
        for (int k = 0; k < 4; ++k)
          acc += w[k] * src.row(src_at(line, std::clamp(i0 - 1 + k, 0, n_in - 1))).template cast<double>().transpose();
        dst.row(dst_at(line, j)) = acc.cast<float>().transpose();
      }
    }
    return dst;
  };
  const Matrix tmp = pass(
      grid, cols, new_cols, rows, [&](int r, int c) { return r * cols + c; },
      [&](int r, int c) { return r * new_cols + c; });
  return pass(
      tmp, rows, new_rows, new_cols, [&](int c, int r) { return r * new_cols + c; },
      [&](int c, int r) { return r * new_cols + c; });
}

Image resize_shorter_side(const Image& img, int size) {
  const double s = static_cast<double>(size) / std::min(img.width, img.height);
  const int w = std::max(1, static_cast<int>(std::lround(img.width * s)));
  const int h = std::max(1, static_cast<int>(std::lround(img.height * s)));
  // Along each row (items: pixels of 4 channels), then along the columns
  // (items: whole rows of w pixels).
  std::vector<float> horizontal;
  horizontal.reserve(static_cast<size_t>(img.height) * w * 4);
  for (int y = 0; y < img.height; ++y) {
    const std::vector<float> row(img.rgba.begin() + static_cast<long>(y) * img.width * 4,
                                 img.rgba.begin() + static_cast<long>(y + 1) * img.width * 4);
    const auto r = resample_axis(row, img.width, w, 4);
    horizontal.insert(horizontal.end(), r.begin(), r.end());
  }
  const auto both = resample_axis(horizontal, img.height, h, w * 4);
  Image out = Image::blank(w, h);
  for (size_t i = 0; i < both.size(); ++i)
    out.rgba[i] = static_cast<std::uint8_t>(std::clamp(std::lround(both[i]), 0L, 255L));
  return out;
}

std::array<int, 2> vit_grid(const VitModel& m, int width, int height, const VitOptions& opt) {
  int w = width, h = height;
  if (opt.size > 0) {
    const double s = static_cast<double>(opt.size) / std::min(width, height);
    w = std::max(1, static_cast<int>(std::lround(width * s)));
    h = std::max(1, static_cast<int>(std::lround(height * s)));
  }
  if (w < m.patch || h < m.patch)
    throw Error("the image (" + std::to_string(w) + "x" + std::to_string(h) + " after resizing) is smaller than one " +
                std::to_string(m.patch) + "-pixel patch");
  return {w / m.patch, h / m.patch};
}

VitResult run_vit(const VitModel& m, const Image& img, const VitOptions& opt) {
  check_temperature(opt.temperature, "model temperature");
  const auto [cols, rows] = vit_grid(m, img.width, img.height, opt);
  const int p = m.patch, P = cols * rows, R = m.registers, N = 1 + P + R, D = m.width, H = m.heads, dh = D / H;
  const double attn_bytes = 4.0 * m.depth * H * static_cast<double>(N) * N;
  if (attn_bytes > opt.max_attention_bytes)
    throw Error("keeping the attention of " + std::to_string(N) + " tokens in " + std::to_string(m.depth) +
                " layers x " + std::to_string(H) + " heads needs " +
                format_bytes(static_cast<std::uint64_t>(attn_bytes)) + "; use a smaller image size");
  VitResult r;
  r.grid_cols = cols;
  r.grid_rows = rows;
  r.tokens = N;
  r.registers = R;
  r.input = opt.size > 0 ? resize_shorter_side(img, opt.size) : img;

  // Patch embedding: each patch flattened (channel, row, column), normalised.
  Matrix patches(P, 3 * p * p);
  for (int t = 0; t < P; ++t) {
    const int x0 = (t % cols) * p, y0 = (t / cols) * p;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < p; ++y)
        for (int x = 0; x < p; ++x)
          patches(t, (c * p + y) * p + x) =
              (r.input.pixel(x0 + x, y0 + y)[c] / 255.0f - opt.mean[static_cast<size_t>(c)]) /
              opt.std[static_cast<size_t>(c)];
  }
  Matrix x(N, D);
  x.middleRows(1, P) = linear(patches, m.patch_w, m.patch_b);
  const Matrix pos_patches = m.pos.bottomRows(static_cast<Eigen::Index>(m.pos_grid) * m.pos_grid);
  if (rows == m.pos_grid && cols == m.pos_grid)
    x.middleRows(1, P) += pos_patches;
  else
    x.middleRows(1, P) += resample_bicubic(pos_patches, m.pos_grid, m.pos_grid, rows, cols);
  x.row(0) = m.cls.transpose();
  if (m.pos_has_class) x.row(0) += m.pos.row(0);
  if (R > 0) x.bottomRows(R) = m.registers_init;

  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  Matrix h, out(N, D);
  const TokenKind prefix[] = {TokenKind::Class};
  r.record.token_sets.push_back(TokenSet::vit({p, cols, rows}, prefix, R));
  r.record.attention.push_back({"encoder", AttentionRole::EncoderSelf, 0, 0, AttentionStack(m.depth, H, N, N)});
  AttentionStack& kept = r.record.attention.back().weights;
  MultiHeadResult heads;
  for (int l = 0; l < m.depth; ++l) {
    const VitBlock& b = m.blocks[static_cast<size_t>(l)];
    layer_norm(x, b.norm1_w, b.norm1_b, m.eps, h);
    const Matrix qkv = linear(h, b.qkv_w, b.qkv_b);
    Heads q, k, v;
    for (int i = 0; i < H; ++i) {
      q.push_back(qkv.middleCols(static_cast<Eigen::Index>(i) * dh, dh));
      k.push_back(qkv.middleCols(D + i * dh, dh));
      v.push_back(qkv.middleCols(2 * D + i * dh, dh));
    }
    detail::attend_dot(q, k, v, scale, Norm::Softmax, opt.temperature, Mask{}, 0, heads);
    for (int i = 0; i < H; ++i) {
      out.middleCols(static_cast<Eigen::Index>(i) * dh, dh) = heads.heads[static_cast<size_t>(i)].output;
      kept.set(l, i, heads.heads[static_cast<size_t>(i)].weights);
    }
    Matrix a = linear(out, b.proj_w, b.proj_b);
    if (b.ls1.size()) a = a.array().rowwise() * b.ls1.transpose().array();
    x += a;
    layer_norm(x, b.norm2_w, b.norm2_b, m.eps, h);
    Matrix f = linear(h, b.fc1_w, b.fc1_b);
    const simd::Kernels& kern = simd::kernels();
    parallel_for(static_cast<int>(f.rows()),
                 [&](int i) { kern.gelu_row(f.row(i).data(), static_cast<int>(f.cols())); });
    Matrix g = linear(f, b.fc2_w, b.fc2_b);
    if (b.ls2.size()) g = g.array().rowwise() * b.ls2.transpose().array();
    x += g;
  }
  layer_norm(x, m.norm_w, m.norm_b, m.eps, r.output);
  return r;
}

}  // namespace attn
