#include "patches.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <string>

#include "error.hpp"

namespace attn {
namespace {

struct Lab {
  float l, a, b;
};

float srgb_to_linear(float c) { return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f); }

float lab_f(float t) {
  constexpr float d = 6.0f / 29.0f;
  return t > d * d * d ? std::cbrt(t) : t / (3 * d * d) + 4.0f / 29.0f;
}

// sRGB (8-bit) to CIELAB with the D65 white point (CIE 15:2004 formulas).
Lab to_lab(const std::uint8_t* p) {
  const float r = srgb_to_linear(p[0] / 255.0f), g = srgb_to_linear(p[1] / 255.0f), b = srgb_to_linear(p[2] / 255.0f);
  const float x = (0.4124564f * r + 0.3575761f * g + 0.1804375f * b) / 0.95047f;
  const float y = 0.2126729f * r + 0.7151522f * g + 0.0721750f * b;
  const float z = (0.0193339f * r + 0.1191920f * g + 0.9503041f * b) / 1.08883f;
  const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  return {116.0f * fy - 16.0f, 500.0f * (fx - fy), 200.0f * (fy - fz)};
}

// Standardises each column to mean 0 and standard deviation 1 (a constant
// column becomes 0) and multiplies it by weights[c].
void standardise_columns(Matrix& m, const std::vector<float>& weights) {
  for (Eigen::Index c = 0; c < m.cols(); ++c) {
    const double mean = m.col(c).cast<double>().mean();
    const double var = (m.col(c).cast<double>().array() - mean).square().mean();
    const double sd = std::sqrt(var);
    const float scale = sd > 1e-9 ? static_cast<float>(weights[static_cast<size_t>(c)] / sd) : 0.0f;
    m.col(c) = (m.col(c).array() - static_cast<float>(mean)) * scale;
  }
}

Matrix descriptor_features(const Image& img, const PatchGrid& grid) {
  const int w = grid.cols * grid.patch, h = grid.rows * grid.patch;  // the covered area
  std::vector<Lab> lab(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) lab[static_cast<size_t>(y) * w + x] = to_lab(img.pixel(x, y));
  auto L = [&](int x, int y) {
    x = std::clamp(x, 0, w - 1);
    y = std::clamp(y, 0, h - 1);
    return lab[static_cast<size_t>(y) * w + x].l;
  };

  constexpr int kBins = 9;
  // A patch whose gradients are weaker than this (L* units per pixel) has a
  // weak, noise-dominated orientation histogram; flat sky should not get one.
  constexpr double kFlatGradient = 2.0;
  Matrix f(grid.count(), kDescriptorDims);
  const double n = static_cast<double>(grid.patch) * grid.patch;
  for (int pr = 0; pr < grid.rows; ++pr)
    for (int pc = 0; pc < grid.cols; ++pc) {
      double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0}, hist[kBins] = {}, mag_sum = 0;
      for (int y = pr * grid.patch; y < (pr + 1) * grid.patch; ++y)
        for (int x = pc * grid.patch; x < (pc + 1) * grid.patch; ++x) {
          const Lab& v = lab[static_cast<size_t>(y) * w + x];
          const double c[3] = {v.l, v.a, v.b};
          for (int k = 0; k < 3; ++k) {
            sum[k] += c[k];
            sq[k] += c[k] * c[k];
          }
          const double gx = (L(x + 1, y - 1) + 2 * L(x + 1, y) + L(x + 1, y + 1)) -
                            (L(x - 1, y - 1) + 2 * L(x - 1, y) + L(x - 1, y + 1));
          const double gy = (L(x - 1, y + 1) + 2 * L(x, y + 1) + L(x + 1, y + 1)) -
                            (L(x - 1, y - 1) + 2 * L(x, y - 1) + L(x + 1, y - 1));
          const double mag = std::hypot(gx, gy) / 8.0;  // Sobel gain is 8
          double angle = std::atan2(gy, gx);
          if (angle < 0) angle += std::numbers::pi;  // unsigned orientation
          const int bin = std::min(kBins - 1, static_cast<int>(angle / std::numbers::pi * kBins));
          hist[bin] += mag;
          mag_sum += mag;
        }
      const int t = grid.index(pc, pr);
      for (int k = 0; k < 3; ++k) {
        const double mean = sum[k] / n;
        f(t, k) = static_cast<float>(mean);
        f(t, 3 + k) = static_cast<float>(std::sqrt(std::max(0.0, sq[k] / n - mean * mean)));
      }
      const double denom = mag_sum + kFlatGradient * n;
      for (int b = 0; b < kBins; ++b) f(t, 6 + b) = static_cast<float>(hist[b] / denom);
      f(t, 15) = static_cast<float>(mag_sum / n);
    }

