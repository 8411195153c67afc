// The step-by-step view: for the selected query, the computation from Q, K
// and V to the weights, with live numbers (for teaching).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "panels.hpp"

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

}  // namespace

void draw_steps(AppState& state) {
  const AttentionSettings& s = state.settings.attention;
  const int shown_head = state.settings.view.head;
  if (!state.scene.model) return;
  const attn::PatchModel& m = *state.scene.model;
  const int q = state.primary_query();
  if (q < 0 || state.primary.heads.empty()) return;
  const int head = std::max(0, shown_head);
  const auto& g = m.grid;
  const attn::HeadResult& r = state.primary.heads[static_cast<size_t>(head)];
  const int n = m.tokens(), dk = static_cast<int>(m.q.front().cols());
  const int dv = m.v.empty() ? 0 : static_cast<int>(m.v.front().cols());

  ImGui::TextWrapped("Query: patch (%d, %d), token %d; head %d of %d%s.", q % g.cols, q / g.cols, q, head, m.heads(),
                     shown_head < 0 ? " (the image shows the mean; steps are per head)" : "");
  ImGui::Separator();
  ImGui::TextWrapped(
      "1. Shapes: Q and K [N = %d, d_k = %d] per head, V [%d, d_v = %d]; the query q is row %d of Q, [1, %d].", n, dk,
      n, dv, q, dk);
  ImGui::TextWrapped("2. Scores: %s", score_formula(s.score));
  ImGui::TextWrapped("3. Divide by the temperature T = %.4g", s.temperature);
  ImGui::TextWrapped("4. Mask: %s%s", std::string(attn::entry_of(s.mask).label).c_str(),
                     s.hidden_keys.empty() ? "" : " + painted keys (hidden keys get weight 0)");
  const attn::AttentionOptions opt = state.attention_options();
  const attn::Norm norm = attn::effective_norm(opt);
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
  ImGui::TextWrapped("max weight %.6f;  sum = %.6f", st.max_weight, sum);
  if (dv > 0 && r.output.size() > 0) {
    ImGui::Text("6. Output o = sum_j w_j v_j: [1, %d]", dv);
    std::string o = "   (";
    for (int c = 0; c < std::min(6, dv); ++c) o += (c ? ", " : "") + std::to_string(r.output(0, c)).substr(0, 7);
    ImGui::TextUnformatted((o + (dv > 6 ? ", ...)" : ")")).c_str());
  }
}

}  // namespace gui
