#include "attention_views.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <functional>
#include <numeric>

#include "error.hpp"

namespace attn {

template <>
std::span<const EnumName<HeadFusion>> enum_names<HeadFusion>() {
  static constexpr std::array<EnumName<HeadFusion>, 3> kNames = {{
      {HeadFusion::Mean, "mean", "mean", "The mean over the heads."},
      {HeadFusion::Max, "max", "max", "Each key's largest weight over the heads."},
      {HeadFusion::Min, "min", "min", "Each key's smallest weight over the heads: where every head agrees."},
  }};
  return kNames;
}

template <>
std::span<const EnumName<ViewQuery>> enum_names<ViewQuery>() {
  static constexpr std::array<EnumName<ViewQuery>, 5> kNames = {{
      {ViewQuery::ClassToken, "class-token", "class token",
       "The class token's attention to the patches, as in the DINO paper's maps (a model without one: its pooling "
       "probe's).",
       "cls"},
      {ViewQuery::Patches, "patch", "clicked patch", "The attention of the patch (or patches) you clicked."},
      {ViewQuery::Rollout, "rollout", "rollout (class token)",
       "The class token's attention rolled out through every layer (Abnar & Zuidema 2020)."},
      {ViewQuery::DistillationToken, "distillation-token", "distillation token",
       "DeiT's distillation token, trained to match a teacher network: where it looks beside the class token.", "dist"},
      {ViewQuery::TokenNorms, "norms", "token norms",
       "Not attention: each patch token's length after the layer. A few very long ones are artefacts that soak up "
       "attention (Darcet et al. 2023)."},
  }};
  return kNames;
}

Matrix fuse_heads(const std::vector<Matrix>& heads, HeadFusion fusion) {
  assert(!heads.empty());
  Matrix out = heads.front();
  for (size_t h = 1; h < heads.size(); ++h) {
    switch (fusion) {
      case HeadFusion::Mean:
        out += heads[h];
        break;
      case HeadFusion::Max:
        out = out.cwiseMax(heads[h]);
        break;
      case HeadFusion::Min:
        out = out.cwiseMin(heads[h]);
        break;
    }
  }
  if (fusion == HeadFusion::Mean) out /= static_cast<float>(heads.size());
  return out;
}

void attention_rollout_stages(const AttentionStack& attention, HeadFusion fusion, double discard_ratio, int spared,
                              const std::function<void(int, const Matrix&)>& stage) {
  assert(attention.layers() > 0 && attention.queries() == attention.keys());
  const Eigen::Index n = attention.keys();
  Eigen::MatrixXd result = Eigen::MatrixXd::Identity(n, n);
  for (int l = 0; l < attention.layers(); ++l) {
    Eigen::MatrixXd a = fuse_heads(attention.layer(l), fusion).cast<double>();
    const auto count = static_cast<Eigen::Index>(std::floor(discard_ratio * static_cast<double>(a.size())));
    if (count > 0) {
      // Flat indices of the `count` smallest entries, sparing (spared, spared).
      std::vector<Eigen::Index> order(static_cast<size_t>(a.size()));
      std::iota(order.begin(), order.end(), 0);
      const double* v = a.data();  // column-major: flat index c * n + r
      std::nth_element(order.begin(), order.begin() + count - 1, order.end(),
                       [&](auto x, auto y) { return v[x] != v[y] ? v[x] < v[y] : x < y; });
      const Eigen::Index keep = spared >= 0 ? static_cast<Eigen::Index>(spared) * (n + 1) : -1;
      for (Eigen::Index i = 0; i < count; ++i)
        if (order[static_cast<size_t>(i)] != keep) a.data()[order[static_cast<size_t>(i)]] = 0.0;
    }
    a = (a + Eigen::MatrixXd::Identity(n, n)) * 0.5;
    const Eigen::VectorXd sums = a.rowwise().sum();  // one sum per row: keep the row dimension
    for (Eigen::Index r = 0; r < n; ++r) a.row(r) /= sums[r];
    result = a * result;
    if (stage && l + 1 < attention.layers()) stage(l, result.cast<float>());
  }
  if (stage) stage(attention.layers() - 1, result.cast<float>());
}

Matrix attention_rollout(const AttentionStack& attention, HeadFusion fusion, double discard_ratio, int spared) {
  Matrix out;
  attention_rollout_stages(attention, fusion, discard_ratio, spared, [&](int layer, const Matrix& r) {
    if (layer == attention.layers() - 1) out = r;
  });
  return out;
}

Matrix mean_rows(const AttentionStack& attention, int layer, std::span<const int> queries) {
  assert(!queries.empty());
  const int H = attention.heads(), nk = attention.keys();
  Matrix out(H, nk);
  std::vector<double> acc(static_cast<size_t>(nk));
  std::vector<float> row(static_cast<size_t>(nk));
  for (int h = 0; h < H; ++h) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int q : queries) {
      attention.row(layer, h, q, row);
      for (int j = 0; j < nk; ++j) acc[static_cast<size_t>(j)] += row[static_cast<size_t>(j)];
    }
    for (int j = 0; j < nk; ++j)
      out(h, j) = static_cast<float>(acc[static_cast<size_t>(j)] / static_cast<double>(queries.size()));
  }
  return out;
}

