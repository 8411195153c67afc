// A Vision Transformer's per-head statistics across the layers: how spread
// out each head's attention is, and over what distance it looks.
#include <algorithm>

#include "panels.hpp"

namespace gui {

void draw_model_statistics(AppState& state) {
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

}  // namespace gui