  std::vector<float> weights(kDescriptorDims, 0.35f);
  for (int k = 0; k < 3; ++k) weights[static_cast<size_t>(k)] = 1.0f;
  for (int k = 3; k < 6; ++k) weights[static_cast<size_t>(k)] = 0.5f;
  weights[15] = 0.6f;
  standardise_columns(f, weights);
  for (Eigen::Index i = 0; i < f.rows(); ++i) {
    const float len = f.row(i).norm();
    if (len > 0) f.row(i) /= len;
  }
  return f;
}

Matrix pixel_features(const Image& img, const PatchGrid& grid) {
  const int p = grid.patch;
  Matrix f(grid.count(), 3 * p * p);
  for (int pr = 0; pr < grid.rows; ++pr)
    for (int pc = 0; pc < grid.cols; ++pc) {
      const int t = grid.index(pc, pr);
      int c = 0;
      for (int y = 0; y < p; ++y)
        for (int x = 0; x < p; ++x) {
          const std::uint8_t* px = img.pixel(pc * p + x, pr * p + y);
          for (int k = 0; k < 3; ++k) f(t, c++) = px[k] / 255.0f;
        }
    }
  // Centre each dimension, then one global scale so entries have unit
  // variance overall (per-dimension scaling would erase colour contrast).
  f.rowwise() -= f.colwise().mean();
  const double sd = std::sqrt(f.cast<double>().array().square().mean());
  if (sd > 1e-9) f /= static_cast<float>(sd);
  return f;
}

}  // namespace

PatchGrid make_grid(int width, int height, int patch) {
  if (patch < 1) throw Error("patch size must be >= 1 (got " + std::to_string(patch) + ")");
  if (width < patch || height < patch)
    throw Error("image is " + std::to_string(width) + "x" + std::to_string(height) + ", smaller than one patch of " +
                std::to_string(patch) + " pixels");
  return {patch, width / patch, height / patch};
}

Matrix patch_features(const Image& img, const PatchGrid& grid, Features kind) {
  return kind == Features::Pixels ? pixel_features(img, grid) : descriptor_features(img, grid);
}

Matrix position_encoding(const PatchGrid& grid, int dims) {
  if (dims <= 0 || dims % 4 != 0) throw Error("position encoding size must be a positive multiple of 4");
  const int quarter = dims / 4, half = dims / 2;
  Matrix pe(grid.count(), dims);
  for (int t = 0; t < grid.count(); ++t) {
    const int col = t % grid.cols, row = t / grid.cols;
    const double coord[2] = {static_cast<double>(col), static_cast<double>(row)};
    for (int axis = 0; axis < 2; ++axis)
      for (int i = 0; i < quarter; ++i) {
        const double freq = std::pow(10000.0, -2.0 * i / half);
        pe(t, axis * half + 2 * i) = static_cast<float>(std::sin(coord[axis] * freq));
        pe(t, axis * half + 2 * i + 1) = static_cast<float>(std::cos(coord[axis] * freq));
      }
  }
  return pe;
}

int map_cell(int cell, const PatchGrid& from, const PatchGrid& to) {
  const int col = cell % from.cols, row = cell / from.cols;
  const double x = (col + 0.5) / from.cols, y = (row + 0.5) / from.rows;
  const int c = std::clamp(static_cast<int>(x * to.cols), 0, to.cols - 1);
  const int r = std::clamp(static_cast<int>(y * to.rows), 0, to.rows - 1);
  return to.index(c, r);
}

std::vector<float> resample_map(std::span<const float> map, const PatchGrid& from, const PatchGrid& to) {
  assert(static_cast<int>(map.size()) == from.count());
  if (from.cols == to.cols && from.rows == to.rows) return {map.begin(), map.end()};
  std::vector<float> out(static_cast<size_t>(to.count()));
  for (int r = 0; r < to.rows; ++r)
    for (int c = 0; c < to.cols; ++c) {
      // `to`'s cell centre in `from`'s cell coordinates (centres at i + 0.5).
      const double u = std::clamp((c + 0.5) / to.cols * from.cols - 0.5, 0.0, from.cols - 1.0);
      const double v = std::clamp((r + 0.5) / to.rows * from.rows - 0.5, 0.0, from.rows - 1.0);
      const int c0 = static_cast<int>(u), r0 = static_cast<int>(v);
      const int c1 = std::min(c0 + 1, from.cols - 1), r1 = std::min(r0 + 1, from.rows - 1);
      const double fu = u - c0, fv = v - r0;
      auto at = [&](int cc, int rr) { return static_cast<double>(map[static_cast<size_t>(from.index(cc, rr))]); };
      const double top = at(c0, r0) + (at(c1, r0) - at(c0, r0)) * fu;
      const double bottom = at(c0, r1) + (at(c1, r1) - at(c0, r1)) * fu;
      out[static_cast<size_t>(to.index(c, r))] = static_cast<float>(top + (bottom - top) * fv);
    }
  return out;
}

}  // namespace attn