Matrix mean_rows(const MatrixRef& m, std::span<const int> queries) {
  assert(!queries.empty());
  Eigen::RowVectorXd acc = Eigen::RowVectorXd::Zero(m.cols());
  for (int q : queries) acc += m.row(q).cast<double>();
  return (acc / static_cast<double>(queries.size())).cast<float>();
}

std::vector<float> combine_heads(const MatrixRef& rows, int head, HeadFusion fusion) {
  const auto nk = static_cast<size_t>(rows.cols());
  std::vector<float> out(nk);
  if (head >= 0) {
    assert(head < rows.rows());
    for (size_t j = 0; j < nk; ++j) out[j] = rows(head, static_cast<Eigen::Index>(j));
    return out;
  }
  for (size_t j = 0; j < nk; ++j) {
    const auto col = rows.col(static_cast<Eigen::Index>(j));
    switch (fusion) {
      case HeadFusion::Mean:
        out[j] = static_cast<float>(col.cast<double>().sum() / static_cast<double>(rows.rows()));
        break;
      case HeadFusion::Max:
        out[j] = col.maxCoeff();
        break;
      case HeadFusion::Min:
        out[j] = col.minCoeff();
        break;
    }
  }
  return out;
}

void sharpen(std::span<float> row, double temperature) {
  if (temperature == 1.0) return;
  std::vector<double> w(row.size());
  double sum = 0;
  for (size_t j = 0; j < row.size(); ++j) sum += (w[j] = std::pow(std::max(0.0f, row[j]), 1.0 / temperature));
  if (!(sum > 0) || !std::isfinite(sum)) return;
  for (size_t j = 0; j < row.size(); ++j) row[j] = static_cast<float>(w[j] / sum);
}

std::vector<float> scatter_to_cells(std::span<const float> row, const TokenSet& keys) {
  assert(row.size() == keys.tokens.size());
  std::vector<float> out(static_cast<size_t>(keys.grid.count()), 0.0f);
  for (size_t j = 0; j < row.size(); ++j) {
    const Token& t = keys.tokens[j];
    if (t.kind == TokenKind::Patch && t.cell >= 0 && t.cell < keys.grid.count())
      out[static_cast<size_t>(t.cell)] = row[j];
  }
  return out;
}

PatchMap to_patch_map(std::span<const float> row, const TokenSet& keys, bool keep_class, bool keep_registers) {
  assert(row.size() == keys.tokens.size());
  PatchMap m;
  m.values = scatter_to_cells(row, keys);
  double total = 0, patches = 0;
  for (size_t j = 0; j < row.size(); ++j) {
    total += row[j];
    switch (keys.tokens[j].kind) {
      case TokenKind::Class:
      case TokenKind::Distillation:
        m.class_share += row[j];
        break;
      case TokenKind::Register:
        m.register_share += row[j];
        break;
      case TokenKind::Patch:
        patches += row[j];
        break;
      default:
        break;
    }
  }
  if (total > 0) m.class_share /= total, m.register_share /= total;
  if (!keep_class && !keep_registers)
    for (float& v : m.values) v = patches > 0 ? static_cast<float>(v / patches) : 0.0f;
  return m;
}

std::vector<std::uint8_t> keep_mass(std::span<const float> values, double fraction) {
  std::vector<std::uint8_t> keep(values.size(), 0);
  double total = 0;
  for (float v : values) total += std::max(0.0f, v);
  if (total <= 0 || values.empty()) return keep;
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  double mass = 0;
  for (size_t i : order) {
    if (mass >= fraction * total) break;
    keep[i] = 1;
    mass += std::max(0.0f, values[i]);
  }
  return keep;
}

void check_keep_mass(double fraction, const char* what) {
  if (!(fraction > 0 && fraction <= 1))
    throw Error(std::string(what) + " must be in (0, 1] (the share of the attention to keep), got " +
                std::to_string(fraction));
}

void check_discard(double ratio, const char* what) {
  if (!(ratio >= 0 && ratio < 1)) throw Error(std::string(what) + " must be in [0, 1), got " + std::to_string(ratio));
}

std::vector<float> select_tokens(std::span<const float> row, std::span<const int> tokens, bool renormalise) {
  std::vector<float> out;
  out.reserve(tokens.size());
  double sum = 0;
  for (int t : tokens) {
    out.push_back(row[static_cast<size_t>(t)]);
    sum += out.back();
  }
  if (renormalise)
    for (float& v : out) v = sum > 0 ? static_cast<float>(v / sum) : 0.0f;
  return out;
}

