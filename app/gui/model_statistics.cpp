// A Vision Transformer's statistics across the layers: how spread out each
// head's attention is and over what distance it looks; where each layer's
// attention goes (the class token, the registers, the longest token: the
// attention sinks); and how long the tokens are (high-norm artefacts).
#include <algorithm>
#include <cmath>

#include "panels.hpp"

namespace gui {
namespace {

struct Series {
  std::vector<float> values;  // one per layer
  ImU32 colour;
  const char* name = nullptr;  // in the legend; nullptr: none (one line per head)
};

// Lines across the layers (left to right), scaled to their range; a
// vertical line marks `mark` (the layer shown), when >= 0.
void plot(const char* title, const std::vector<Series>& series, float width, float height, const char* unit, int mark) {
  float lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (float v : s.values) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) return;
  ImGui::Text("%s (%.3g to %.3g%s)", title, lo, hi, unit);
  const float pad = std::max(1e-6f, 0.08f * (hi - lo));
  lo -= pad, hi += pad;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + width, p.y + height), ImGui::GetColorU32(ImGuiCol_FrameBg));
  if (const int L = series.empty() ? 0 : static_cast<int>(series.front().values.size()); mark >= 0 && L > 1) {
    const float x = p.x + width * static_cast<float>(mark) / static_cast<float>(L - 1);
    dl->AddLine(ImVec2(x, p.y), ImVec2(x, p.y + height), ImGui::GetColorU32(ImGuiCol_TextDisabled), 2.0f);
  }
  for (const auto& s : series) {
    const int L = static_cast<int>(s.values.size());
    auto at = [&](int l) {
      return ImVec2(p.x + width * (L > 1 ? static_cast<float>(l) / static_cast<float>(L - 1) : 0.5f),
                    p.y + height * (1.0f - (s.values[static_cast<size_t>(l)] - lo) / (hi - lo)));
    };
    for (int l = 0; l < L; ++l) {
      dl->AddCircleFilled(at(l), 3.0f, s.colour);
      if (l > 0) dl->AddLine(at(l - 1), at(l), s.colour, 1.5f);
    }
  }
  ImGui::Dummy(ImVec2(width, height));
  bool first = true;
  for (const auto& s : series) {
    if (!s.name) continue;
    if (!first) ImGui::SameLine();
    first = false;
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.colour), "-- %s", s.name);
  }
}

ImU32 turbo(int i, int n) {
  const attn::Rgb c =
      attn::colormap_table(attn::Colormap::Turbo)[static_cast<size_t>(n > 1 ? 30 + 200 * i / (n - 1) : 128)];
  return IM_COL32(c.r, c.g, c.b, 255);
}

std::vector<float> column_mean(const attn::Matrix& m) {
  std::vector<float> out;
  for (Eigen::Index l = 0; l < m.rows(); ++l) out.push_back(m.row(l).mean());
  return out;
}

}  // namespace

void draw_model_statistics(AppState& state) {
  const VitRun& v = *state.scene.vit;
  const attn::VitResult& r = *v.result;
  const int L = static_cast<int>(v.stats.entropy.rows()), H = static_cast<int>(v.stats.entropy.cols());
  const float width = ImGui::GetContentRegionAvail().x;
  const float height = std::max(48.0f, ImGui::GetTextLineHeight() * 5.0f);
  const int shown = state.settings.view.layer < 0 ? L - 1 : std::min(state.settings.view.layer, L - 1);
  ImGui::TextWrapped(
      "Per layer, left to right (the grey line: layer %d, shown). Entropy and distance: one line per head; early "
      "layers mix near and far heads, late ones focus.",
      shown);
  for (int which = 0; which < 2; ++which) {
    const attn::Matrix& m = which == 0 ? v.stats.entropy : v.stats.distance;
    std::vector<Series> heads;
    for (int h = 0; h < H; ++h) {
      Series s{{}, turbo(h, H)};
      for (int l = 0; l < L; ++l) s.values.push_back(m(l, h));
      heads.push_back(std::move(s));
    }
    plot(which == 0 ? "entropy of the patches' attention" : "mean attention distance", heads, width, height,
         which == 0 ? " nats" : " px", shown);
  }
  // Where the attention goes, mean over heads and every query.
  std::vector<Series> sinks;
  if (r.token_set().first_of(attn::TokenKind::Class) >= 0)
    sinks.push_back({column_mean(v.sinks.class_share), IM_COL32(250, 200, 60, 255), "class token"});
  if (r.registers) sinks.push_back({column_mean(v.sinks.register_share), IM_COL32(120, 200, 255, 255), "registers"});
  sinks.push_back({column_mean(v.sinks.outlier_share), IM_COL32(255, 90, 90, 255), "longest patch token"});
  plot("share of the attention that goes to", sinks, width, height, "", shown);
  // Token norms at each layer's input (then after the last).
  const attn::Matrix& n = r.record.token_norms;
  const auto patches = r.token_set().indices_of(attn::TokenKind::Patch);
  if (n.rows() > 0 && !patches.empty()) {
    Series median{{}, IM_COL32(180, 180, 180, 255), "median patch"},
        longest{{}, IM_COL32(255, 90, 90, 255), "longest patch"};
    for (Eigen::Index l = 0; l < n.rows(); ++l) {
      std::vector<float> values;
      values.reserve(patches.size());
      for (int t : patches) values.push_back(n(l, t));
      std::nth_element(values.begin(), values.begin() + static_cast<long>(values.size() / 2), values.end());
      median.values.push_back(values[values.size() / 2]);
      longest.values.push_back(*std::max_element(values.begin(), values.end()));
    }
    std::vector<Series> norms = {median, longest};
    if (const int cls = r.token_set().first_of(attn::TokenKind::Class); cls >= 0) {
      Series c{{}, IM_COL32(250, 200, 60, 255), "class"};
      for (Eigen::Index l = 0; l < n.rows(); ++l) c.values.push_back(n(l, cls));
      norms.push_back(std::move(c));
    }
    // Row l is the input of layer l; the norms view shows the output of the
    // shown layer, row shown + 1.
    plot("token norms by layer", norms, width, height, "", shown + 1);
    const int outliers = static_cast<int>(attn::high_norm_tokens(r.record, static_cast<int>(n.rows()) - 1).size());
    ImGui::TextWrapped(
        "%d patch token%s after the last layer %s more than 3x the median norm (the \"norms\" view rings them; "
        "\"leave out the longest tokens\" ignores them).",
        outliers, outliers == 1 ? "" : "s", outliers == 1 ? "is" : "are");
  }
}

}  // namespace gui
