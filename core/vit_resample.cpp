// Resampling for Vision Transformers: position embeddings to another patch
// grid (three rules, as each upstream calls F.interpolate; FAMILIES.md), and
// images to another size.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "vit.hpp"

namespace attn {
namespace {

// One axis's taps: output position o reads inputs taps[o][k].first with
// weights taps[o][k].second.
using Taps = std::vector<std::vector<std::pair<int, double>>>;

// Keys' cubic convolution kernel with coefficient a.
double cubic(double x, double a) {
  x = std::abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

// PyTorch's bicubic (align_corners=False): source x = (o + 0.5) · step - 0.5,
// four taps around it clamped to the edges, a = -0.75. `step` is in/out, or
// 1/scale_factor when a scale factor is given.
Taps plain_taps(int n_in, int n_out, double step) {
  Taps taps(static_cast<size_t>(n_out));
  for (int o = 0; o < n_out; ++o) {
    const double from = (o + 0.5) * step - 0.5;
    const int i0 = static_cast<int>(std::floor(from));
    const double t = from - i0;
    for (int k = 0; k < 4; ++k)
      taps[static_cast<size_t>(o)].emplace_back(std::clamp(i0 - 1 + k, 0, n_in - 1), cubic(t + 1 - k, -0.75));
  }
  return taps;
}

// PyTorch's antialiased bicubic (as PIL): a = -0.5, the kernel widened by the
// shrink factor, taps past the edges dropped and the rest renormalised.
Taps antialias_taps(int n_in, int n_out) {
  const double scale = static_cast<double>(n_in) / n_out;
  const double stretch = std::max(scale, 1.0), support = 2.0 * stretch;
  Taps taps(static_cast<size_t>(n_out));
  for (int o = 0; o < n_out; ++o) {
    const double centre = scale * (o + 0.5);
    // PyTorch's own arithmetic (truncation, then clamped), kept for exactness.
    const int lo = std::max(static_cast<int>(centre - support + 0.5), 0);     // NOLINT(bugprone-incorrect-roundings)
    const int hi = std::min(static_cast<int>(centre + support + 0.5), n_in);  // NOLINT(bugprone-incorrect-roundings)
    double total = 0;
    auto& t = taps[static_cast<size_t>(o)];
    for (int j = lo; j < hi; ++j) {
      t.emplace_back(j, cubic((j - centre + 0.5) / stretch, -0.5));
      total += t.back().second;
    }
    for (auto& [j, w] : t) w = total != 0 ? w / total : 0.0;
  }
  return taps;
}

// grid [rows * cols, D] (row-major cells) through `across` (cols -> new
// cols) and `down` (rows -> new rows), in double.
Matrix separable(const MatrixRef& grid, int rows, int cols, const Taps& across, const Taps& down) {
  const auto new_cols = static_cast<int>(across.size()), new_rows = static_cast<int>(down.size());
  const Eigen::Index d = grid.cols();
  Eigen::MatrixXd tmp(static_cast<Eigen::Index>(rows) * new_cols, d);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < new_cols; ++c) {
      Eigen::RowVectorXd acc = Eigen::RowVectorXd::Zero(d);
      for (const auto& [j, w] : across[static_cast<size_t>(c)]) acc += w * grid.row(r * cols + j).cast<double>();
      tmp.row(static_cast<Eigen::Index>(r) * new_cols + c) = acc;
    }
  Matrix out(static_cast<Eigen::Index>(new_rows) * new_cols, d);
  for (int r = 0; r < new_rows; ++r)
    for (int c = 0; c < new_cols; ++c) {
      Eigen::RowVectorXd acc = Eigen::RowVectorXd::Zero(d);
      for (const auto& [i, w] : down[static_cast<size_t>(r)])
        acc += w * tmp.row(static_cast<Eigen::Index>(i) * new_cols + c);
      out.row(static_cast<Eigen::Index>(r) * new_cols + c) = acc.cast<float>();
    }
  return out;
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
  return separable(grid, rows, cols, plain_taps(cols, new_cols, static_cast<double>(cols) / new_cols),
                   plain_taps(rows, new_rows, static_cast<double>(rows) / new_rows));
}

Matrix resample_positions(const MatrixRef& grid, int side, int out_rows, int out_cols, PosResample rule) {
  switch (rule) {
    case PosResample::Size:
      // A square grid to out_rows x out_cols (not a swap).
      return resample_bicubic(grid, side, side, out_rows, out_cols);  // NOLINT(readability-suspicious-call-argument)
    case PosResample::SizeAntialias:
      return separable(grid, side, side, antialias_taps(side, out_cols), antialias_taps(side, out_rows));
    case PosResample::Offset:
      // scale_factor = (n + 0.1) / G: the output has n positions, and the
      // kernel maps them with the scale factor given (step G / (n + 0.1)).
      return separable(grid, side, side, plain_taps(side, out_cols, side / (out_cols + 0.1)),
                       plain_taps(side, out_rows, side / (out_rows + 0.1)));
  }
  return Matrix(grid);
}

Image resize_shorter_side(const Image& img, int size) {
  const double s = static_cast<double>(size) / std::min(img.width, img.height);
  return resize_image(img, std::max(1, static_cast<int>(std::lround(img.width * s))),
                      std::max(1, static_cast<int>(std::lround(img.height * s))));
}

Image resize_image(const Image& img, int w, int h) {
  assert(w >= 1 && h >= 1);
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

}  // namespace attn
