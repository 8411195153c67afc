// The lower right panel: the step-by-step computation for the selected
// query (for teaching) and the whole attention matrix.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ui.hpp"

namespace gui {
namespace {

const char* score_formula(attn::Score s) {
  switch (s) {
    case attn::Score::ScaledDot:
      return "s_j = q . k_j / sqrt(d_k)";
    case attn::Score::Dot:
      return "s_j = q . k_j";
    case attn::Score::Cosine:
      return "s_j = q . k_j / (|q| |k_j|)";
    case attn::Score::Additive:
      return "s_j = v^T tanh(W_q q + W_k k_j)";
    case attn::Score::Raw:
      return "w_j = q . k_j  (no softmax: weights can be negative and need not sum to 1)";
  }
  return "";
}

void draw_steps(AppState& state) {
  const Settings& s = state.settings;
  if (!state.scene.model) return;
  const attn::PatchModel& m = *state.scene.model;
  const int q = state.primary_query();
  if (q < 0 || state.primary.heads.empty()) return;
  const int head = std::max(0, s.head);
  const auto& g = m.grid;
  const attn::HeadResult& r = state.primary.heads[static_cast<size_t>(head)];
  const int n = m.tokens(), dk = static_cast<int>(m.q.front().cols());
  const int dv = m.v.empty() ? 0 : static_cast<int>(m.v.front().cols());

  ImGui::TextWrapped("Query: patch (%d, %d), token %d; head %d of %d%s.", q % g.cols, q / g.cols, q, head, m.heads(),
                     s.head < 0 ? " (the image shows the mean; steps are per head)" : "");
  ImGui::Separator();
  ImGui::TextWrapped(
      "1. Shapes: Q and K [N = %d, d_k = %d] per head, V [%d, d_v = %d]; the query q is row %d of Q, [1, %d].", n, dk,
      n, dv, q, dk);
  ImGui::TextWrapped("2. Scores: %s", score_formula(s.score));
  ImGui::TextWrapped("3. Divide by the temperature T = %.4g", s.temperature);
  ImGui::TextWrapped("4. Mask: %s%s",
                     s.mask == attn::MaskStructure::None     ? "none"
                     : s.mask == attn::MaskStructure::Causal ? "causal"
                                                             : "local window",
                     s.hidden_keys.empty() ? "" : " + painted keys (hidden keys get weight 0)");
  const attn::Norm norm = s.score == attn::Score::Raw ? attn::Norm::None : s.norm;
  ImGui::TextWrapped("5. Normalise: %s", norm == attn::Norm::Softmax ? "softmax, w_j = exp(s_j/T) / sum_k exp(s_k/T)"
                                         : norm == attn::Norm::Sparsemax ? "sparsemax, w_j = max(s_j/T - tau, 0)"
                                                                         : "none, w_j = s_j / T");
  ImGui::TextUnformatted("The keys with the largest weights:");

  // The keys with the largest weights.
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const int top = std::min(8, n);
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](int a, int b) { return r.weights(0, a) > r.weights(0, b); });
  const attn::AttentionOptions opt = state.attention_options();
  const double sqrt_dk = std::sqrt(static_cast<double>(std::max(dk, 1)));
  if (ImGui::BeginTable("top", 5,
                        ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame)) {
    ImGui::TableSetupColumn("key");
    ImGui::TableSetupColumn(s.score == attn::Score::ScaledDot ? "q . k" : "score");
    ImGui::TableSetupColumn(s.score == attn::Score::ScaledDot ? "/ sqrt(d_k)" : "-");
    ImGui::TableSetupColumn("/ T");
    ImGui::TableSetupColumn("weight");
    ImGui::TableHeadersRow();
    for (int i = 0; i < top; ++i) {
      const int j = order[static_cast<size_t>(i)];
      const double logit = r.logits(0, j);
      const bool visible = opt.mask.allows(q, j);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("(%d,%d)%s", j % g.cols, j / g.cols, j == q ? "*" : "");
      ImGui::TableNextColumn();
      ImGui::Text("%.4f", s.score == attn::Score::ScaledDot ? logit * sqrt_dk : logit);
      ImGui::TableNextColumn();
      if (s.score == attn::Score::ScaledDot)
        ImGui::Text("%.4f", logit);
      else
        ImGui::TextUnformatted("-");
      ImGui::TableNextColumn();
      if (visible)
        ImGui::Text("%.4f", logit / s.temperature);
      else
        ImGui::TextUnformatted("masked");
      ImGui::TableNextColumn();
      ImGui::Text("%.6f", r.weights(0, j));
    }
    ImGui::EndTable();
  }
  // Bars: the top 32 weights, largest first.
  const int bars = std::min(32, n);
  std::partial_sort(order.begin(), order.begin() + bars, order.end(),
                    [&](int a, int b) { return r.weights(0, a) > r.weights(0, b); });
  std::vector<float> values;
  values.reserve(static_cast<size_t>(bars));
  for (int i = 0; i < bars; ++i) values.push_back(r.weights(0, order[static_cast<size_t>(i)]));
  ImGui::PlotHistogram("##bars", values.data(), bars, 0, "the 32 largest weights", 0.0f,
                       std::max(1e-6f, values.empty() ? 1.0f : values.front()),
                       ImVec2(ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeight() * 5));

