#include "word_views.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "error.hpp"
#include "vit.hpp"  // resize_image

namespace attn {

template <>
std::span<const EnumName<WordSmooth>> enum_names<WordSmooth>() {
  static constexpr std::array<EnumName<WordSmooth>, 3> kNames = {{
      {WordSmooth::None, "none", "none (flat patches)", "Each patch one flat colour: exactly what the model weighed."},
      {WordSmooth::Bilinear, "bilinear", "bilinear", "Values blended between patch centres."},
      {WordSmooth::Gaussian, "gaussian", "Gaussian (soft)",
       "Blurred over about one patch, then blended: the soft maps of \"Show, Attend and Tell\"."},
  }};
  return kNames;
}

template <>
std::span<const EnumName<WordScale>> enum_names<WordScale>() {
  static constexpr std::array<EnumName<WordScale>, 2> kNames = {{
      {WordScale::Word, "word", "each word's own maximum",
       "Each word's map from 0 to its own strongest patch: where each word looks most."},
      {WordScale::Shared, "shared", "shared by all words",
       "One scale for every word: a word that attends weakly to the image looks faint."},
  }};
  return kNames;
}

namespace {

// The factor pair of `count` closest in log-aspect to width / height, and
// how far it is (|log(c / r) - log(w / h)|).
std::pair<std::array<int, 2>, double> closest_grid(int count, int width, int height) {
  const double want = std::log(static_cast<double>(width) / height);
  std::array<int, 2> best = {count, 1};
  double gap = INFINITY;
  for (int r = 1; static_cast<long long>(r) * r <= count; ++r) {
    if (count % r) continue;
    for (const auto& g : {std::array<int, 2>{count / r, r}, std::array<int, 2>{r, count / r}}) {
      const double d = std::abs(std::log(static_cast<double>(g[0]) / g[1]) - want);
      if (d < gap) best = g, gap = d;
    }
  }
  return {best, gap};
}

}  // namespace

ImageKeys place_image_keys(int keys, int width, int height, std::optional<std::array<int, 2>> grid,
                           std::optional<int> offset) {
  assert(width > 0 && height > 0);
  if (keys <= 0) throw Error("the attention has no keys");
  const std::string n = std::to_string(keys) + " key" + (keys == 1 ? "" : "s");
  if (offset && (*offset < 0 || *offset >= keys))
    throw Error("--key-offset " + std::to_string(*offset) + " is past the last of the attention's " + n +
                " (keys are numbered from 0)");
  ImageKeys k;
  if (grid) {
    const auto [c, r] = *grid;
    if (c < 1 || r < 1) throw Error("--grid: columns and rows must be at least 1");
    const long long cells = static_cast<long long>(c) * r;
    const std::string g =
        "the " + std::to_string(c) + "x" + std::to_string(r) + " grid's " + std::to_string(cells) + " patches";
    k.cols = c, k.rows = r;
    if (offset) {
      if (*offset + cells > keys)
        throw Error(g + " from key " + std::to_string(*offset) + " run past the attention's " + n);
      k.offset = *offset;
    } else if (cells == keys || cells == keys - 1) {
      k.offset = static_cast<int>(keys - cells), k.offset_inferred = true;
    } else if (cells > keys) {
      throw Error(g + " are more than the attention's " + n);
    } else {
      throw Error(g + " leave " + std::to_string(keys - cells) + " of the attention's " + n +
                  " over: give --key-offset K, where the image's keys start");
    }
    return k;
  }
  // Infer: the image's keys are all the keys, or all but a leading class
  // token; or, from a given offset, all the rest. The grid closest to the
  // image's aspect wins (all the keys on a tie).
  const double tolerance = std::log(1.5);
  const std::vector<int> starts = offset ? std::vector<int>{*offset} : std::vector<int>{0, 1};
  double best_gap = INFINITY;
  for (int start : starts) {
    const int count = keys - start;
    if (count < 1) continue;
    const auto [g, gap] = closest_grid(count, width, height);
    if (gap > tolerance || gap >= best_gap - 1e-12) continue;
    best_gap = gap;
    k.cols = g[0], k.rows = g[1], k.offset = start;
    k.grid_inferred = true, k.offset_inferred = !offset;
  }
  if (k.cols > 0) return k;
  throw Error("cannot tell the image's patch grid: " +
              (offset ? std::to_string(keys - *offset) + " keys from key " + std::to_string(*offset)
                      : n + " (or " + std::to_string(keys - 1) + " after a class token)") +
              " make no grid near the image's " + std::to_string(width) + "x" + std::to_string(height) +
              " aspect; give --grid COLS,ROWS (and --key-offset K, where the image's keys start)");
}

std::string describe(const ImageKeys& keys, int key_count) {
  std::string s = std::to_string(keys.cols) + " x " + std::to_string(keys.rows) + " patches";
  if (keys.grid_inferred) s += " (inferred from the image's aspect)";
  s += ", keys " + std::to_string(keys.offset) + " to " + std::to_string(keys.offset + keys.count() - 1) + " of " +
       std::to_string(key_count);
  if (keys.offset_inferred && keys.offset == 1) s += " (key 0: a class token)";
  return s;
}

WordCanvas word_canvas(const Image& image, const ImageKeys& keys) {
  assert(keys.cols > 0 && keys.rows > 0);
  // Pixels per cell: the geometric mean of the image's, so the canvas has
  // about the image's area; at most 8192 pixels a side.
  const double area = static_cast<double>(image.width) * image.height / (static_cast<double>(keys.cols) * keys.rows);
  int p = std::max(1, static_cast<int>(std::lround(std::sqrt(area))));
  p = std::max(1, std::min(p, 8192 / std::max(keys.cols, keys.rows)));
  WordCanvas c;
  c.grid = {p, keys.cols, keys.rows};
  c.image = image.width == keys.cols * p && image.height == keys.rows * p
                ? image
                : resize_image(image, keys.cols * p, keys.rows * p);
  return c;
}

AttentionRecord word_record(AttentionStack weights, const std::vector<std::string>& words, const ImageKeys& keys,
                            const PatchGrid& grid) {
  if (weights.queries() != static_cast<int>(words.size()))
    throw Error("the attention has " + std::to_string(weights.queries()) + " word" +
                (weights.queries() == 1 ? "" : "s") +
                " (queries, its second-to-last dimension) but the token list has " + std::to_string(words.size()));
  assert(keys.offset + keys.count() <= weights.keys() && grid.count() == keys.count());
  TokenSet key_set;
  key_set.grid = grid;
  for (int i = 0; i < weights.keys(); ++i) {
    const bool patch = i >= keys.offset && i < keys.offset + keys.count();
    key_set.tokens.push_back(patch ? Token{TokenKind::Patch, i - keys.offset, {}} : Token{TokenKind::Text, -1, {}});
  }
  AttentionRecord r;
  r.token_sets.push_back(std::move(key_set));
  r.token_sets.push_back(TokenSet::text(words));
  r.attention.push_back({"cross", AttentionRole::Cross, 1, 0, std::move(weights)});
  return r;
}

std::string describe(const WordRequest& r, int layers, int heads) {
  const std::string layer = r.mean_of_layers
                                ? "mean of " + std::to_string(layers) + " layers"
                                : "layer " + std::to_string(r.layer < 0 || r.layer >= layers ? layers - 1 : r.layer) +
                                      " of " + std::to_string(layers);
  const std::string head =
      r.head >= 0 ? "head " + std::to_string(r.head) + " of " + std::to_string(heads)
                  : std::string(name_of(r.fusion)) + " of " + std::to_string(heads) + " head" + (heads == 1 ? "" : "s");
  return layer + ", " + head;
}

Matrix word_rows(const AttentionRecord& record, const WordRequest& request) {
  const NamedAttention* cross = record.find(AttentionRole::Cross);
  assert(cross);
  const AttentionStack& w = cross->weights;
  const int L = w.layers(), H = w.heads(), T = w.queries(), N = w.keys();
  std::vector<int> layers;
  if (request.mean_of_layers) {
    for (int l = 0; l < L; ++l) layers.push_back(l);
  } else {
    layers.push_back(request.layer < 0 || request.layer >= L ? L - 1 : request.layer);
  }
  if (request.head >= H)
    throw Error("head " + std::to_string(request.head) + " is out of range (" + std::to_string(H) + " heads)");
  Matrix out = Matrix::Zero(T, N);
  std::vector<float> row(static_cast<size_t>(N)), fused(static_cast<size_t>(N));
  for (int t = 0; t < T; ++t) {
    for (int l : layers) {
      if (request.head >= 0) {
        w.row(l, request.head, t, fused);
      } else {
        for (int h = 0; h < H; ++h) {
          w.row(l, h, t, row);
          for (int j = 0; j < N; ++j) {
            float& f = fused[static_cast<size_t>(j)];
            const float v = row[static_cast<size_t>(j)];
            f = h == 0                               ? v
                : request.fusion == HeadFusion::Mean ? f + v
                : request.fusion == HeadFusion::Max  ? std::max(f, v)
                                                     : std::min(f, v);
          }
        }
        if (request.fusion == HeadFusion::Mean)
          for (float& f : fused) f /= static_cast<float>(H);
      }
      out.row(t) += Eigen::Map<const Eigen::RowVectorXf>(fused.data(), N);
    }
  }
  if (layers.size() > 1) out /= static_cast<float>(layers.size());
  return out;
}

Matrix image_maps(const AttentionRecord& record, const Matrix& rows) {
  const NamedAttention* cross = record.find(AttentionRole::Cross);
  assert(cross && rows.cols() == cross->weights.keys());
  const TokenSet& keys = record.keys(*cross);
  Matrix out = Matrix::Zero(rows.rows(), keys.grid.count());
  if (rows.rows() == 0) return out;  // no words (a caption that ended at once): no columns to copy
  for (int i = 0; i < static_cast<int>(rows.cols()); ++i)
    if (keys[i].kind == TokenKind::Patch) out.col(keys[i].cell) = rows.col(i);
  return out;
}

Matrix word_maps(const AttentionRecord& record, const WordRequest& request) {
  return image_maps(record, word_rows(record, request));
}

WordStatistics word_statistics(const Matrix& rows, const ImageKeys& keys, std::span<const int> words) {
  assert(keys.offset + keys.count() <= rows.cols());
  WordStatistics s;
  if (words.empty()) return s;
  Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(rows.cols());
  for (int t : words) mean += rows.row(t).cast<double>();
  mean /= static_cast<double>(words.size());
  const auto image = mean.segment(keys.offset, keys.count());
  const double all = mean.sum(), on_image = image.sum();
  s.image_share = all > 0 ? on_image / all : 0;
  double entropy = 0;
  for (Eigen::Index c = 0; c < image.size(); ++c) {
    const double p = on_image > 0 ? image[c] / on_image : 0;
    if (p > 0) entropy -= p * std::log(p);
    if (image[c] > s.peak) s.peak = image[c], s.peak_cell = static_cast<int>(c);
  }
  s.spread = on_image > 0 ? std::exp(entropy) : 0;
  return s;
}

std::vector<float> selection_map(const Matrix& maps, const PatchGrid& grid, std::span<const int> words,
                                 WordSmooth smooth, WordScale scale) {
  if (scale == WordScale::Shared)  // the selection's mean of the shared-scale maps
    return mean_word_map(display_maps(maps, grid, smooth, WordScale::Shared), words);
  const std::vector<float> mean = mean_word_map(maps, words);
  const Matrix row = Eigen::Map<const Matrix>(mean.data(), 1, static_cast<Eigen::Index>(mean.size()));
  const Matrix shown = display_maps(row, grid, smooth, WordScale::Word);
  return {shown.data(), shown.data() + shown.size()};
}

std::vector<float> mean_word_map(const Matrix& maps, std::span<const int> words) {
  std::vector<float> out(static_cast<size_t>(maps.cols()), 0.0f);
  if (words.empty()) return out;
  for (int t : words) {
    assert(t >= 0 && t < maps.rows());
    for (Eigen::Index c = 0; c < maps.cols(); ++c) out[static_cast<size_t>(c)] += maps(t, c);
  }
  for (float& v : out) v /= static_cast<float>(words.size());
  return out;
}

std::vector<float> words_at_cell(const Matrix& maps, int cell) {
  assert(cell >= 0 && cell < maps.cols());
  std::vector<float> out(static_cast<size_t>(maps.rows()));
  for (Eigen::Index t = 0; t < maps.rows(); ++t) out[static_cast<size_t>(t)] = maps(t, cell);
  return out;
}

std::vector<float> gaussian_blur(std::span<const float> map, int cols, int rows, double sigma) {
  assert(static_cast<int>(map.size()) == cols * rows && sigma > 0);
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<double> taps(2 * static_cast<size_t>(radius) + 1);
  for (int k = 0; k <= 2 * radius; ++k) {
    const double d = k - radius;
    taps[static_cast<size_t>(k)] = std::exp(-0.5 * d * d / (sigma * sigma));
  }
  // Separable, edges clamped; each pass divides by its taps' sum.
  auto pass = [&](const std::vector<float>& in, bool along_rows) {
    std::vector<float> out(in.size());
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x) {
        double sum = 0, weight = 0;
        for (int k = 0; k <= 2 * radius; ++k) {
          const int xx = along_rows ? std::clamp(x + k - radius, 0, cols - 1) : x;
          const int yy = along_rows ? y : std::clamp(y + k - radius, 0, rows - 1);
          const double tap = taps[static_cast<size_t>(k)];
          sum += tap * in[static_cast<size_t>(yy) * static_cast<size_t>(cols) + static_cast<size_t>(xx)];
          weight += tap;
        }
        out[static_cast<size_t>(y) * static_cast<size_t>(cols) + static_cast<size_t>(x)] =
            static_cast<float>(sum / weight);
      }
    return out;
  };
  return pass(pass(std::vector<float>(map.begin(), map.end()), true), false);
}