MapScale view_scale(ViewQuery query, MapScale chosen) {
  return query == ViewQuery::TokenNorms ? MapScale::MinMax : chosen;
}

MapView attention_map(const AttentionRecord& record, const MapRequest& r, const Matrix* rollout) {
  const NamedAttention* encoder = record.find(AttentionRole::EncoderSelf);
  assert(encoder);
  const TokenSet& keys = record.keys(*encoder);
  const AttentionStack& w = encoder->weights;
  assert(w.keys() == keys.size());
  MapView v;
  v.layer = r.layer < 0 || r.layer >= w.layers() ? w.layers() - 1 : r.layer;
  if (r.query == ViewQuery::TokenNorms) {
    if (record.token_norms.rows() <= v.layer + 1) throw Error("this model's token norms were not kept");
    const auto row = record.token_norms.row(v.layer + 1);
    v.map = scatter_to_cells(std::span(row.data(), static_cast<size_t>(row.size())), keys);
    v.combined = v.map;
    v.head_maps = Eigen::Map<const Eigen::RowVectorXf>(v.map.data(), keys.grid.count()).replicate(w.heads(), 1);
    return v;
  }
  std::vector<int> rows;
  const AttentionStack* source = &w;  // whose rows: the encoder's, or the probe's
  int layer = v.layer;
  if (r.query == ViewQuery::Patches) {
    for (int q : r.queries) {
      if (q < 0 || q >= w.queries()) throw Error("query token " + std::to_string(q) + " is out of range");
      rows.push_back(q);
    }
    if (rows.empty()) throw Error("pick a patch to show its attention");
  } else if (r.query == ViewQuery::DistillationToken) {
    const int dist = keys.first_of(TokenKind::Distillation);
    if (dist < 0) throw Error("this model has no distillation token");
    rows.push_back(dist);
  } else if (const int cls = keys.first_of(TokenKind::Class); cls >= 0) {
    rows.push_back(cls);
  } else if (const NamedAttention* pool = record.find(AttentionRole::Pool); pool && r.query == ViewQuery::ClassToken) {
    source = &pool->weights, layer = 0;  // the model's global view: its probe
    rows.push_back(0);
  } else {
    throw Error("this model has no class token: pick a patch to see its attention");
  }
  const Matrix per_head = mean_rows(*source, layer, rows);  // [H, Nk]
  const int cells = keys.grid.count();
  v.head_maps.resize(per_head.rows(), cells);
  // The artefacts left out: the k patch tokens with the largest norms at the
  // shown layer's input (their weight dropped before the patches are
  // renormalised; the special tokens' shares still count it).
  const std::vector<int> ignored =
      r.ignore_top_norms > 0 ? top_norm_tokens(record, v.layer, r.ignore_top_norms) : std::vector<int>();
  auto patch_map = [&](std::vector<float> row) {
    PatchMap with = to_patch_map(row, keys, r.keep_class, r.keep_registers);
    if (ignored.empty()) return with;
    for (int t : ignored) row[static_cast<size_t>(t)] = 0.0f;
    PatchMap without = to_patch_map(row, keys, r.keep_class, r.keep_registers);
    without.class_share = with.class_share, without.register_share = with.register_share;
    return without;
  };
  std::vector<float> line(static_cast<size_t>(w.keys()));
  for (Eigen::Index h = 0; h < per_head.rows(); ++h) {
    for (int j = 0; j < w.keys(); ++j) line[static_cast<size_t>(j)] = per_head(h, j);
    sharpen(line, r.display_temperature);
    const PatchMap m = patch_map(line);
    v.head_maps.row(h) = Eigen::Map<const Eigen::RowVectorXf>(m.values.data(), cells);
  }
  // The heads combined: fused, or rollout's row.
  std::vector<float> all;
  if (r.query == ViewQuery::Rollout) {
    if (!rollout) throw Error("attention rollout has not been computed");
    const Matrix mean = mean_rows(*rollout, rows);
    all.assign(mean.data(), mean.data() + mean.size());
  } else {
    all = combine_heads(per_head, -1, r.fusion);
  }
  sharpen(all, r.display_temperature);
  v.combined = patch_map(all).values;
  // What is shown: one head, or the heads combined (rollout has no heads).
  std::vector<float> shown = all;
  if (r.head >= 0 && r.query != ViewQuery::Rollout) {
    if (r.head >= w.heads()) throw Error("head " + std::to_string(r.head) + " is out of range");
    shown = combine_heads(per_head, r.head, r.fusion);
    sharpen(shown, r.display_temperature);
  }
  PatchMap m = patch_map(shown);
  v.class_share = m.class_share;
  v.register_share = m.register_share;
  v.map = std::move(m.values);
  if (r.keep_mass < 1.0) {
    const auto keep = keep_mass(v.map, r.keep_mass);
    for (size_t i = 0; i < v.map.size(); ++i) v.map[i] = keep[i] ? 1.0f : 0.0f;
  }
  return v;
}