  const auto st = attn::row_stats(std::span(r.weights.data(), static_cast<size_t>(r.weights.cols())));
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += r.weights(0, j);
  ImGui::TextUnformatted("* the query itself");
  if (st.is_distribution)
    ImGui::TextWrapped("entropy %.3f nats = %.3f bits; effective number of keys exp(entropy) = %.1f of %d",
                       st.entropy_nats, st.entropy_bits, st.effective_keys, n);
  else
    ImGui::TextWrapped("entropy: not defined (the weights are not a distribution)");
  ImGui::Text("max weight %.6f;  sum = %.6f", st.max_weight, sum);
  if (dv > 0 && r.output.size() > 0) {
    ImGui::Text("6. Output o = sum_j w_j v_j: [1, %d]", dv);
    std::string o = "   (";
    for (int c = 0; c < std::min(6, dv); ++c) o += (c ? ", " : "") + std::to_string(r.output(0, c)).substr(0, 7);
    ImGui::TextUnformatted((o + (dv > 6 ? ", ...)" : ")")).c_str());
  }
}

// Per-head statistics of a ViT, one line per head across the layers.
void draw_vit_stats(AppState& state) {
  const auto& v = *state.scene.vit;
  const int L = static_cast<int>(v.stats.entropy.rows()), H = static_cast<int>(v.stats.entropy.cols());
  ImGui::TextWrapped(
      "Per layer (left to right) and head: the mean entropy of the patches' attention, and the mean "
      "distance (pixels) over which they attend. Early layers mix near and far heads; late ones focus.");
  const float width = ImGui::GetContentRegionAvail().x;
  const float height =
      std::max(40.0f, (ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing() * 4) / 2);
  for (int which = 0; which < 2; ++which) {
    const attn::Matrix& m = which == 0 ? v.stats.entropy : v.stats.distance;
    const float pad = std::max(1e-3f, 0.08f * (m.maxCoeff() - m.minCoeff()));
    const float lo = m.minCoeff() - pad, hi = m.maxCoeff() + pad;
    ImGui::Text("%s (%.2f to %.2f)", which == 0 ? "entropy, nats" : "mean attention distance, pixels", m.minCoeff(),
                m.maxCoeff());
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p, ImVec2(p.x + width, p.y + height), ImGui::GetColorU32(ImGuiCol_FrameBg));
    const auto& table = attn::colormap_table(attn::Colormap::Turbo);
    for (int h = 0; h < H; ++h) {
      const attn::Rgb c = table[static_cast<size_t>(H > 1 ? 30 + 200 * h / (H - 1) : 128)];
      for (int l = 0; l < L; ++l) {
        const float x = p.x + width * (L > 1 ? static_cast<float>(l) / (L - 1) : 0.5f);
        const float y = p.y + height * (1.0f - (m(l, h) - lo) / (hi - lo));
        dl->AddCircleFilled(ImVec2(x, y), 3.0f, IM_COL32(c.r, c.g, c.b, 255));
        if (l > 0) {
          const float px = p.x + width * static_cast<float>(l - 1) / (L - 1);
          const float py = p.y + height * (1.0f - (m(l - 1, h) - lo) / (hi - lo));
          dl->AddLine(ImVec2(px, py), ImVec2(x, y), IM_COL32(c.r, c.g, c.b, 200), 1.5f);
        }
      }
    }
    ImGui::Dummy(ImVec2(width, height));
  }
  ImGui::TextUnformatted("one colour per head; layers 0 to L-1 from left to right");
}