Upsample upsample_of(WordSmooth smooth) { return smooth == WordSmooth::None ? Upsample::Nearest : Upsample::Bilinear; }

Matrix display_maps(const Matrix& maps, const PatchGrid& grid, WordSmooth smooth, WordScale scale) {
  Matrix out = maps;
  if (smooth == WordSmooth::Gaussian)
    for (Eigen::Index t = 0; t < out.rows(); ++t) {
      const auto blurred =
          gaussian_blur(std::span(maps.row(t).data(), static_cast<size_t>(maps.cols())), grid.cols, grid.rows, 1.0);
      out.row(t) = Eigen::Map<const Eigen::RowVectorXf>(blurred.data(), out.cols());
    }
  const bool symmetric = signed_maps(maps);
  auto top_of = [&](const auto& m) { return symmetric ? m.cwiseAbs().maxCoeff() : m.maxCoeff(); };
  const float shared = out.size() ? top_of(out) : 0.0f;
  for (Eigen::Index t = 0; t < out.rows(); ++t) {
    const float top = scale == WordScale::Shared ? shared : top_of(out.row(t));
    if (top > 0)
      out.row(t) /= top;
    else
      out.row(t).setZero();
    if (symmetric) out.row(t) = out.row(t).array() * 0.5f + 0.5f;
  }
  return out;
}

bool signed_maps(const Matrix& maps) { return maps.size() > 0 && maps.minCoeff() < 0.0f; }

std::vector<Image> word_overlays(const WordCanvas& canvas, const Matrix& display, WordSmooth smooth,
                                 OverlayStyle style) {
  assert(display.cols() == canvas.grid.count());
  style.scale = MapScale::Fixed;
  style.upsample = upsample_of(smooth);
  style.rings = false;
  std::vector<Image> out;
  out.reserve(static_cast<size_t>(display.rows()));
  for (Eigen::Index t = 0; t < display.rows(); ++t)
    out.push_back(render_overlay(canvas.image, canvas.grid,
                                 std::span(display.row(t).data(), static_cast<size_t>(display.cols())), style));
  return out;
}

}  // namespace attn