std::vector<int> top_norm_tokens(const AttentionRecord& record, int row, int k) {
  if (record.token_norms.rows() <= row || record.token_sets.empty()) return {};
  std::vector<int> patches = record.token_sets.front().indices_of(TokenKind::Patch);
  const auto norms = record.token_norms.row(row);
  k = std::min<int>(k, static_cast<int>(patches.size()));
  std::partial_sort(patches.begin(), patches.begin() + k, patches.end(),
                    [&](int a, int b) { return norms[a] != norms[b] ? norms[a] > norms[b] : a < b; });
  patches.resize(static_cast<size_t>(k));
  return patches;
}

std::vector<int> high_norm_tokens(const AttentionRecord& record, int row) {
  if (record.token_norms.rows() <= row || record.token_sets.empty()) return {};
  const std::vector<int> patches = record.token_sets.front().indices_of(TokenKind::Patch);
  if (patches.empty()) return {};
  const auto norms = record.token_norms.row(row);
  std::vector<float> values;
  values.reserve(patches.size());
  for (int t : patches) values.push_back(norms[t]);
  std::nth_element(values.begin(), values.begin() + static_cast<long>(values.size() / 2), values.end());
  const float median = values[values.size() / 2];
  std::vector<int> out;
  for (int t : patches)
    if (norms[t] > 3.0f * median) out.push_back(t);
  return out;
}

AttentionSinks attention_sinks(const AttentionRecord& record) {
  const NamedAttention* encoder = record.find(AttentionRole::EncoderSelf);
  assert(encoder);
  const AttentionStack& w = encoder->weights;
  const TokenSet& tokens = record.keys(*encoder);
  const int L = w.layers(), H = w.heads(), N = w.queries();
  AttentionSinks s{Matrix::Zero(L, H), Matrix::Zero(L, H), Matrix::Zero(L, H), std::vector<int>(L, -1)};
  std::vector<int> special, registers = tokens.indices_of(TokenKind::Register);
  for (TokenKind k : {TokenKind::Class, TokenKind::Distillation})
    for (int t : tokens.indices_of(k)) special.push_back(t);
  for (int l = 0; l < L; ++l) {
    const auto top = top_norm_tokens(record, l, 1);
    s.outlier[static_cast<size_t>(l)] = top.empty() ? -1 : top.front();
    for (int h = 0; h < H; ++h) {
      double cls = 0, reg = 0, out = 0;
      std::vector<float> row(static_cast<size_t>(w.keys()));
      for (int q = 0; q < N; ++q) {
        w.row(l, h, q, row);
        for (int t : special) cls += row[static_cast<size_t>(t)];
        for (int t : registers) reg += row[static_cast<size_t>(t)];
        if (!top.empty()) out += row[static_cast<size_t>(top.front())];
      }
      s.class_share(l, h) = static_cast<float>(cls / N);
      s.register_share(l, h) = static_cast<float>(reg / N);
      s.outlier_share(l, h) = static_cast<float>(out / N);
    }
  }
  return s;
}

HeadStatistics head_statistics(const AttentionStack& attention, const TokenSet& tokens) {
  const int L = attention.layers(), H = attention.heads();
  const std::vector<int> patches = tokens.indices_of(TokenKind::Patch);
  const int P = static_cast<int>(patches.size()), cols = std::max(1, tokens.grid.cols);
  const double patch = tokens.grid.patch;
  HeadStatistics s{Matrix::Zero(L, H), Matrix::Zero(L, H)};
  if (P == 0) return s;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      double entropy = 0, distance = 0;
      std::vector<float> row(static_cast<size_t>(attention.keys()));
      for (int i : patches) {
        attention.row(l, h, i, row);
        for (float w : row)
          if (w > 0) entropy -= w * std::log(static_cast<double>(w));
        double mass = 0, dist = 0;
        const int qc = tokens[i].cell % cols, qr = tokens[i].cell / cols;
        for (int j : patches) {
          const int kc = tokens[j].cell % cols, kr = tokens[j].cell / cols;
          const double w = row[static_cast<size_t>(j)];
          mass += w;
          dist += w * std::hypot(kc - qc, kr - qr) * patch;
        }
        if (mass > 0) distance += dist / mass;
      }
      s.entropy(l, h) = static_cast<float>(entropy / P);
      s.distance(l, h) = static_cast<float>(distance / P);
    }
  return s;
}

}  // namespace attn