void draw_matrix(AppState& state, UiContext& ui) {
  if (!state.matrix) {
    ImGui::TextWrapped("%s", state.busy_label(0.0).empty() ? "The full matrix is not available (see the status bar)."
                                                           : "Computing the full matrix...");
    return;
  }
  const attn::Matrix& m = *state.matrix;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y - ImGui::GetTextLineHeightWithSpacing() * 2));
  float* v = ui.matrix_view;
  ui.matrix.resize(static_cast<int>(side), static_cast<int>(side));
  const int q = state.scene.vit ? (state.settings.vit_view == VitView::Patch ? 1 + state.primary_query() : 0)
                                : state.primary_query();
  ui.renderer.draw_matrix(ui.matrix, state.matrix, state.matrix_revision, state.settings, v, q);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::Image(imgui_texture(ui.matrix.texture()), ImVec2(side, side));
  ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemHovered()) {
    const float fx = (io.MousePos.x - p.x) / side, fy = (io.MousePos.y - p.y) / side;
    const float ux = v[0] + (v[2] - v[0]) * fx, uy = v[1] + (v[3] - v[1]) * fy;
    const int j = std::clamp(static_cast<int>(ux * m.cols()), 0, static_cast<int>(m.cols()) - 1);
    const int i = std::clamp(static_cast<int>(uy * m.rows()), 0, static_cast<int>(m.rows()) - 1);
    ImGui::SetTooltip("query %d -> key %d\nweight %.6f", i, j, m(i, j));
    if (io.MouseWheel != 0.0f) {  // zoom about the mouse
      const float k = std::pow(0.8f, io.MouseWheel);
      const float w =
          std::clamp((v[2] - v[0]) * k, 1.0f / std::max<float>(static_cast<float>(m.cols()), 1.0f) * 8, 1.0f);
      const float x0 = std::clamp(ux - fx * w, 0.0f, 1.0f - w), y0 = std::clamp(uy - fy * w, 0.0f, 1.0f - w);
      v[0] = x0, v[1] = y0, v[2] = x0 + w, v[3] = y0 + w;
    }
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      if (!state.scene.vit)
        state.settings.queries = {i};
      else if (i >= 1 && i <= state.tokens())
        state.settings.queries = {i - 1}, state.settings.vit_view = VitView::Patch;
    }
    if (ImGui::IsMouseDragging(ImGuiMouseButton_Middle)) {
      const float w = v[2] - v[0];
      const float dx = -io.MouseDelta.x / side * w, dy = -io.MouseDelta.y / side * w;
      const float x0 = std::clamp(v[0] + dx, 0.0f, 1.0f - w), y0 = std::clamp(v[1] + dy, 0.0f, 1.0f - w);
      v[0] = x0, v[1] = y0, v[2] = x0 + w, v[3] = y0 + w;
    }
  }
  ImGui::TextWrapped(
      "%lld queries (rows) x %lld keys (columns)%s, %s; each row scaled on its own; the outlined row is the query",
      static_cast<long long>(m.rows()), static_cast<long long>(m.cols()),
      state.scene.vit ? " (class token first, then patches, then registers)" : "",
      state.settings.head < 0 ? "mean of heads" : ("head " + std::to_string(state.settings.head)).c_str());
  ImGui::SameLine();
  if (ImGui::SmallButton("fit")) v[0] = v[1] = 0, v[2] = v[3] = 1;
}

}  // namespace

void draw_lower(AppState& state, UiContext& ui, const Layout& l) {
  begin_panel(ui, "Details", l.lower_pos, l.lower_size);
  if (state.scene.ready() && ImGui::BeginTabBar("details")) {
    // The matrix is computed only while its tab is shown; the choice persists.
    Settings& s = state.settings;
    const ImGuiTabItemFlags first = ui.restore_tab ? ImGuiTabItemFlags_SetSelected : 0;
    const bool want_matrix = s.show_matrix;
    if (ImGui::BeginTabItem(state.scene.vit ? "Head statistics" : "Step by step", nullptr, want_matrix ? 0 : first)) {
      s.show_matrix = false;
      if (state.scene.vit)
        draw_vit_stats(state);
      else
        draw_steps(state);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Attention matrix", nullptr, want_matrix ? first : 0)) {
      s.show_matrix = true;
      draw_matrix(state, ui);
      ImGui::EndTabItem();
    }
    ui.restore_tab = false;
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace gui
